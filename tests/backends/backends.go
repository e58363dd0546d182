// Package backends runs a test on every store backend: bbolt always, and
// DynamoDB Local when WEMEMBER_DYNAMO_ENDPOINT names one (make test starts
// it). Suites call Run so that their subtests are named <Test>/bolt and
// <Test>/dynamo, which make test reports.
package backends

import (
	"context"
	"crypto/rand"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/dynamo"
	"github.com/wemember/wemember/shared/store"
)

// EndpointVar names the DynamoDB Local endpoint.
const EndpointVar = "WEMEMBER_DYNAMO_ENDPOINT"

// Backend is one store backend a suite runs on.
type Backend struct {
	Name string
	// Open returns a fresh, empty store for one test, closed at its end.
	Open func(t testing.TB) store.Store
	// Target is the boot configuration's store setting for a fresh store
	// ("bolt:<path>" or "dynamo:<table>") and the endpoint, if any.
	Target func(t testing.TB) (storeSetting, endpoint string)
}

// All lists the backends.
func All() []Backend {
	return []Backend{
		{Name: "bolt", Open: openBolt, Target: func(t testing.TB) (string, string) {
			return "bolt:" + t.TempDir() + "/wemember.db", ""
		}},
		{Name: "dynamo", Open: openDynamo, Target: func(t testing.TB) (string, string) {
			_, table, endpoint := Table(t)
			return "dynamo:" + table, endpoint
		}},
	}
}

// Run runs f as a subtest per backend, or per backend named in only when
// given: a suite whose own package runs it on bbolt runs here on "dynamo"
// only, so that make test runs it once per backend.
func Run(t *testing.T, f func(t *testing.T, b Backend), only ...string) {
	for _, b := range All() {
		if len(only) > 0 && !slices.Contains(only, b.Name) {
			continue
		}
		t.Run(b.Name, func(t *testing.T) { f(t, b) })
	}
}

func openBolt(t testing.TB) store.Store {
	s, err := bolt.Open(t.TempDir() + "/store.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openDynamo(t testing.TB) store.Store {
	client, table, _ := Table(t)
	return dynamo.New(client, table)
}

// Table creates a fresh table on DynamoDB Local for one test, deleted at its
// end, or skips the test when no endpoint is configured.
func Table(t testing.TB) (*dynamodb.Client, string, string) {
	t.Helper()
	endpoint := os.Getenv(EndpointVar)
	if endpoint == "" {
		t.Skipf("%s is not set: `make test` starts DynamoDB Local and sets it", EndpointVar)
	}
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") && !strings.HasPrefix(endpoint, "http://localhost:") {
		t.Fatalf("%s = %q; tests talk to a loopback DynamoDB Local only", EndpointVar, endpoint)
	}
	client := dynamodb.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	})
	table := "t-" + strings.ToLower(rand.Text())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := dynamo.CreateTable(ctx, client, table); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &table})
	})
	return client, table, endpoint
}
