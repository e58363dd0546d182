package cached_test

import (
	"errors"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/cached"
)

const ttl = 30 * time.Second

var t0 = time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)

// TestValueGet: a copy younger than the TTL answers without a read; an older
// one, or one "read" in the future of a clock that went back, is read again.
func TestValueGet(t *testing.T) {
	tests := []struct {
		name      string
		at        time.Duration // When the second Get runs, after the first.
		wantReads int
	}{
		{"within the ttl", ttl - time.Nanosecond, 1},
		{"at the ttl", ttl, 2},
		{"clock went back", -time.Second, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c cached.Value[int]
			reads := 0
			read := func() (int, error) { reads++; return reads, nil }
			first, _ := c.Get(t0, ttl, read)
			got, err := c.Get(t0.Add(tc.at), ttl, read)
			if err != nil || reads != tc.wantReads || got != reads || first != 1 {
				t.Errorf("got %d, %v after %d reads; want the answer of read %d", got, err, reads, tc.wantReads)
			}
		})
	}
}

// TestValueError: a failed read is answered and not kept.
func TestValueError(t *testing.T) {
	var c cached.Value[string]
	boom := errors.New("boom")
	if _, err := c.Get(t0, ttl, func() (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the read's error", err)
	}
	got, err := c.Get(t0, ttl, func() (string, error) { return "read", nil })
	if err != nil || got != "read" {
		t.Errorf("after a failed read: got %q, %v; want a fresh read", got, err)
	}
}

// TestValueSet: what the process sets is answered at once, and a read that
// began before the Set does not replace it when it ends.
func TestValueSet(t *testing.T) {
	var c cached.Value[string]
	c.Get(t0, ttl, func() (string, error) { return "old", nil })
	c.Set("mine", t0.Add(time.Second))
	got, _ := c.Get(t0.Add(2*time.Second), ttl, func() (string, error) { return "read", nil })
	if got != "mine" {
		t.Fatalf("after Set: got %q, want %q", got, "mine")
	}

	var slow cached.Value[string]
	late, _ := slow.Get(t0, ttl, func() (string, error) {
		slow.Set("mine", t0) // The process's own change lands while the read is under way.
		return "stale", nil
	})
	got, _ = slow.Get(t0, ttl, func() (string, error) { return "read", nil })
	if late != "stale" || got != "mine" {
		t.Errorf("read across a Set answered %q, then %q; want %q, then the set %q", late, got, "stale", "mine")
	}
}
