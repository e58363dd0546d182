package fraud_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/fraud/fraudtest"
	"github.com/wemember/wemember/shared/store"
)

func openBolt(tb testing.TB, now func() time.Time) store.Store {
	tb.Helper()
	s, err := bolt.Open(filepath.Join(tb.TempDir(), "fraud.db"), bolt.WithClock(now))
	if err != nil {
		tb.Fatalf("bolt.Open: %v", err)
	}
	return s
}

// TestSuite runs the anti-fraud rules against bbolt.
func TestSuite(t *testing.T) { fraudtest.RunSuite(t, openBolt) }

// BenchmarkAssess measures a redemption's anti-fraud read and write on
// bbolt, one at a time and 16 at once over 16 spike partitions and one.
func BenchmarkAssess(b *testing.B) {
	b.Run("serial", func(b *testing.B) { fraudtest.BenchAssess(b, openBolt) })
	for _, shards := range []int{16, 1} {
		b.Run(fmt.Sprintf("parallel/shards=%d", shards), func(b *testing.B) {
			fraudtest.BenchAssessParallel(b, openBolt, shards)
		})
	}
}
