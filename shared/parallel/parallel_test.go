package parallel_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/parallel"
)

func TestEachNeverExceedsItsBound(t *testing.T) {
	for _, limit := range []int{1, 3, 8} {
		var running, most atomic.Int64
		var mu sync.Mutex
		seen := map[int]bool{}
		err := parallel.Each(context.Background(), limit, 40, func(ctx context.Context, i int) error {
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(time.Millisecond)
			running.Add(-1)
			mu.Lock()
			seen[i] = true
			mu.Unlock()
			return nil
		})
		if err != nil {
			t.Errorf("limit %d: Each = %v, want nil", limit, err)
		}
		if got := most.Load(); got > int64(limit) || got < 1 {
			t.Errorf("limit %d: up to %d calls ran at once", limit, got)
		}
		if len(seen) != 40 {
			t.Errorf("limit %d: %d of 40 indexes ran", limit, len(seen))
		}
	}
}

func TestEachReturnsTheFirstErrorAndSkipsTheRest(t *testing.T) {
	first := errors.New("row 3 failed")
	var calls atomic.Int64
	err := parallel.Each(context.Background(), 2, 1000, func(ctx context.Context, i int) error {
		calls.Add(1)
		switch {
		case i == 3:
			return first
		case i > 3:
			<-ctx.Done() // The others see the failure as a cancelled context.
			return errors.New("later failure")
		}
		return nil
	})
	if !errors.Is(err, first) {
		t.Errorf("Each = %v, want the first failure %v", err, first)
	}
	if n := calls.Load(); n > 10 {
		t.Errorf("%d calls ran after a failure, want the rest skipped", n)
	}
}

func TestEachStopsWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int64
	err := parallel.Each(ctx, 2, 100, func(ctx context.Context, i int) error {
		if calls.Add(1) == 4 {
			cancel()
		}
		return nil
	})
	if !errs.Is(errs.Transient, err) || !errors.Is(err, context.Canceled) {
		t.Errorf("Each with a cancelled context = %v, want a transient context.Canceled", err)
	}
	if n := calls.Load(); n > 10 {
		t.Errorf("%d calls ran after the context ended", n)
	}
	if err := parallel.Each(context.Background(), 4, 0, func(context.Context, int) error { return errors.New("no") }); err != nil {
		t.Errorf("Each over nothing = %v, want nil", err)
	}
}
