package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// Ticket is a call let through by a look at its window's counts and not
// counted yet: the count is an Add that rides in the caller's own atomic
// write (Mutations), or is written alone (Commit). A command that writes
// anyway so counts its call without a write of its own. The count is
// bounded by the shard's share as Allow's is, so the limit holds exactly
// in the store; a call let through while its window fills up concurrently
// is refused when its write finds the shards full (Lost).
type Ticket struct {
	l      *Limiter
	pk     string
	end    time.Time
	refuse error
	caps   []int64
	room   []bool // Shards seen with room, by index.
	shard  int
}

// Reserve looks at a client's count within a scope against lim and, when
// the window has room, returns the Ticket that counts the call; it fails
// with errs.RateLimited and an *Exceeded cause when the window is full, as
// Allow does. It reads the window's counter shards with one query, or
// nothing when this instance found them all full before. A zero Limit
// allows every call: the ticket is nil, counts nothing and writes nothing.
// A store failure is returned as the store's error.
func (l *Limiter) Reserve(ctx context.Context, scope, client string, lim Limit) (*Ticket, error) {
	const op = "ratelimit.Reserve"
	if lim.Calls <= 0 || lim.Window <= 0 {
		return nil, nil
	}
	now := l.now()
	start := now.Truncate(lim.Window)
	end := start.Add(lim.Window)
	n := min(l.shards, lim.Calls)
	t := &Ticket{l: l, end: end, caps: make([]int64, n), room: make([]bool, n),
		pk:     "ratelimit#" + scope + "#" + l.key(client) + "#" + strconv.FormatInt(start.Unix(), 10),
		refuse: errs.E(op, errs.RateLimited, "too many requests, retry later", &Exceeded{Wait: end.Sub(now)})}
	known := l.known(t.pk, now)
	for s := range n {
		t.caps[s] = share(lim.Calls, n, s)
		t.room[s] = known&(1<<s) == 0
	}
	if known == 1<<n-1 {
		return nil, t.refuse
	}
	page, err := l.st.Query(ctx, store.Query{PK: t.pk, Prefix: "shard#", Limit: n})
	if err != nil {
		return nil, errs.E(op, err)
	}
	for _, it := range page.Items {
		var s int
		if _, err := fmt.Sscanf(it.SK, "shard#%02d", &s); err != nil || s >= n {
			continue
		}
		if it.N >= t.caps[s] {
			t.room[s] = false
			l.remember(t.pk, s, end, now)
		}
	}
	t.shard = l.pick(n)
	if !t.next() {
		return nil, t.refuse
	}
	return t, nil
}

// next moves the ticket to the first shard with room from its current one;
// false when there is none.
func (t *Ticket) next() bool {
	n := len(t.room)
	for i := range n {
		if s := (t.shard + i) % n; t.room[s] {
			t.shard = s
			return true
		}
	}
	return false
}

func (t *Ticket) key() store.Key { return store.K(t.pk, fmt.Sprintf("shard#%02d", t.shard)) }

// Mutations is the count, for the caller's atomic write: one Add, bounded
// by the shard's share, expiring with the window.
func (t *Ticket) Mutations() []store.Mutation {
	if t == nil {
		return nil
	}
	return []store.Mutation{store.Add(t.key(), 1).AtMost(t.caps[t.shard]).ExpiresAt(t.end)}
}

// Lost is told the key whose condition failed the caller's write. When it
// is the ticket's shard, which filled up meanwhile, the ticket moves to
// another shard with room (mine, nil: write again) or, with none left,
// fails with the refusal Reserve would have given.
func (t *Ticket) Lost(k store.Key) (mine bool, err error) {
	if t == nil || k != t.key() {
		return false, nil
	}
	t.room[t.shard] = false
	t.l.remember(t.pk, t.shard, t.end, t.l.now())
	if !t.next() {
		return true, t.refuse
	}
	return true, nil
}

// Written is told that the count was written.
func (t *Ticket) Written() {}

// Commit writes the count alone, for a call whose command writes nothing
// else (a login that failed, a member with nothing to change). It fails as
// Lost does when the window filled up meanwhile.
func (t *Ticket) Commit(ctx context.Context) error {
	const op = "ratelimit.Commit"
	if t == nil {
		return nil
	}
	for {
		err := t.l.st.Write(ctx, t.Mutations()...)
		if err == nil {
			return nil
		}
		k, ok := store.FailedKey(err)
		if !ok {
			return errs.E(op, err)
		}
		mine, lerr := t.Lost(k)
		if !mine {
			return errs.E(op, errs.Internal, err)
		}
		if lerr != nil {
			return lerr
		}
	}
}
