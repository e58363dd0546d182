package dynamo_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/wemember/wemember/shared/dynamo"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// failing is a Client that answers writes and reads from scripted errors, to
// exercise the failures DynamoDB Local never produces. Calls it does not
// script panic through the nil embedded interface.
type failing struct {
	dynamo.Client
	errs  []error // Returned in turn; nil means success. The last repeats.
	calls int
}

func (f *failing) next() error {
	err := f.errs[min(f.calls, len(f.errs)-1)]
	f.calls++
	return err
}

func (f *failing) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if err := f.next(); err != nil {
		return nil, err
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

func (f *failing) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if err := f.next(); err != nil {
		return nil, err
	}
	return &dynamodb.UpdateItemOutput{}, nil
}

func (f *failing) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if err := f.next(); err != nil {
		return nil, err
	}
	return &dynamodb.GetItemOutput{}, nil
}

func cancelled(codes ...string) error {
	e := &types.TransactionCanceledException{Message: aws.String("Transaction cancelled")}
	for _, c := range codes {
		e.CancellationReasons = append(e.CancellationReasons, types.CancellationReason{Code: aws.String(c)})
	}
	return e
}

func TestWriteFailures(t *testing.T) {
	a, b := store.K("p", "a"), store.K("p", "b")
	pair := []store.Mutation{store.Put(a, []byte("x")), store.Put(b, []byte("y")).IfVersion(3)}
	conflict := &types.TransactionConflictException{Message: aws.String("conflict")}
	failedAt1 := &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{
		{Code: aws.String("None")},
		{Code: aws.String("ConditionalCheckFailed"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "p"}, "sk": &types.AttributeValueMemberS{Value: "b"},
			"ver": &types.AttributeValueMemberN{Value: "4"}, "n": &types.AttributeValueMemberN{Value: "0"},
		}},
	}}
	tests := []struct {
		name      string
		ms        []store.Mutation
		errs      []error
		wantKind  errs.Kind // Other: success.
		wantKey   store.Key // The zero key: no condition failed.
		wantCalls int
	}{
		{"conflict reason retried", pair, []error{cancelled("None", "TransactionConflict"), cancelled("TransactionConflict", "None"), nil}, errs.Other, store.Key{}, 3},
		{"throttled reason retried", pair, []error{cancelled("ThrottlingError", "None"), nil}, errs.Other, store.Key{}, 2},
		{"always busy", pair, []error{cancelled("None", "TransactionConflict")}, errs.Transient, store.Key{}, 4},
		{"single update conflict retried", pair[1:], []error{conflict, conflict, nil}, errs.Other, store.Key{}, 3},
		{"single update always busy", pair[1:], []error{conflict}, errs.Transient, store.Key{}, 4},
		{"condition with old item", pair, []error{failedAt1}, errs.Conflict, b, 1},
		{"single condition", pair[1:], []error{&types.ConditionalCheckFailedException{Message: aws.String("failed")}}, errs.Conflict, b, 1},
		{"too large", pair, []error{&smithy.GenericAPIError{Code: "ValidationException", Message: "Item size has exceeded the maximum allowed size"}}, errs.TooLarge, store.Key{}, 1},
		{"missing table", pair, []error{&types.ResourceNotFoundException{Message: aws.String("no table")}}, errs.Internal, store.Key{}, 1},
		{"network", pair, []error{errors.New("dial tcp: connection refused")}, errs.Transient, store.Key{}, 1},
		{"unknown reason", pair, []error{cancelled("None", "ValidationError")}, errs.Internal, store.Key{}, 1},
		{"too large reason", pair, []error{&types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{
			{Code: aws.String("ValidationError"), Message: aws.String("Item size has exceeded the maximum allowed size")}, {Code: aws.String("None")},
		}}}, errs.TooLarge, store.Key{}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &failing{errs: tc.errs}
			s := dynamo.New(f, "t", dynamo.WithAttempts(4), dynamo.WithRand(func(int64) int64 { return 0 }))
			err := s.Write(context.Background(), tc.ms...)
			if got := errs.KindOf(err); (tc.wantKind == errs.Other && err != nil) || got != tc.wantKind {
				t.Fatalf("Write = %v (kind %v); want kind %v", err, got, tc.wantKind)
			}
			if k, _ := store.FailedKey(err); k != tc.wantKey {
				t.Errorf("failed key = %q; want %q", k, tc.wantKey)
			}
			if f.calls != tc.wantCalls {
				t.Errorf("%d calls; want %d", f.calls, tc.wantCalls)
			}
		})
	}
}

func TestGetFailures(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want errs.Kind
	}{
		{"absent", context.Background(), nil, errs.NotExist},
		{"throttled", context.Background(), &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}, errs.Transient},
		{"cancelled", ctx, context.Canceled, errs.Transient},
		{"bug", context.Background(), &smithy.GenericAPIError{Code: "ValidationException", Message: "Invalid KeyConditionExpression"}, errs.Internal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := dynamo.New(&failing{errs: []error{tc.err}}, "t")
			_, err := s.Get(tc.ctx, store.K("p", "a"))
			if got := errs.KindOf(err); got != tc.want {
				t.Errorf("Get = %v (kind %v); want kind %v", err, got, tc.want)
			}
		})
	}
}
