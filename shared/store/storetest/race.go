package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// racers is how many goroutines each race test starts.
const racers = 50

// race runs fn(i) on racers goroutines at once and waits for them all.
func race(fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

// counter is the JSON document the read-modify-write race increments.
type counter struct {
	Count int64 `json:"count"`
}

// testRaceVersion: goroutines racing read-modify-write with IfVersion lose
// no update, and exactly one write wins each version.
func testRaceVersion(t *testing.T, s store.Store, pk string) {
	k := store.K(pk, "counter")
	var mu sync.Mutex
	winners := map[int64]int{} // Version written on → winner.
	var conflicts atomic.Int64
	race(func(i int) {
		for attempt := 0; attempt < 10*racers; attempt++ {
			var c counter
			it, err := store.GetJSON(ctx(t), s, k, &c)
			if err != nil && !errs.Is(errs.NotExist, err) {
				t.Errorf("racer %d: Get: %v", i, err)
				return
			}
			c.Count++
			err = s.Write(ctx(t), store.PutJSON(k, c).IfVersion(it.Version))
			switch {
			case err == nil:
				mu.Lock()
				if w, dup := winners[it.Version]; dup {
					t.Errorf("racers %d and %d both won version %d", w, i, it.Version)
				}
				winners[it.Version] = i
				mu.Unlock()
				return
			case errs.Is(errs.Conflict, err):
				conflicts.Add(1)
			default:
				t.Errorf("racer %d: Write: %v", i, err)
				return
			}
		}
		t.Errorf("racer %d never won", i)
	})
	var c counter
	it, err := store.GetJSON(ctx(t), s, k, &c)
	if err != nil || c.Count != racers || it.Version != racers {
		t.Errorf("final = %+v, version %d, %v; want count and version %d", c, it.Version, err, racers)
	}
	if len(winners) != racers {
		t.Errorf("%d distinct winning versions; want %d", len(winners), racers)
	}
	t.Logf("%d conflicts retried", conflicts.Load())
}

// testRaceAbsent: of goroutines racing to create one item, exactly one wins.
func testRaceAbsent(t *testing.T, s store.Store, pk string) {
	k := store.K(pk, "claim")
	var wins atomic.Int64
	var winner atomic.Value
	race(func(i int) {
		data := fmt.Sprintf("racer-%d", i)
		err := s.Write(ctx(t), store.Put(k, []byte(data)).IfAbsent(), store.Add(store.K(pk, data), 1))
		switch {
		case err == nil:
			wins.Add(1)
			winner.Store(data)
		case errs.Is(errs.Conflict, err):
			if got, ok := store.FailedKey(err); !ok || got != k {
				t.Errorf("racer %d: failed key = %s, %v; want %s", i, got, ok, k)
			}
			if _, err := s.Get(ctx(t), store.K(pk, data)); !errs.Is(errs.NotExist, err) {
				t.Errorf("racer %d lost but its second item exists (%v)", i, err)
			}
		default:
			t.Errorf("racer %d: Write: %v", i, err)
		}
	})
	if wins.Load() != 1 {
		t.Fatalf("%d winners; want exactly 1", wins.Load())
	}
	w, _ := winner.Load().(string)
	wantItem(t, s, k, 1, w, 0)
	wantItem(t, s, store.K(pk, w), 1, "", 1)
}

// testRaceAdd: concurrent adds to one counter sum exactly.
func testRaceAdd(t *testing.T, s store.Store, pk string) {
	k := store.K(pk, "hits")
	const each = 4
	race(func(i int) {
		for range each {
			if err := s.Write(ctx(t), store.Add(k, 2)); err != nil {
				t.Errorf("racer %d: Add: %v", i, err)
				return
			}
		}
	})
	it := mustGet(t, s, k)
	if it.N != 2*each*racers || it.Version != each*racers {
		t.Errorf("N = %d, version %d; want %d, %d", it.N, it.Version, 2*each*racers, each*racers)
	}
}

// testRaceStock: a bounded counter is never pushed past its bound, however
// many buyers race for the last units.
func testRaceStock(t *testing.T, s store.Store, pk string) {
	const stock = 100
	k := store.K(pk, "sold")
	var sold, refused atomic.Int64
	race(func(i int) {
		for range 3 { // 150 attempts for 100 units.
			err := s.Write(ctx(t), store.Add(k, 1).AtMost(stock))
			switch {
			case err == nil:
				sold.Add(1)
			case errs.Is(errs.Conflict, err):
				refused.Add(1)
			default:
				t.Errorf("racer %d: Add: %v", i, err)
				return
			}
		}
	})
	if it := mustGet(t, s, k); sold.Load() != stock || it.N != stock || refused.Load() != 3*racers-stock {
		t.Errorf("sold %d, refused %d, N = %d; want %d sold, %d refused", sold.Load(), refused.Load(), it.N, stock, 3*racers-stock)
	}
}
