package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// maxBatchGet is the most keys one BatchGetItem may ask for.
const maxBatchGet = 100

// GetMany implements store.Store with BatchGetItem, one call per 100
// distinct keys (DynamoDB refuses a key repeated within a call).
//
// DynamoDB may answer only part of a batch, under throttling or past 16 MB
// of items, and hand back the rest as UnprocessedKeys. GetMany asks again
// for those after a jittered pause that grows with each try, as it does for
// a busy write; when keys remain unanswered after every attempt it fails
// with errs.Transient.
func (s *Store) GetMany(ctx context.Context, ks []store.Key, c store.Consistency) ([]store.Item, error) {
	const op = "dynamo.GetMany"
	var distinct []store.Key
	found := make(map[store.Key]store.Item, len(ks))
	for _, k := range ks {
		if err := store.ValidKey(op, k); err != nil {
			return nil, err
		}
		if _, dup := found[k]; !dup {
			found[k] = store.Item{Key: k}
			distinct = append(distinct, k)
		}
	}
	now := s.now()
	for start := 0; start < len(distinct); start += maxBatchGet {
		chunk := distinct[start:min(start+maxBatchGet, len(distinct))]
		items, err := s.batchGet(ctx, op, chunk, c == store.Strong)
		if err != nil {
			return nil, err
		}
		for _, av := range items {
			it, err := decode(av)
			if err != nil {
				return nil, errs.E(op, errs.Internal, err)
			}
			if store.Live(it.Expires, now) {
				found[it.Key] = it
			}
		}
	}
	out := make([]store.Item, len(ks))
	for i, k := range ks {
		out[i] = found[k]
	}
	return out, nil
}

// batchGet reads up to maxBatchGet distinct keys, asking again for the
// unprocessed ones until every key is answered or the attempts run out.
func (s *Store) batchGet(ctx context.Context, op string, ks []store.Key, consistent bool) ([]map[string]types.AttributeValue, error) {
	keys := make([]map[string]types.AttributeValue, len(ks))
	for i, k := range ks {
		keys[i] = key(k)
	}
	ask := map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(consistent)}}
	var items []map[string]types.AttributeValue
	for attempt := 0; ; attempt++ {
		out, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: ask})
		if err != nil {
			return nil, backendError(op, err)
		}
		items = append(items, out.Responses[s.table]...)
		ask = out.UnprocessedKeys
		left := len(ask[s.table].Keys)
		if left == 0 {
			return items, nil
		}
		if attempt+1 >= s.attempts {
			return nil, errs.E(op, errs.Transient, "the store is busy; try again",
				fmt.Errorf("%d of %d keys unanswered after %d attempts", left, len(ks), s.attempts))
		}
		if err := s.pause(ctx, attempt); err != nil {
			return nil, errs.E(op, errs.Transient, err)
		}
	}
}
