package loyalty_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/loyalty/loyaltytest"
	"github.com/wemember/wemember/shared/store"
)

// openBolt opens a fresh bbolt store. Its file lives in RAM (/dev/shm) when
// the machine has it, so the suite measures the engine and not the disk's
// fsync (about 5 ms a write here); set LOYALTY_BOLT_DISK=1 to use the disk.
func openBolt(tb testing.TB) store.Store {
	tb.Helper()
	dir := tb.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() && os.Getenv("LOYALTY_BOLT_DISK") == "" {
		d, err := os.MkdirTemp("/dev/shm", "loyalty-test-")
		if err != nil {
			tb.Fatalf("MkdirTemp: %v", err)
		}
		tb.Cleanup(func() { os.RemoveAll(d) })
		dir = d
	}
	s, err := bolt.Open(filepath.Join(dir, "loyalty.db"))
	if err != nil {
		tb.Fatalf("bolt.Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// TestSuiteBolt runs the loyalty behaviour suite on bbolt.
func TestSuiteBolt(t *testing.T) {
	loyaltytest.RunSuite(t, func(t *testing.T) store.Store { return openBolt(t) })
}

// BenchmarkEarn measures Earn on bbolt.
func BenchmarkEarn(b *testing.B) { loyaltytest.BenchEarn(b, openBolt(b)) }

// BenchmarkSpend measures Spend on bbolt.
func BenchmarkSpend(b *testing.B) { loyaltytest.BenchSpend(b, openBolt(b)) }

// BenchmarkExpireDue measures ExpireDue items/s on bbolt over b.N due lots.
func BenchmarkExpireDue(b *testing.B) { loyaltytest.BenchExpireDue(b, openBolt(b), 0) }
