package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// state is what an item looks like before a conditional write.
type state int

const (
	absent  state = iota // Never written.
	live                 // Version 2, data "old", N 10, no expiry.
	expired              // Version 3, data "old", N 10, expired an hour ago.
)

func (st state) String() string { return [...]string{"absent", "live", "expired"}[st] }

// arrange brings k into the state st.
func arrange(t *testing.T, s store.Store, k store.Key, st state) {
	t.Helper()
	if st == absent {
		return
	}
	mustWrite(t, s, store.Put(k, []byte("old")))
	mustWrite(t, s, store.Add(k, 10))
	if st == expired {
		mustWrite(t, s, store.Put(k, []byte("old")).ExpiresAt(time.Now().Add(-time.Hour)))
	}
}

// testConditions runs every operation under every condition against every
// state: a condition that holds applies the mutation exactly as documented,
// one that fails names the mutation and changes nothing. Expired items behave
// as absent ones, including the version and counter a write gives them.
func testConditions(t *testing.T, s store.Store, pk string) {
	type cond struct {
		name string
		with func(store.Mutation) store.Mutation
		ok   map[state]bool
	}
	conds := []cond{
		{"Always", func(m store.Mutation) store.Mutation { m.Cond = store.Always; return m }, map[state]bool{absent: true, live: true, expired: true}},
		{"IfAbsent", store.Mutation.IfAbsent, map[state]bool{absent: true, expired: true}},
		{"IfExists", store.Mutation.IfExists, map[state]bool{live: true}},
		{"IfVersion1", func(m store.Mutation) store.Mutation { return m.IfVersion(1) }, nil},
		{"IfVersion2", func(m store.Mutation) store.Mutation { return m.IfVersion(2) }, map[state]bool{live: true}},
		{"IfVersion3", func(m store.Mutation) store.Mutation { return m.IfVersion(3) }, nil},
		{"IfVersion0", func(m store.Mutation) store.Mutation { return m.IfVersion(0) }, map[state]bool{absent: true, expired: true}},
	}
	// after is what Get returns once the mutation applied: ok false means
	// absent.
	type after struct {
		ok      bool
		version int64
		data    string
		n       int64
	}
	unchanged := map[state]after{live: {true, 2, "old", 10}}
	ops := []struct {
		name    string
		build   func(store.Key) store.Mutation
		applied map[state]after
	}{
		{"Put", func(k store.Key) store.Mutation { return store.Put(k, []byte("new")) },
			map[state]after{absent: {true, 1, "new", 0}, live: {true, 3, "new", 10}, expired: {true, 1, "new", 0}}},
		{"Delete", store.Delete, map[state]after{}},
		{"Check", store.Check, unchanged},
		{"Add", func(k store.Key) store.Mutation { return store.Add(k, 5) },
			map[state]after{absent: {true, 1, "", 5}, live: {true, 3, "old", 15}, expired: {true, 1, "", 5}}},
	}
	for _, op := range ops {
		for _, c := range conds {
			for _, st := range []state{absent, live, expired} {
				name := fmt.Sprintf("%s/%s/%s", op.name, c.name, st)
				t.Run(name, func(t *testing.T) {
					k := store.K(pk, name)
					arrange(t, s, k, st)
					err := s.Write(ctx(t), c.with(op.build(k)))
					want := unchanged[st]
					if c.ok[st] {
						if err != nil {
							t.Fatalf("Write = %v; want success", err)
						}
						want = op.applied[st]
					} else {
						wantCondition(t, err, k)
					}
					if !want.ok {
						wantAbsent(t, s, k)
						return
					}
					it := wantItem(t, s, k, want.version, want.data, want.n)
					if !it.Expires.IsZero() {
						t.Errorf("Expires = %v; want zero", it.Expires)
					}
				})
			}
		}
	}
}

// testAtomicWrite: a write applies every mutation or none.
func testAtomicWrite(t *testing.T, s store.Store, pk string) {
	a, b, c, idx := store.K(pk, "a"), store.K(pk, "b"), store.K(pk, "c"), store.K(pk+"#index", "code")
	mustWrite(t, s, store.Put(a, []byte("a1")), store.Put(b, []byte("b1")), store.Add(c, 3))

	err := s.Write(ctx(t),
		store.Put(a, []byte("a2")).IfVersion(1),
		store.Put(b, []byte("b2")).IfVersion(5),
		store.Add(c, 1),
		store.Put(idx, []byte("a")).IfAbsent())
	wantCondition(t, err, b)
	wantItem(t, s, a, 1, "a1", 0)
	wantItem(t, s, b, 1, "b1", 0)
	wantItem(t, s, c, 1, "", 3)
	wantAbsent(t, s, idx)

	mustWrite(t, s,
		store.Put(a, []byte("a2")).IfVersion(1),
		store.Delete(b).IfExists(),
		store.Add(c, 1).AtMost(4),
		store.Put(idx, []byte("a")).IfAbsent(),
		store.Check(store.K(pk, "gone")).IfAbsent())
	wantItem(t, s, a, 2, "a2", 0)
	wantAbsent(t, s, b)
	wantItem(t, s, c, 2, "", 4)
	wantItem(t, s, idx, 1, "a", 0)

	// A failing Check vetoes the whole write too.
	err = s.Write(ctx(t), store.Put(a, []byte("a3")), store.Check(b))
	wantCondition(t, err, b)
	wantItem(t, s, a, 2, "a2", 0)
	// So does an Add bound.
	err = s.Write(ctx(t), store.Put(a, []byte("a3")), store.Add(c, 1).AtMost(4))
	wantCondition(t, err, c)
	wantItem(t, s, a, 2, "a2", 0)
	wantItem(t, s, c, 2, "", 4)
}

// testFirstFailingKey: the error names the key of the mutation that failed,
// wherever the write lists it; when several fail, the first in write order.
func testFirstFailingKey(t *testing.T, s store.Store, pk string) {
	ks := []store.Key{store.K(pk, "0"), store.K(pk, "1"), store.K(pk, "2"), store.K(pk, "3")}
	mustWrite(t, s, store.Put(ks[0], nil), store.Put(ks[2], nil))
	exists0 := store.Put(ks[0], []byte("x")).IfExists()
	exists1 := store.Put(ks[1], []byte("x")).IfExists() // Fails: absent.
	absent2 := store.Put(ks[2], []byte("x")).IfAbsent() // Fails: present.
	put3 := store.Put(ks[3], []byte("x"))
	wantCondition(t, s.Write(ctx(t), exists0, exists1, absent2, put3), ks[1])
	wantCondition(t, s.Write(ctx(t), put3, absent2, exists0, exists1), ks[2])
	// One failing mutation is named by its key at any position.
	for _, ms := range [][]store.Mutation{{exists1, exists0, put3}, {exists0, exists1, put3}, {put3, exists0, exists1}} {
		wantCondition(t, s.Write(ctx(t), ms...), ks[1])
	}
	// An Add leaving its bounds is named the same way.
	wantCondition(t, s.Write(ctx(t), store.Add(ks[3], 1), store.Add(ks[0], 2).AtMost(1), exists1), ks[0])
	wantItem(t, s, ks[0], 1, "", 0)
	wantAbsent(t, s, ks[1])
	wantItem(t, s, ks[2], 1, "", 0)
	wantAbsent(t, s, ks[3])
}

// testAddBounds: AtMost and AtLeast bound the counter after the add, also
// when the add creates the item.
func testAddBounds(t *testing.T, s store.Store, pk string) {
	k := store.K(pk, "stock")
	steps := []struct {
		m     store.Mutation
		ok    bool
		wantN int64
	}{
		{store.Add(k, 11).AtMost(10), false, -1},
		{store.Add(k, -1).AtLeast(0), false, -1},
		{store.Add(k, 10).AtMost(10).AtLeast(0), true, 10},
		{store.Add(k, 1).AtMost(10), false, 10},
		{store.Add(k, -4).AtLeast(0), true, 6},
		{store.Add(k, -7).AtLeast(0), false, 6},
		{store.Add(k, -6).AtLeast(0).AtMost(6), true, 0},
		{store.Add(k, 0).AtLeast(1), false, 0},
		{store.Add(k, 0).AtMost(0), true, 0},
		{store.Add(k, -5).AtLeast(-5), true, -5},
		{store.Add(k, 15).AtLeast(-5).AtMost(10), true, 10},
	}
	for i, st := range steps {
		err := s.Write(ctx(t), st.m)
		if st.ok && err != nil {
			t.Fatalf("step %d: Write = %v; want success", i, err)
		}
		if !st.ok {
			wantCondition(t, err, k)
		}
		if st.wantN < 0 && i < 2 {
			wantAbsent(t, s, k)
			continue
		}
		if got := mustGet(t, s, k).N; got != st.wantN {
			t.Fatalf("step %d: N = %d; want %d", i, got, st.wantN)
		}
	}
	if it := mustGet(t, s, k); it.Version != 6 {
		t.Errorf("Version = %d after 6 successful adds; want 6", it.Version)
	}
}

// testExpiry: an expired item is absent to reads and conditions; expiry is
// kept to the second and cleared by a Put without one.
func testExpiry(t *testing.T, s store.Store, pk string) {
	k := store.K(pk, "item")
	future := time.Now().Add(time.Hour).Truncate(time.Second)
	mustWrite(t, s, store.Put(k, []byte("x")).ExpiresAt(future.Add(300*time.Millisecond)))
	it := wantItem(t, s, k, 1, "x", 0)
	if !it.Expires.Equal(future) {
		t.Errorf("Expires = %v; want %v (whole seconds)", it.Expires, future)
	}
	mustWrite(t, s, store.Add(k, 2))
	if it := wantItem(t, s, k, 2, "x", 2); !it.Expires.Equal(future) {
		t.Errorf("Expires after Add = %v; want %v (kept)", it.Expires, future)
	}
	mustWrite(t, s, store.Put(k, []byte("y")))
	if it := wantItem(t, s, k, 3, "y", 2); !it.Expires.IsZero() {
		t.Errorf("Expires after Put without expiry = %v; want zero", it.Expires)
	}

	past := time.Now().Add(-2 * time.Second)
	mustWrite(t, s, store.Put(k, []byte("z")).ExpiresAt(past))
	wantAbsent(t, s, k)
	page, err := s.Query(ctx(t), store.Query{PK: pk})
	if err != nil || len(page.Items) != 0 || page.Next != "" {
		t.Errorf("Query = %+v, %v; want an empty page", page, err)
	}
	wantCondition(t, s.Write(ctx(t), store.Check(k).IfExists()), k)
	mustWrite(t, s, store.Check(k).IfAbsent())
	mustWrite(t, s, store.Put(k, []byte("fresh")).IfAbsent())
	wantItem(t, s, k, 1, "fresh", 0)

	// An item expiring within the next second is still live now.
	soon := store.K(pk, "soon")
	mustWrite(t, s, store.Put(soon, []byte("s")).ExpiresAt(time.Now().Add(1500*time.Millisecond)))
	wantItem(t, s, soon, 1, "s", 0)
	if err := s.Write(ctx(t), store.Put(soon, nil).IfAbsent()); !errs.Is(errs.Conflict, err) {
		t.Errorf("IfAbsent on a live item = %v; want Conflict", err)
	}
}
