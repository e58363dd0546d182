package storetest

import (
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// testAddExpiry: an Add with an expiry gives the counter that expiry, also
// when it creates the item; an Add without one keeps the item's expiry; an
// expired counter counts again from zero, as a new item, within its bounds.
// Window counters (rate limits) rely on it to clean up after themselves.
func testAddExpiry(t *testing.T, s store.Store, pk string) {
	k := store.K(pk, "window")
	future := time.Now().Add(time.Hour).Truncate(time.Second)
	mustWrite(t, s, store.Add(k, 1).AtMost(3).ExpiresAt(future.Add(300*time.Millisecond)))
	if it := wantItem(t, s, k, 1, "", 1); !it.Expires.Equal(future) {
		t.Errorf("Expires after a creating Add = %v; want %v", it.Expires, future)
	}
	mustWrite(t, s, store.Add(k, 1).AtMost(3))
	if it := wantItem(t, s, k, 2, "", 2); !it.Expires.Equal(future) {
		t.Errorf("Expires after an Add without expiry = %v; want %v (kept)", it.Expires, future)
	}
	later := future.Add(time.Hour)
	mustWrite(t, s, store.Add(k, 1).AtMost(3).ExpiresAt(later))
	if it := wantItem(t, s, k, 3, "", 3); !it.Expires.Equal(later) {
		t.Errorf("Expires after an Add with expiry = %v; want %v", it.Expires, later)
	}
	if err := s.Write(ctx(t), store.Add(k, 1).AtMost(3).ExpiresAt(later.Add(time.Hour))); !errs.Is(errs.Conflict, err) {
		t.Fatalf("Add over the bound = %v; want Conflict", err)
	}
	if it := wantItem(t, s, k, 3, "", 3); !it.Expires.Equal(later) {
		t.Errorf("Expires after a refused Add = %v; want %v (unchanged)", it.Expires, later)
	}

	// An expired counter is absent, and the next Add starts it afresh.
	old := store.K(pk, "old")
	mustWrite(t, s, store.Add(old, 3).ExpiresAt(time.Now().Add(-2*time.Second)))
	wantAbsent(t, s, old)
	mustWrite(t, s, store.Add(old, 1).AtMost(1).ExpiresAt(future))
	if it := wantItem(t, s, old, 1, "", 1); !it.Expires.Equal(future) {
		t.Errorf("Expires of a restarted counter = %v; want %v", it.Expires, future)
	}
	// Without an expiry of its own, a restarted counter does not inherit
	// the dead item's.
	dead := store.K(pk, "dead")
	mustWrite(t, s, store.Add(dead, 5).ExpiresAt(time.Now().Add(-2*time.Second)))
	mustWrite(t, s, store.Add(dead, 1).AtMost(1))
	if it := wantItem(t, s, dead, 1, "", 1); !it.Expires.IsZero() {
		t.Errorf("Expires of a counter restarted without expiry = %v; want zero", it.Expires)
	}
}
