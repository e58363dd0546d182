// Package cached keeps a value a process read from the store for a short
// while, so that a hot path (every arrival, every sign-in) does not read a
// rarely changed item (the member rules, the loyalty rules) again and again.
package cached

import (
	"sync"
	"time"
)

// Value is a value kept for a while after it was read. A change the process
// makes itself is kept at once (Set), so that process sees it immediately;
// other processes see it once their copy is older than the TTL they keep it
// for. The zero Value is empty and ready to use; it is safe for concurrent
// use and must not be copied after first use.
type Value[T any] struct {
	mu   sync.Mutex
	v    T
	at   time.Time // When v was read or set; zero while empty.
	sets uint64    // Counts Set, so a read begun before a Set does not replace what it kept.
}

// Get returns the value kept when it was read less than ttl before now, and
// otherwise calls read and keeps its answer as of now. A clock that went back
// before the copy was read makes it stale too. An error from read is
// returned and nothing is kept.
func (c *Value[T]) Get(now time.Time, ttl time.Duration, read func() (T, error)) (T, error) {
	c.mu.Lock()
	if !c.at.IsZero() && !now.Before(c.at) && now.Sub(c.at) < ttl {
		v := c.v
		c.mu.Unlock()
		return v, nil
	}
	sets := c.sets
	c.mu.Unlock()
	v, err := read()
	if err != nil {
		var zero T
		return zero, err
	}
	c.mu.Lock()
	if c.sets == sets {
		c.v, c.at = v, now
	}
	c.mu.Unlock()
	return v, nil
}

// Set keeps v as read at now: what the process itself just stored, in force
// for it at once.
func (c *Value[T]) Set(v T, now time.Time) {
	c.mu.Lock()
	c.v, c.at = v, now
	c.sets++
	c.mu.Unlock()
}
