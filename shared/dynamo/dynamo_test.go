package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/wemember/wemember/shared/dynamo"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/store/storetest"
	"github.com/wemember/wemember/tests/backends"
)

// local returns a client of DynamoDB Local and a fresh table of this test's
// own (see tests/backends), or skips the test when no endpoint is set.
func local(tb testing.TB) (*dynamodb.Client, string) {
	tb.Helper()
	client, table, _ := backends.Table(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Creating it again is harmless.
	if err := dynamo.CreateTable(ctx, client, table); err != nil {
		tb.Fatalf("CreateTable again: %v", err)
	}
	return client, table
}

// TestConformance runs the store conformance suite against DynamoDB Local.
func TestConformance(t *testing.T) {
	t.Run("dynamo", func(t *testing.T) {
		client, table := local(t)
		storetest.Run(t, func(t *testing.T) store.Store { return dynamo.New(client, table) })
	})
}

// BenchmarkStore runs the store benchmarks against DynamoDB Local.
func BenchmarkStore(b *testing.B) {
	client, table := local(b)
	storetest.Bench(b, dynamo.New(client, table))
}
