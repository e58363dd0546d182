package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
)

// Write implements store.Store. One mutation that changes an item is one
// PutItem, UpdateItem or DeleteItem; anything else is one TransactWriteItems.
//
// Every condition is evaluated by DynamoDB at the moment of the write, with
// expired items counting as absent. When one fails, DynamoDB hands back the
// item as it was (ReturnValuesOnConditionCheckFailure), and Write judges the
// store's condition against it:
//   - the store's condition failed: the Write fails with a ConditionError;
//   - it held, and only the shape of the request was wrong (an update of an
//     item that had expired, which must instead be replaced by a new one at
//     version 1, or the reverse): Write rebuilds the request and tries again.
//
// A transaction that DynamoDB cancels because another transaction was
// touching the same items (TransactionConflict), or because of throttling,
// applied nothing: its conditions were never judged. Write retries it after
// a short jittered pause, where its conditions are judged afresh against
// the then-current items, so a retried IfVersion still lets exactly one
// writer win each version. Only when every attempt is cancelled that way does
// Write fail, with errs.Transient; the caller may retry the whole command.
//
// The SDK itself repeats a request whose answer was lost. For a transaction
// that is safe (the SDK sends one ClientRequestToken for all its tries), but
// a lone conditional PutItem/UpdateItem that did apply and is repeated sees
// its own change and fails its condition: a rare false Conflict that the
// caller's idempotency handling (re-read, compare) must absorb.
func (s *Store) Write(ctx context.Context, ms ...store.Mutation) error {
	const op = "dynamo.Write"
	if err := store.Validate(op, ms); err != nil {
		return err
	}
	fresh := make([]bool, len(ms)) // Per mutation: believed absent or expired.
	var last error
	for attempt := 0; attempt < s.attempts; attempt++ {
		now := s.now().Unix()
		failed, err := s.apply(ctx, ms, fresh, now)
		var busy *busyError
		switch {
		case err == nil && failed == nil:
			return nil
		case errors.As(err, &busy):
			last = err
			if attempt+1 < s.attempts {
				if err := s.pause(ctx, attempt); err != nil {
					return errs.E(op, errs.Transient, err)
				}
			}
			continue
		case err != nil:
			return backendError(op, err)
		}
		// Some conditions failed: judge the store's conditions.
		idx := make([]int, 0, len(failed))
		for i := range failed {
			idx = append(idx, i)
		}
		slices.Sort(idx)
		for _, i := range idx {
			old, err := s.oldItem(failed[i], now)
			if err != nil {
				return errs.E(op, errs.Internal, err)
			}
			if !holds(ms[i], old) {
				return store.ConditionFailed(op, ms[i].Key)
			}
			fresh[i] = old == nil
		}
		last = errors.New("items changed between attempts")
	}
	return errs.E(op, errs.Transient, "the store is busy; try again", last)
}

// busyError marks a write DynamoDB did not apply because of contention or
// throttling; it is worth repeating.
type busyError struct{ err error }

func (e *busyError) Error() string { return e.err.Error() }
func (e *busyError) Unwrap() error { return e.err }

// apply sends one attempt. It returns the items (as they were, nil if
// absent) of the mutations whose conditions failed, keyed by index; or an
// error, a *busyError when the attempt may simply be repeated.
func (s *Store) apply(ctx context.Context, ms []store.Mutation, fresh []bool, now int64) (map[int]map[string]types.AttributeValue, error) {
	var actions []types.TransactWriteItem
	var index []int // actions[j] is ms[index[j]].
	for i, m := range ms {
		if a := compile(s.table, m, fresh[i], now); a != nil {
			actions = append(actions, *a)
			index = append(index, i)
		}
	}
	if len(actions) == 0 {
		return nil, nil
	}
	if len(actions) == 1 && actions[0].ConditionCheck == nil {
		err := s.single(ctx, actions[0])
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return map[int]map[string]types.AttributeValue{index[0]: ccf.Item}, nil
		}
		if isBusy(err) {
			return nil, &busyError{err}
		}
		return nil, err
	}
	_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: actions})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		if isBusy(err) {
			return nil, &busyError{err}
		}
		return nil, err
	}
	failed := map[int]map[string]types.AttributeValue{}
	busy := false
	for j, r := range tce.CancellationReasons {
		switch code := aws.ToString(r.Code); code {
		case "None", "":
		case "ConditionalCheckFailed":
			if j < len(index) {
				failed[index[j]] = r.Item
			}
		case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
			busy = true
		default:
			cause := fmt.Errorf("transaction cancelled at mutation %d: %s: %s", index[min(j, len(index)-1)], code, aws.ToString(r.Message))
			if strings.Contains(aws.ToString(r.Message), "size has exceeded") {
				return nil, errs.E(errs.TooLarge, "item too large", cause)
			}
			return nil, errs.E(errs.Internal, cause)
		}
	}
	if len(failed) > 0 {
		return failed, nil
	}
	if busy {
		return nil, &busyError{err}
	}
	return nil, err
}

// single sends one action as a plain, non-transactional request.
func (s *Store) single(ctx context.Context, a types.TransactWriteItem) error {
	var err error
	switch {
	case a.Put != nil:
		p := a.Put
		_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: p.TableName, Item: p.Item, ConditionExpression: p.ConditionExpression,
			ExpressionAttributeNames: p.ExpressionAttributeNames, ExpressionAttributeValues: p.ExpressionAttributeValues,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailure(p.ReturnValuesOnConditionCheckFailure),
		})
	case a.Update != nil:
		u := a.Update
		_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression, ConditionExpression: u.ConditionExpression,
			ExpressionAttributeNames: u.ExpressionAttributeNames, ExpressionAttributeValues: u.ExpressionAttributeValues,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailure(u.ReturnValuesOnConditionCheckFailure),
		})
	case a.Delete != nil:
		d := a.Delete
		_, err = s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: d.TableName, Key: d.Key, ConditionExpression: d.ConditionExpression,
			ExpressionAttributeNames: d.ExpressionAttributeNames, ExpressionAttributeValues: d.ExpressionAttributeValues,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailure(d.ReturnValuesOnConditionCheckFailure),
		})
	}
	return err
}

// isBusy reports whether DynamoDB refused a request because of contention
// or throttling, so that it applied nothing and may be repeated.
func isBusy(err error) bool {
	var conflict *types.TransactionConflictException
	var inProgress *types.TransactionInProgressException
	var throttled *types.ProvisionedThroughputExceededException
	var limit *types.RequestLimitExceeded
	var throttling *types.ThrottlingException
	return errors.As(err, &conflict) || errors.As(err, &inProgress) || errors.As(err, &throttled) ||
		errors.As(err, &limit) || errors.As(err, &throttling)
}

// pause sleeps before retry attempt+1: exponential from 5 ms, capped at
// 250 ms, half of it jittered so racing writers spread out.
func (s *Store) pause(ctx context.Context, attempt int) error {
	return retry.Policy{Base: 5 * time.Millisecond, Max: 250 * time.Millisecond, Rand: s.randN}.Pause(ctx, attempt+1)
}

// oldItem decodes the item a failed condition returned, or nil when the item
// was absent or had expired at now.
func (s *Store) oldItem(av map[string]types.AttributeValue, now int64) (*store.Item, error) {
	if len(av) == 0 {
		return nil, nil
	}
	it, err := decode(av)
	if err != nil {
		return nil, err
	}
	if !it.Expires.IsZero() && it.Expires.Unix() <= now {
		return nil, nil
	}
	return &it, nil
}

// holds judges the store's condition of m against the live item old (nil:
// absent), including an Add's bounds.
func holds(m store.Mutation, old *store.Item) bool {
	switch m.Cond {
	case store.IfAbsent:
		if old != nil {
			return false
		}
	case store.IfExists:
		if old == nil {
			return false
		}
	case store.IfVersion:
		if old == nil || old.Version != m.Version {
			return false
		}
	}
	if m.Op == store.OpAdd {
		var n int64
		if old != nil {
			n = old.N
		}
		return inBounds(m, n)
	}
	return true
}
