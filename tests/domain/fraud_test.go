package domain_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/dynamo"
	"github.com/wemember/wemember/shared/fraud/fraudtest"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/tests/backends"
)

// fraudStores open the anti-fraud suite's stores with the suite's clock
// deciding expiry, by backend name.
var fraudStores = map[string]fraudtest.Opener{
	"bolt": func(tb testing.TB, now func() time.Time) store.Store {
		s, err := bolt.Open(tb.TempDir()+"/fraud.db", bolt.WithClock(now))
		if err != nil {
			tb.Fatal(err)
		}
		return s
	},
	"dynamo": func(tb testing.TB, now func() time.Time) store.Store {
		client, table, _ := backends.Table(tb)
		return dynamo.New(client, table, dynamo.WithClock(now))
	},
}

// TestFraudSuite runs the anti-fraud suite on DynamoDB Local (shared/fraud
// runs it on bbolt), with 64 racers as there.
func TestFraudSuite(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		fraudtest.RunSuite(t, fraudStores[b.Name])
	}, "dynamo")
}

// BenchmarkFraudAssess measures a redemption's anti-fraud read and write on
// every backend: one at a time, and 16 at once over 16 spike partitions
// and over one.
func BenchmarkFraudAssess(b *testing.B) {
	for _, be := range backends.All() {
		open := fraudStores[be.Name]
		b.Run(be.Name+"/serial", func(b *testing.B) { fraudtest.BenchAssess(b, open) })
		for _, shards := range []int{16, 1} {
			b.Run(fmt.Sprintf("%s/parallel/shards=%d", be.Name, shards), func(b *testing.B) {
				fraudtest.BenchAssessParallel(b, open, shards)
			})
		}
	}
}
