package dynamo

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// Query implements store.Store with Query calls of the query's consistency.
//
// The key condition is the partition and, if given, begins_with on the
// prefix; Before and the cursor become the starting key (descending) or a
// stop (ascending), since DynamoDB allows one sort-key condition only.
// Expired items are filtered out, so Query pages through DynamoDB until the
// page is full — plus one live item more, to know whether a cursor is due:
// Next is set exactly when another live item follows. A cursor is
// store.EncodeCursor of the last sort key, the same on every backend.
func (s *Store) Query(ctx context.Context, q store.Query) (store.Page, error) {
	const op = "dynamo.Query"
	if err := store.ValidQuery(op, q); err != nil {
		return store.Page{}, err
	}
	limit := q.Limit
	if limit <= 0 || limit > store.MaxPage {
		limit = store.MaxPage
	}
	var after string
	if q.After != "" {
		var err error
		if after, err = store.DecodeCursor(op, q.After); err != nil {
			return store.Page{}, err
		}
	}
	start, ok := startKey(q, after)
	if !ok {
		return store.Page{}, nil
	}

	now := s.now()
	e := newExprs(now.Unix())
	cond := e.n(attrPK) + " = " + e.v("pk", &types.AttributeValueMemberS{Value: q.PK})
	if q.Prefix != "" {
		cond += " AND begins_with(" + e.n(attrSK) + ", " + e.v("prefix", &types.AttributeValueMemberS{Value: q.Prefix}) + ")"
	}
	filter := e.notExpired()
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    &cond,
		FilterExpression:          &filter,
		ExpressionAttributeNames:  e.namesOrNil(),
		ExpressionAttributeValues: e.valuesOrNil(),
		ScanIndexForward:          aws.Bool(!q.Desc),
		ConsistentRead:            aws.Bool(q.Consistency == store.Strong),
	}
	if start != "" {
		in.ExclusiveStartKey = key(store.K(q.PK, start))
	}
	var items []store.Item
	for len(items) <= limit {
		in.Limit = aws.Int32(int32(limit + 1 - len(items)))
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return store.Page{}, backendError(op, err)
		}
		done := false
		for _, av := range out.Items {
			it, err := decode(av)
			if err != nil {
				return store.Page{}, errs.E(op, errs.Internal, err)
			}
			if !q.Desc && q.Before != "" && it.SK >= q.Before {
				done = true // Ascending past Before: nothing more to find.
				break
			}
			if store.Live(it.Expires, now) && len(items) <= limit {
				items = append(items, it)
			}
		}
		if done || len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	var page store.Page
	if len(items) > limit {
		items = items[:limit]
		page.Next = store.EncodeCursor(items[limit-1].SK)
	}
	page.Items = items
	return page, nil
}

// startKey is the sort key a query starts after (exclusive), "" to start at
// the beginning of the range; ok is false when the range is empty. The
// starting key must lie within the key condition, so with a prefix it is
// clamped to the keys that carry it.
func startKey(q store.Query, after string) (start string, ok bool) {
	if !q.Desc {
		// Ascending: continue after the cursor; Before is a stop.
		if q.Before != "" && after != "" && after >= q.Before {
			return "", false
		}
		if after == "" || q.Prefix == "" || strings.HasPrefix(after, q.Prefix) {
			return after, true
		}
		if after < q.Prefix {
			return "", true // Before every key with the prefix.
		}
		return "", false // After every key with the prefix.
	}
	// Descending: start below the smaller of Before and the cursor.
	upper := q.Before
	if after != "" && (upper == "" || after < upper) {
		upper = after
	}
	if upper == "" || q.Prefix == "" || strings.HasPrefix(upper, q.Prefix) {
		return upper, true
	}
	if upper < q.Prefix {
		return "", false // Below every key with the prefix.
	}
	return "", true // Above every key with the prefix.
}
