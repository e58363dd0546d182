package ratelimit_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/ratelimit"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/store/storetest"
	"github.com/wemember/wemember/tests/backends"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// counting is a store that counts writes.
type counting struct {
	store.Store
	writes atomic.Int64
}

func (s *counting) Write(ctx context.Context, ms ...store.Mutation) error {
	s.writes.Add(1)
	return s.Store.Write(ctx, ms...)
}

// TestAllowUpToTheLimit checks that a client gets exactly its calls per
// window, that the call over them is refused with the time left in the
// window, that other clients are not affected and that the next window
// starts afresh.
func TestAllowUpToTheLimit(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		ctx := context.Background()
		// 7m30s into a 10-minute window; near real time, which the stores'
		// expiry reads.
		c := &clock{t: time.Now().Truncate(10 * time.Minute).Add(7*time.Minute + 30*time.Second)}
		st := &counting{Store: b.Open(t)}
		l := ratelimit.New(st, c.now)
		lim := ratelimit.Limit{Calls: 100, Window: 10 * time.Minute}
		scope := "test-" + time.Now().Format("150405.000000000")
		for i := range lim.Calls {
			if err := l.Allow(ctx, scope, "198.51.100.7", lim); err != nil {
				t.Fatalf("call %d: %v; want allowed", i+1, err)
			}
		}
		err := l.Allow(ctx, scope, "198.51.100.7", lim)
		if !errs.Is(errs.RateLimited, err) {
			t.Fatalf("call %d: %v; want rate_limited", lim.Calls+1, err)
		}
		var hint interface{ RetryAfter() time.Duration }
		if !errors.As(err, &hint) || hint.RetryAfter() != 2*time.Minute+30*time.Second {
			t.Errorf("refusal %v: want a retry after 2m30s, the rest of the window", err)
		}
		// Refusals once the window is known full cost no writes.
		before := st.writes.Load()
		for range 50 {
			if err := l.Allow(ctx, scope, "198.51.100.7", lim); !errs.Is(errs.RateLimited, err) {
				t.Fatalf("call over the limit: %v; want rate_limited", err)
			}
		}
		if n := st.writes.Load() - before; n != 0 {
			t.Errorf("%d writes for 50 refusals; want 0", n)
		}
		if err := l.Allow(ctx, scope, "203.0.113.10", lim); err != nil {
			t.Errorf("another client: %v; want allowed", err)
		}
		// Another instance (no memory of its own) is refused too.
		other := ratelimit.New(st, c.now)
		if err := other.Allow(ctx, scope, "198.51.100.7", lim); !errs.Is(errs.RateLimited, err) {
			t.Errorf("another instance: %v; want rate_limited", err)
		}
		c.advance(2*time.Minute + 30*time.Second)
		if err := l.Allow(ctx, scope, "198.51.100.7", lim); err != nil {
			t.Errorf("next window: %v; want allowed", err)
		}
	})
}

// TestAllowConcurrent checks that concurrent calls from one client, spread
// over the counter's shards, are allowed exactly up to the limit.
func TestAllowConcurrent(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		ctx := context.Background()
		c := &clock{t: time.Now()}
		st := b.Open(t)
		lim := ratelimit.Limit{Calls: 30, Window: time.Hour}
		scope := "race-" + time.Now().Format("150405.000000000")
		var allowed, refused atomic.Int64
		var wg sync.WaitGroup
		for i := range 60 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l := ratelimit.New(st, c.now) // One instance each: no shared memory.
				err := l.Allow(ctx, scope, "198.51.100.7", lim)
				switch {
				case err == nil:
					allowed.Add(1)
				case errs.Is(errs.RateLimited, err):
					refused.Add(1)
				default:
					t.Errorf("call %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if allowed.Load() != 30 || refused.Load() != 30 {
			t.Errorf("allowed %d, refused %d; want 30 and 30", allowed.Load(), refused.Load())
		}
	})
}

// TestAllowStoreFailure checks that a store failure is reported as such,
// not as a refusal of the client.
func TestAllowStoreFailure(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	st := backends.All()[0].Open(t)
	l := ratelimit.New(st, time.Now)
	err := l.Allow(ctx, "scope", "198.51.100.7", ratelimit.Limit{Calls: 1, Window: time.Minute})
	if err == nil || errs.Is(errs.RateLimited, err) {
		t.Errorf("Allow on a failing store = %v; want the store's error", err)
	}
}

// TestReserveRidesAlong checks that a Ticket looks at the window with one
// query and no write, that its count lands in the caller's own write, that
// the call over the limit is refused by the look, before anything else is
// done, and that a ticket whose shard fills up meanwhile moves to another
// shard or, with none left, is refused.
func TestReserveRidesAlong(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		ctx := context.Background()
		c := &clock{t: time.Now()}
		st := &storetest.Faults{Store: b.Open(t)}
		l := ratelimit.New(st, c.now)
		lim := ratelimit.Limit{Calls: 8, Window: time.Hour}
		scope := "ride-" + time.Now().Format("150405.000000000")
		for i := range lim.Calls {
			before := st.Counts()
			tk, err := l.Reserve(ctx, scope, "198.51.100.7", lim)
			if err != nil {
				t.Fatalf("call %d: %v; want a ticket", i+1, err)
			}
			if got, want := st.Since(before), (storetest.Counts{Queries: 1}); got != want {
				t.Errorf("Reserve asked the store %+v; want %+v", got, want)
			}
			own := store.Put(store.K("command#"+scope, strconv.Itoa(i)), []byte(`{}`))
			if err := st.Write(ctx, append(tk.Mutations(), own)...); err != nil {
				t.Fatalf("call %d: the command's write: %v", i+1, err)
			}
		}
		if _, err := l.Reserve(ctx, scope, "198.51.100.7", lim); !errs.Is(errs.RateLimited, err) {
			t.Fatalf("call %d: %v; want rate_limited", lim.Calls+1, err)
		}
		if _, err := ratelimit.New(st, c.now).Reserve(ctx, scope, "198.51.100.7", lim); !errs.Is(errs.RateLimited, err) {
			t.Errorf("another instance: %v; want rate_limited", err)
		}

		// Two tickets let through by one look, the window one call short:
		// the second finds its shards full when it writes.
		other := "203.0.113.10"
		one := ratelimit.Limit{Calls: 2, Window: time.Hour}
		a, err := ratelimit.New(st, c.now, ratelimit.WithShards(1)).Reserve(ctx, scope, other, one)
		if err != nil {
			t.Fatal(err)
		}
		if err := ratelimit.New(st, c.now, ratelimit.WithShards(1)).Allow(ctx, scope, other, one); err != nil {
			t.Fatal(err)
		}
		bt, err := ratelimit.New(st, c.now, ratelimit.WithShards(1)).Reserve(ctx, scope, other, one)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Commit(ctx); err != nil {
			t.Fatalf("the first ticket: %v", err)
		}
		if err := bt.Commit(ctx); !errs.Is(errs.RateLimited, err) {
			t.Errorf("a ticket over the limit: %v; want rate_limited", err)
		}
	})
}

// TestReserveConcurrent checks that tickets of one client committed at
// once, from instances without shared memory, count exactly up to the limit.
func TestReserveConcurrent(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		ctx := context.Background()
		c := &clock{t: time.Now()}
		st := b.Open(t)
		lim := ratelimit.Limit{Calls: 30, Window: time.Hour}
		scope := "race-ticket-" + time.Now().Format("150405.000000000")
		var allowed, refused atomic.Int64
		var wg sync.WaitGroup
		for i := range 60 {
			wg.Go(func() {
				l := ratelimit.New(st, c.now)
				tk, err := l.Reserve(ctx, scope, "198.51.100.7", lim)
				if err == nil {
					err = tk.Commit(ctx)
				}
				switch {
				case err == nil:
					allowed.Add(1)
				case errs.Is(errs.RateLimited, err):
					refused.Add(1)
				default:
					t.Errorf("call %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if allowed.Load() != 30 || refused.Load() != 30 {
			t.Errorf("allowed %d, refused %d; want 30 and 30", allowed.Load(), refused.Load())
		}
	})
}
