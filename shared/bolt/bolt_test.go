package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/store/storetest"
)

func open(tb testing.TB) *bolt.Store {
	tb.Helper()
	s, err := bolt.Open(filepath.Join(tb.TempDir(), "store.db"))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return s
}

// TestConformance runs the store conformance suite against bbolt.
func TestConformance(t *testing.T) {
	t.Run("bolt", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
	})
}

// BenchmarkStore runs the store benchmarks against bbolt.
func BenchmarkStore(b *testing.B) {
	s := open(b)
	defer s.Close()
	storetest.Bench(b, s)
}
