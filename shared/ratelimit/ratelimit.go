// Package ratelimit bounds how many calls a client (an IP address, say) may
// make per window, counted in the store so every instance of a function
// shares one count.
//
// A client's count for one window is split over a few counter shards, each
// allowed its share of the limit: a call adds one to a shard that still has
// room, with one conditional write, so a busy client (many people behind one
// carrier NAT) does not serialize on one item. The shards carry the window's
// end as their expiry and disappear with it.
//
//	ratelimit#<scope>#<client>#<window start, Unix s> | shard#<i>   N = calls counted
package ratelimit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// Limit is how many calls one client may make per window. A zero Limit
// allows every call.
type Limit struct {
	Calls  int           // At most this many calls…
	Window time.Duration // …per window; windows are aligned to the Unix epoch.
}

// Exceeded is why a call was refused: the client may call again after
// Wait, when the window ends (an HTTP answer says it in Retry-After).
type Exceeded struct{ Wait time.Duration }

func (e *Exceeded) Error() string { return fmt.Sprintf("rate limit reached; retry in %s", e.Wait) }

// RetryAfter is how long the client should wait.
func (e *Exceeded) RetryAfter() time.Duration { return e.Wait }

// DefaultShards is how many counter shards a client's window gets (fewer
// when the limit is smaller).
const DefaultShards = 4

// maxRemembered bounds the windows an instance remembers as full.
const maxRemembered = 10000

// Limiter counts calls against limits. It is safe for concurrent use.
type Limiter struct {
	st     store.Store
	now    func() time.Time
	shards int
	pick   func(n int) int
	key    func(client string) string

	mu   sync.Mutex
	full map[string]fullShards // Windows with shards known full, by partition key.
}

// fullShards are the shards of one window found full, and the window's end.
type fullShards struct {
	mask uint64
	end  time.Time
}

// Option configures a Limiter.
type Option func(*Limiter)

// WithShards sets how many counter shards a client's window gets (1 to 64).
func WithShards(n int) Option { return func(l *Limiter) { l.shards = min(max(n, 1), 64) } }

// WithPick sets the source of the first shard a call tries, a number in
// [0, n); random by default.
func WithPick(pick func(n int) int) Option { return func(l *Limiter) { l.pick = pick } }

// WithClientKey sets how a client is written into keys, e.g. a keyed hash
// so that no IP address rests in the store; as given by default.
func WithClientKey(key func(client string) string) Option {
	return func(l *Limiter) { l.key = key }
}

// New returns a Limiter over a store, reading time from now.
func New(st store.Store, now func() time.Time, opts ...Option) *Limiter {
	l := &Limiter{st: st, now: now, shards: DefaultShards, pick: rand.IntN,
		key: func(c string) string { return c }, full: map[string]fullShards{}}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Allow counts one call of a client within a scope (a function's name)
// against lim. It returns nil when the call is within the limit, and
// errs.RateLimited with an *Exceeded cause when the client has used up the
// window: refused calls are not counted. Once an instance has found a
// window full it refuses further calls in it without asking the store. A
// store failure is returned as the store's error (errs.Transient, …).
func (l *Limiter) Allow(ctx context.Context, scope, client string, lim Limit) error {
	const op = "ratelimit.Allow"
	if lim.Calls <= 0 || lim.Window <= 0 {
		return nil
	}
	now := l.now()
	start := now.Truncate(lim.Window)
	end := start.Add(lim.Window)
	pk := "ratelimit#" + scope + "#" + l.key(client) + "#" + strconv.FormatInt(start.Unix(), 10)
	n := min(l.shards, lim.Calls)
	refuse := errs.E(op, errs.RateLimited, "too many requests, retry later", &Exceeded{Wait: end.Sub(now)})
	known := l.known(pk, now)
	first := l.pick(n)
	for i := range n {
		s := (first + i) % n
		if known&(1<<s) != 0 {
			continue
		}
		k := store.K(pk, fmt.Sprintf("shard#%02d", s))
		err := l.st.Write(ctx, store.Add(k, 1).AtMost(share(lim.Calls, n, s)).ExpiresAt(end))
		if err == nil {
			return nil
		}
		if !errs.Is(errs.Conflict, err) {
			return errs.E(op, err)
		}
		known = l.remember(pk, s, end, now)
	}
	return refuse
}

// share is how many of calls shard i of n counts: the shares sum to calls.
func share(calls, n, i int) int64 {
	s := calls / n
	if i < calls%n {
		s++
	}
	return int64(s)
}

// known is the mask of shards of window pk this instance found full.
func (l *Limiter) known(pk string, now time.Time) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.full[pk]
	if !ok || !now.Before(f.end) {
		return 0
	}
	return f.mask
}

// remember notes that shard s of window pk is full and returns the mask of
// full shards. Counts only grow within a window, so a full shard stays
// full until the window ends.
func (l *Limiter) remember(pk string, s int, end, now time.Time) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.full) >= maxRemembered {
		for k, f := range l.full {
			if !now.Before(f.end) {
				delete(l.full, k)
			}
		}
		if len(l.full) >= maxRemembered {
			clear(l.full)
		}
	}
	f := l.full[pk]
	f.mask |= 1 << s
	f.end = end
	l.full[pk] = f
	return f.mask
}
