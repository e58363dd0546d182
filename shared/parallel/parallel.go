// Package parallel runs independent pieces of one job a bounded number at a
// time: enough to hide a remote store's latency, few enough not to swamp it
// or a single-writer local store.
package parallel

import (
	"context"
	"sync"

	"github.com/wemember/wemember/shared/errs"
)

// Each calls f for 0…n-1 on at most limit goroutines at once and waits for
// them. The first failure cancels the context the other calls see, skips
// the calls not yet started and is returned. When ctx ends before every call
// ran, and none failed, Each returns ctx's error as errs.Transient.
func Each(ctx context.Context, limit, n int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		done  int
	)
	next := make(chan int)
	for range min(max(limit, 1), n) {
		wg.Go(func() {
			for i := range next {
				if ctx.Err() != nil {
					continue
				}
				err := f(ctx, i)
				mu.Lock()
				done++
				if err != nil && first == nil {
					first = err
					cancel()
				}
				mu.Unlock()
			}
		})
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if first == nil && done < n {
		first = errs.E(errs.Transient, ctx.Err())
	}
	return first
}
