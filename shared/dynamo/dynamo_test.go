package dynamo_test

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/wemember/wemember/shared/dynamo"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/store/storetest"
)

// endpointVar names the DynamoDB Local endpoint; tests/dynamodb-local.sh
// start writes it to .cache/dynamodb-local/endpoint.
const endpointVar = "WEMEMBER_DYNAMO_ENDPOINT"

// local returns a client of DynamoDB Local and a fresh table of this test
// binary's own, or skips the test when no endpoint is configured.
func local(tb testing.TB) (*dynamodb.Client, string) {
	tb.Helper()
	endpoint := os.Getenv(endpointVar)
	if endpoint == "" {
		tb.Skipf("%s is not set: start DynamoDB Local with `tests/dynamodb-local.sh start` and export %s=$(cat .cache/dynamodb-local/endpoint) to run the DynamoDB conformance suite", endpointVar, endpointVar)
	}
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") && !strings.HasPrefix(endpoint, "http://localhost:") {
		tb.Fatalf("%s = %q; tests talk to a loopback DynamoDB Local only", endpointVar, endpoint)
	}
	client := dynamodb.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	})
	table := "storetest-" + strings.ToLower(rand.Text())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := dynamo.CreateTable(ctx, client, table); err != nil {
		tb.Fatalf("CreateTable: %v", err)
	}
	// Creating it again is harmless.
	if err := dynamo.CreateTable(ctx, client, table); err != nil {
		tb.Fatalf("CreateTable again: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &table}); err != nil {
			tb.Errorf("DeleteTable: %v", err)
		}
	})
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
