// Package retry is how wemember waits before trying again when a command
// lost an optimistic race or found its store busy: pauses that grow
// exponentially up to a bound, half of each jittered so that contenders
// spread out, and never past the context's deadline. Every retry loop uses
// it; only the numbers differ between callers.
package retry

import (
	"context"
	"iter"
	"math/rand/v2"
	"time"
)

// Policy is a backoff. The pause before try n (n ≥ 1) has the ceiling
// Base·2^(n-1), at most Max, and lasts between half the ceiling and the
// ceiling. The zero Policy is the one for races between commands on one
// store: 0.5 ms, doubling to at most 50 ms.
type Policy struct {
	Base time.Duration       // The ceiling of the first pause; default 0.5 ms.
	Max  time.Duration       // The longest pause; default 50 ms.
	Rand func(n int64) int64 // Jitter: a number in [0, n); default math/rand/v2.Int64N.
}

// Delay is the pause before try (zero before the first, try 0).
func (p Policy) Delay(try int) time.Duration {
	if try <= 0 {
		return 0
	}
	base, most, randN := p.Base, p.Max, p.Rand
	if base <= 0 {
		base = 500 * time.Microsecond
	}
	if most <= 0 {
		most = 50 * time.Millisecond
	}
	if randN == nil {
		randN = rand.Int64N
	}
	ceil := most
	if shift := try - 1; shift < 32 && base<<shift > 0 && base<<shift < most {
		ceil = base << shift
	}
	half := ceil / 2
	return half + time.Duration(randN(int64(ceil-half)+1))
}

// Pause waits Delay(try). It returns ctx's error, at the latest when the
// context ends (its deadline), if that comes first.
func (p Policy) Pause(ctx context.Context, try int) error {
	d := p.Delay(try)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Tries yields the tries 0, 1, … n-1 of a retry loop, pausing before each
// but the first; it ends early when the context ends during a pause, so the
// loop's code after it says the command gave up.
func (p Policy) Tries(ctx context.Context, n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for try := range n {
			if try > 0 && p.Pause(ctx, try) != nil {
				return
			}
			if !yield(try) {
				return
			}
		}
	}
}

// Pause waits before try with the zero Policy.
func Pause(ctx context.Context, try int) error { return Policy{}.Pause(ctx, try) }

// Tries is the zero Policy's Tries.
func Tries(ctx context.Context, n int) iter.Seq[int] { return Policy{}.Tries(ctx, n) }
