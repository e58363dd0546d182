package dynamo_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/wemember/wemember/shared/dynamo"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// batching is a Client whose BatchGetItem answers from items (every key
// is found, at version 1) but leaves the last keys of a call unanswered
// as UnprocessedKeys, as DynamoDB does under throttling: unanswered[i]
// keys in call i, the last number repeating.
type batching struct {
	dynamo.Client
	unanswered []int
	calls      []*dynamodb.BatchGetItemInput
}

func (b *batching) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	b.calls = append(b.calls, in)
	ask := in.RequestItems["t"]
	if len(ask.Keys) > 100 {
		return nil, fmt.Errorf("%d keys in one call", len(ask.Keys))
	}
	seen := map[string]bool{}
	for _, k := range ask.Keys {
		id := k["pk"].(*types.AttributeValueMemberS).Value + "|" + k["sk"].(*types.AttributeValueMemberS).Value
		if seen[id] {
			return nil, fmt.Errorf("key %s repeated in one call", id)
		}
		seen[id] = true
	}
	left := min(b.unanswered[min(len(b.calls)-1, len(b.unanswered)-1)], len(ask.Keys))
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}
	for _, k := range ask.Keys[:len(ask.Keys)-left] {
		out.Responses["t"] = append(out.Responses["t"], map[string]types.AttributeValue{
			"pk": k["pk"], "sk": k["sk"], "ver": &types.AttributeValueMemberN{Value: "1"}, "n": &types.AttributeValueMemberN{Value: "0"},
		})
	}
	if left > 0 {
		rest := ask
		rest.Keys = ask.Keys[len(ask.Keys)-left:]
		out.UnprocessedKeys = map[string]types.KeysAndAttributes{"t": rest}
	}
	return out, nil
}

func TestGetManyBatches(t *testing.T) {
	keys := func(n int) []store.Key {
		ks := make([]store.Key, n)
		for i := range ks {
			ks[i] = store.K("p", fmt.Sprintf("%03d", i%(n-n/5))) // The last fifth repeats the first keys.
		}
		return ks
	}
	tests := []struct {
		name       string
		keys       []store.Key
		c          store.Consistency
		unanswered []int
		wantKind   errs.Kind // Other: success.
		wantCalls  []int     // Keys asked for per call.
	}{
		{"one call", keys(10), store.Strong, []int{0}, errs.Other, []int{8}},
		{"a call per 100 distinct keys", keys(300), store.Eventual, []int{0}, errs.Other, []int{100, 100, 40}},
		{"unprocessed asked again", keys(10), store.Eventual, []int{5, 2, 0}, errs.Other, []int{8, 5, 2}},
		{"always unprocessed", keys(10), store.Strong, []int{3}, errs.Transient, []int{8, 3, 3, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &batching{unanswered: tc.unanswered}
			s := dynamo.New(b, "t", dynamo.WithAttempts(4), dynamo.WithRand(func(int64) int64 { return 0 }))
			got, err := s.GetMany(context.Background(), tc.keys, tc.c)
			if kind := errs.KindOf(err); (tc.wantKind == errs.Other && err != nil) || kind != tc.wantKind {
				t.Fatalf("GetMany = %v (kind %v); want kind %v", err, kind, tc.wantKind)
			}
			var calls []int
			for _, in := range b.calls {
				calls = append(calls, len(in.RequestItems["t"].Keys))
				if want := tc.c == store.Strong; aws.ToBool(in.RequestItems["t"].ConsistentRead) != want {
					t.Errorf("ConsistentRead = %v; want %v", aws.ToBool(in.RequestItems["t"].ConsistentRead), want)
				}
			}
			if fmt.Sprint(calls) != fmt.Sprint(tc.wantCalls) {
				t.Errorf("keys per call = %v; want %v", calls, tc.wantCalls)
			}
			if err != nil {
				return
			}
			if len(got) != len(tc.keys) {
				t.Fatalf("GetMany gave %d items; want %d", len(got), len(tc.keys))
			}
			for i, it := range got {
				if it.Key != tc.keys[i] || !it.Found() {
					t.Fatalf("item %d = %s, found %v; want %s, found", i, it.Key, it.Found(), tc.keys[i])
				}
			}
		})
	}
}
