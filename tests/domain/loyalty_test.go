package domain_test

import (
	"os"
	"strconv"
	"testing"

	"github.com/wemember/wemember/shared/loyalty/loyaltytest"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/tests/backends"
)

// dynamoWorkers is how many goroutines the concurrent earn/spend test uses
// on DynamoDB Local: every round trip there is a few milliseconds, so 16
// writers on one member mostly collide; 4 still contend on every command.
const dynamoWorkers = 4

// TestLoyaltySuite runs the loyalty behaviour suite on DynamoDB Local
// (shared/loyalty runs it on bbolt).
func TestLoyaltySuite(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		loyaltytest.RunSuite(t, func(t *testing.T) store.Store { return b.Open(t) }, loyaltytest.WithWorkers(dynamoWorkers))
	}, "dynamo")
}

// benchBackends runs f as a sub-benchmark per backend.
func benchBackends(b *testing.B, f func(b *testing.B, st store.Store)) {
	for _, be := range backends.All() {
		b.Run(be.Name, func(b *testing.B) { f(b, be.Open(b)) })
	}
}

// BenchmarkLoyaltyEarn measures Earn on every backend.
func BenchmarkLoyaltyEarn(b *testing.B) { benchBackends(b, loyaltytest.BenchEarn) }

// BenchmarkLoyaltySpend measures Spend on every backend.
func BenchmarkLoyaltySpend(b *testing.B) { benchBackends(b, loyaltytest.BenchSpend) }

// BenchmarkLoyaltyExpireDue measures the points expiry sweep's items/s on
// every backend, over b.N due lots, or over WEMEMBER_SWEEP_BENCH_N lots
// (e.g. 100000) in one pass when that is set.
func BenchmarkLoyaltyExpireDue(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("WEMEMBER_SWEEP_BENCH_N"))
	benchBackends(b, func(b *testing.B, st store.Store) {
		if n > 0 && b.N > 1 {
			b.Skip("WEMEMBER_SWEEP_BENCH_N set: run with -benchtime=1x")
		}
		loyaltytest.BenchExpireDue(b, st, n)
	})
}
