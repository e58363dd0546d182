// Package dynamo is the store.Store adapter over Amazon DynamoDB
// (aws-sdk-go-v2). All items live in one table:
//
//	pk  S  partition key (hash)
//	sk  S  sort key (range)
//	ver N  version
//	d   B  data (absent when empty)
//	n   N  counter
//	ttl N  expiry, epoch seconds: the table's TTL attribute (absent: never)
//
// Writes are single update expressions (`SET d = :d ADD ver :one`), so a
// version grows without a prior read, guarded by condition expressions that
// treat an expired item as absent; several mutations go in one
// TransactWriteItems. Reads are strongly consistent unless the caller asks
// for an eventually consistent one (store.Eventual), and drop expired items
// that DynamoDB's TTL sweeper has not removed yet.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// Client is the part of the DynamoDB API the adapter uses; *dynamodb.Client
// satisfies it, and tests may wrap it to inject failures.
type Client interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

// The attribute names.
const (
	attrPK  = "pk"
	attrSK  = "sk"
	attrVer = "ver"
	attrD   = "d"
	attrN   = "n"
	attrTTL = "ttl"
)

// Store is a store.Store over one DynamoDB table.
type Store struct {
	client   Client
	table    string
	now      func() time.Time
	randN    func(n int64) int64
	attempts int
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock that decides expiry (time.Now by default).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithRand sets the source of retry jitter: randN(n) returns a number in
// [0, n). The default is math/rand/v2's Int64N.
func WithRand(randN func(n int64) int64) Option { return func(s *Store) { s.randN = randN } }

// WithAttempts sets how many times a write that DynamoDB cancelled because of
// a concurrent transaction or throttling is tried before it fails with
// errs.Transient (8 by default).
func WithAttempts(n int) Option {
	return func(s *Store) {
		if n > 0 {
			s.attempts = n
		}
	}
}

// New returns a Store over table, which must exist (see CreateTable). It
// makes no calls.
func New(client Client, table string, opts ...Option) *Store {
	s := &Store{client: client, table: table, now: time.Now, randN: rand.Int64N, attempts: 8}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Close implements store.Store; the client needs no closing.
func (s *Store) Close() error { return nil }

// Get implements store.Store with a strongly consistent read.
func (s *Store) Get(ctx context.Context, k store.Key) (store.Item, error) {
	const op = "dynamo.Get"
	if err := store.ValidKey(op, k); err != nil {
		return store.Item{}, err
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            key(k),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return store.Item{}, backendError(op, err)
	}
	if out.Item == nil {
		return store.Item{}, errs.E(op, errs.NotExist, fmt.Errorf("no item %s", k))
	}
	it, err := decode(out.Item)
	if err != nil {
		return store.Item{}, errs.E(op, errs.Internal, err)
	}
	if !store.Live(it.Expires, s.now()) {
		return store.Item{}, errs.E(op, errs.NotExist, fmt.Errorf("item %s expired", k))
	}
	return it, nil
}

// key is the DynamoDB key of k.
func key(k store.Key) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: k.PK},
		attrSK: &types.AttributeValueMemberS{Value: k.SK},
	}
}

// num renders an integer attribute value.
func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// decode turns a DynamoDB item into a store.Item.
func decode(av map[string]types.AttributeValue) (store.Item, error) {
	var it store.Item
	str := func(name string) (string, error) {
		v, ok := av[name].(*types.AttributeValueMemberS)
		if !ok {
			return "", fmt.Errorf("item without string %s", name)
		}
		return v.Value, nil
	}
	integer := func(name string) (int64, bool, error) {
		v, ok := av[name]
		if !ok {
			return 0, false, nil
		}
		nv, ok := v.(*types.AttributeValueMemberN)
		if !ok {
			return 0, false, fmt.Errorf("attribute %s is not a number", name)
		}
		n, err := strconv.ParseInt(nv.Value, 10, 64)
		if err != nil {
			return 0, false, fmt.Errorf("attribute %s: %w", name, err)
		}
		return n, true, nil
	}
	var err error
	if it.PK, err = str(attrPK); err != nil {
		return store.Item{}, err
	}
	if it.SK, err = str(attrSK); err != nil {
		return store.Item{}, err
	}
	if it.Version, _, err = integer(attrVer); err != nil {
		return store.Item{}, fmt.Errorf("item %s: %w", it.Key, err)
	}
	if it.N, _, err = integer(attrN); err != nil {
		return store.Item{}, fmt.Errorf("item %s: %w", it.Key, err)
	}
	ttl, ok, err := integer(attrTTL)
	if err != nil {
		return store.Item{}, fmt.Errorf("item %s: %w", it.Key, err)
	}
	if ok {
		it.Expires = time.Unix(ttl, 0)
	}
	if v, ok := av[attrD]; ok {
		b, ok := v.(*types.AttributeValueMemberB)
		if !ok {
			return store.Item{}, fmt.Errorf("item %s: data is not binary", it.Key)
		}
		if len(b.Value) > 0 {
			it.Data = b.Value
		}
	}
	return it, nil
}

// backendError translates an SDK error into the store's error kinds. It is
// the one place that knows DynamoDB's error codes, apart from the
// cancellation reasons of a transaction, which Write reads itself.
func backendError(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errs.E(op, errs.Transient, err)
	}
	var classified *errs.Error
	if errors.As(err, &classified) {
		return errs.E(op, err)
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		// Connection failures and exhausted SDK retries.
		return errs.E(op, errs.Transient, err)
	}
	switch api.ErrorCode() {
	case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
		"TransactionConflictException", "TransactionInProgressException",
		"InternalServerError", "ServiceUnavailable", "LimitExceededException":
		return errs.E(op, errs.Transient, err)
	case "ValidationException":
		if strings.Contains(api.ErrorMessage(), "size has exceeded") {
			return errs.E(op, errs.TooLarge, "item too large", err)
		}
	case "ItemCollectionSizeLimitExceededException":
		return errs.E(op, errs.TooLarge, "partition too large", err)
	}
	return errs.E(op, errs.Internal, err)
}

var (
	_ store.Store = (*Store)(nil)
	_ Client      = (*dynamodb.Client)(nil)
)
