package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// consistencies are the read consistencies a read test runs with. Both
// test backends (bbolt, DynamoDB Local) answer an eventually consistent
// read as a strongly consistent one, so the tests expect the same items.
var consistencies = []struct {
	name string
	c    store.Consistency
}{{"strong", store.Strong}, {"eventual", store.Eventual}}

// testGetMany: GetMany answers every key in the order asked, absent and
// expired items as their key at version 0, a repeated key each time.
func testGetMany(t *testing.T, s store.Store, pk string) {
	a, b, gone, absent := store.K(pk, "a"), store.K(pk, "b"), store.K(pk, "gone"), store.K(pk, "absent")
	mustWrite(t, s, store.Put(a, []byte("x")), store.Add(b, 5),
		store.Put(gone, []byte("old")).ExpiresAt(time.Now().Add(-2*time.Second)))
	for _, tc := range consistencies {
		got, err := s.GetMany(ctx(t), []store.Key{a, absent, b, gone, a}, tc.c)
		if err != nil {
			t.Fatalf("%s: GetMany: %v", tc.name, err)
		}
		want := []struct {
			key     store.Key
			version int64
			data    string
			n       int64
		}{{a, 1, "x", 0}, {absent, 0, "", 0}, {b, 1, "", 5}, {gone, 0, "", 0}, {a, 1, "x", 0}}
		if len(got) != len(want) {
			t.Fatalf("%s: GetMany gave %d items; want %d", tc.name, len(got), len(want))
		}
		for i, w := range want {
			it := got[i]
			if it.Key != w.key || it.Version != w.version || string(it.Data) != w.data || it.N != w.n || it.Found() != (w.version > 0) {
				t.Errorf("%s: item %d = key %s, version %d, data %q, n %d, found %v; want key %s, version %d, data %q, n %d",
					tc.name, i, it.Key, it.Version, it.Data, it.N, it.Found(), w.key, w.version, w.data, w.n)
			}
		}
	}
	if got, err := s.GetMany(ctx(t), nil, store.Strong); err != nil || len(got) != 0 {
		t.Errorf("GetMany(no keys) = %v, %v; want nothing", got, err)
	}
}

// testGetManyLarge: GetMany answers more keys than one DynamoDB batch
// holds, found or not, in the order asked.
func testGetManyLarge(t *testing.T, s store.Store, pk string) {
	const written, asked = 150, 230
	for start := 0; start < written; start += 75 {
		ms := make([]store.Mutation, 0, 75)
		for i := start; i < start+75; i++ {
			ms = append(ms, store.Put(store.K(pk, fmt.Sprintf("%03d", i)), []byte(fmt.Sprint(i))))
		}
		mustWrite(t, s, ms...)
	}
	ks := make([]store.Key, asked)
	for i := range ks {
		ks[i] = store.K(pk, fmt.Sprintf("%03d", asked-1-i)) // Descending: not the order stored.
	}
	got, err := s.GetMany(ctx(t), ks, store.Eventual)
	if err != nil || len(got) != asked {
		t.Fatalf("GetMany(%d keys) = %d items, %v; want %d", asked, len(got), err, asked)
	}
	for i, it := range got {
		n := asked - 1 - i
		if found := n < written; it.Key != ks[i] || it.Found() != found || (found && string(it.Data) != fmt.Sprint(n)) {
			t.Fatalf("item %d = key %s, found %v, data %q; want key %s, found %v", i, it.Key, it.Found(), it.Data, ks[i], found)
		}
	}
}

// testGetManyInvalid: a key ValidKey refuses fails the whole read.
func testGetManyInvalid(t *testing.T, s store.Store, pk string) {
	a := store.K(pk, "a")
	mustWrite(t, s, store.Put(a, []byte("x")))
	long := strings.Repeat("x", store.MaxKeyLen+1)
	for _, bad := range []store.Key{{PK: "", SK: "x"}, {PK: pk, SK: ""}, {PK: pk, SK: long}, {PK: pk, SK: "a\x00"}} {
		if got, err := s.GetMany(ctx(t), []store.Key{a, bad}, store.Eventual); !errs.Is(errs.Invalid, err) || got != nil {
			t.Errorf("GetMany(%q) = %v, %v; want nothing and Invalid", bad, got, err)
		}
	}
}

// testQueryEventual: an eventually consistent query pages like a strong one.
func testQueryEventual(t *testing.T, s store.Store, pk string) {
	for _, sk := range []string{"a", "b", "c"} {
		mustWrite(t, s, store.Put(store.K(pk, sk), []byte(sk)))
	}
	var got []string
	q := store.Query{PK: pk, Limit: 2, Consistency: store.Eventual}
	for {
		page, err := s.Query(ctx(t), q)
		if err != nil {
			t.Fatalf("Query: %v", err)
		}
		for _, it := range page.Items {
			got = append(got, it.SK)
		}
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	if strings.Join(got, ",") != "a,b,c" {
		t.Errorf("eventual Query = %v; want a, b, c", got)
	}
}
