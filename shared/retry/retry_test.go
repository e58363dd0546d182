package retry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/retry"
)

// most is a jitter source that always picks the longest pause.
func most(n int64) int64 { return n - 1 }

func TestPauseGrowsAndIsBounded(t *testing.T) {
	p := retry.Policy{Base: 4 * time.Millisecond, Max: 10 * time.Millisecond, Rand: most}
	for _, c := range []struct {
		try  int
		want time.Duration
	}{{0, 0}, {1, 4 * time.Millisecond}, {2, 8 * time.Millisecond}, {3, 10 * time.Millisecond}, {40, 10 * time.Millisecond}} {
		if got := p.Delay(c.try); got != c.want {
			t.Errorf("Delay(%d) = %v, want %v", c.try, got, c.want)
		}
	}
	least := retry.Policy{Base: 4 * time.Millisecond, Max: 10 * time.Millisecond, Rand: func(int64) int64 { return 0 }}
	if got, want := least.Delay(2), 4*time.Millisecond; got != want {
		t.Errorf("shortest Delay(2) = %v, want %v (half of the ceiling is never jittered away)", got, want)
	}
}

func TestPauseSleeps(t *testing.T) {
	p := retry.Policy{Base: 20 * time.Millisecond, Max: time.Second, Rand: most}
	start := time.Now()
	if err := p.Pause(context.Background(), 2); err != nil {
		t.Fatalf("Pause = %v, want nil", err)
	}
	if got, want := time.Since(start), 40*time.Millisecond; got < want {
		t.Errorf("Pause(2) slept %v, want at least %v", got, want)
	}
	// The default policy pauses too (every retry loop waits before trying again).
	start = time.Now()
	if err := retry.Pause(context.Background(), 1); err != nil || time.Since(start) <= 0 {
		t.Errorf("retry.Pause(1) = %v after %v; want a pause", err, time.Since(start))
	}
}

func TestPauseStopsAtTheDeadline(t *testing.T) {
	p := retry.Policy{Base: time.Hour, Max: time.Hour}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := p.Pause(ctx, 3)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Pause past the deadline = %v, want context.DeadlineExceeded", err)
	}
	if got := time.Since(start); got > time.Second {
		t.Errorf("Pause past the deadline took %v, want it to end at the deadline (30ms)", got)
	}
}

func TestTriesPausesBetweenAndStopsWithTheContext(t *testing.T) {
	p := retry.Policy{Base: 5 * time.Millisecond, Max: 5 * time.Millisecond, Rand: most}
	var at []time.Time
	for try := range p.Tries(context.Background(), 3) {
		if want := len(at); try != want {
			t.Errorf("try = %d, want %d", try, want)
		}
		at = append(at, time.Now())
	}
	if len(at) != 3 {
		t.Fatalf("Tries(3) yielded %d tries, want 3", len(at))
	}
	for i := 1; i < len(at); i++ {
		if d := at[i].Sub(at[i-1]); d < 5*time.Millisecond {
			t.Errorf("pause before try %d = %v, want at least 5ms", i, d)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	slow := retry.Policy{Base: time.Hour, Max: time.Hour}
	n := 0
	start := time.Now()
	for range slow.Tries(ctx, 5) {
		n++
	}
	if n != 1 || time.Since(start) > time.Second {
		t.Errorf("Tries with a 30ms deadline yielded %d tries in %v; want 1, ending at the deadline", n, time.Since(start))
	}
}
