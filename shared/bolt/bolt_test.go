package bolt_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
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

// TestConcurrentWritesFailAlone writes from many goroutines at once, so
// writes share commits: each write whose condition fails changes nothing,
// and every other one lands whole.
func TestConcurrentWritesFailAlone(t *testing.T) {
	s := open(t)
	defer s.Close()
	ctx := context.Background()
	taken := store.K("p", "taken")
	if err := s.Write(ctx, store.Put(taken, []byte("x"))); err != nil {
		t.Fatal(err)
	}
	const n = 64
	var wg sync.WaitGroup
	errc := make([]error, n)
	for i := range n {
		wg.Go(func() {
			k := store.K("p", fmt.Sprintf("k%02d", i))
			if i%2 == 1 {
				k = taken // Fails: it exists.
			}
			errc[i] = s.Write(ctx, store.Add(store.K("p", "count"), 1), store.Put(k, []byte("y")).IfAbsent())
		})
	}
	wg.Wait()
	for i, err := range errc {
		if k, ok := store.FailedKey(err); (i%2 == 1) != ok || (ok && k != taken) {
			t.Errorf("write %d: %v; want a failed condition on %s for odd writes only", i, err, taken)
		}
	}
	it, err := s.Get(ctx, store.K("p", "count"))
	if err != nil || it.N != n/2 || it.Version != n/2 {
		t.Errorf("count = %+v, %v; want %d adds, one per successful write", it, err, n/2)
	}
	if it, _ := s.Get(ctx, taken); string(it.Data) != "x" || it.Version != 1 {
		t.Errorf("taken = %+v; want it unchanged", it)
	}
}
