package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// fill writes the given sort keys into partition pk, data = sort key, in
// writes of at most store.MaxWrite mutations.
func fill(t *testing.T, s store.Store, pk string, sks []string) {
	t.Helper()
	for len(sks) > 0 {
		n := min(len(sks), store.MaxWrite)
		ms := make([]store.Mutation, n)
		for i, sk := range sks[:n] {
			ms[i] = store.Put(store.K(pk, sk), []byte(sk))
		}
		mustWrite(t, s, ms...)
		sks = sks[n:]
	}
}

// sortKeys lists the sort keys of a page's items, checking each item's
// partition, data and version on the way.
func sortKeys(t *testing.T, pk string, items []store.Item) []string {
	t.Helper()
	sks := make([]string, len(items))
	for i, it := range items {
		if it.PK != pk || string(it.Data) != it.SK || it.Version != 1 {
			t.Fatalf("item %d = %s, %q, version %d; want partition %s, data = sort key, version 1", i, it.Key, it.Data, it.Version, pk)
		}
		sks[i] = it.SK
	}
	return sks
}

// readAll pages through q and returns every sort key, checking that no page
// is over the limit and that only the last page lacks a cursor.
func readAll(t *testing.T, s store.Store, q store.Query) []string {
	t.Helper()
	var all []string
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("paging did not end")
		}
		page, err := s.Query(ctx(t), q)
		if err != nil {
			t.Fatalf("Query(%+v): %v", q, err)
		}
		if q.Limit > 0 && len(page.Items) > q.Limit {
			t.Fatalf("page of %d items; limit %d", len(page.Items), q.Limit)
		}
		all = append(all, sortKeys(t, q.PK, page.Items)...)
		if page.Next == "" {
			return all
		}
		if len(page.Items) == 0 {
			t.Fatalf("empty page with a cursor")
		}
		q.After = page.Next
	}
}

// testQuery: prefix, Before, Desc and Limit select and order the same items
// on every backend.
func testQuery(t *testing.T, s store.Store, pk string) {
	var sks []string
	for i := 1; i <= 12; i++ {
		sks = append(sks, fmt.Sprintf("a#%02d", i), fmt.Sprintf("b#%02d", i))
	}
	sks = append(sks, "a", "a#", "a$", "b", "c")
	fill(t, s, pk, sks)
	fill(t, s, pk+"x", []string{"a#00", "a#99"}) // A neighbouring partition.
	slices.Sort(sks)
	sel := func(keep func(string) bool, desc bool) []string {
		var out []string
		for _, sk := range sks {
			if keep(sk) {
				out = append(out, sk)
			}
		}
		if desc {
			slices.Reverse(out)
		}
		return out
	}
	tests := []struct {
		name string
		q    store.Query
		keep func(string) bool
	}{
		{"all", store.Query{}, func(string) bool { return true }},
		{"prefix", store.Query{Prefix: "a#"}, func(sk string) bool { return strings.HasPrefix(sk, "a#") }},
		{"prefix a", store.Query{Prefix: "a"}, func(sk string) bool { return strings.HasPrefix(sk, "a") }},
		{"before", store.Query{Before: "a#05"}, func(sk string) bool { return sk < "a#05" }},
		{"prefix before", store.Query{Prefix: "a#", Before: "a#05"}, func(sk string) bool { return strings.HasPrefix(sk, "a#") && sk < "a#05" }},
		{"prefix before absent key", store.Query{Prefix: "b#", Before: "b#05x"}, func(sk string) bool { return strings.HasPrefix(sk, "b#") && sk <= "b#05" }},
		{"prefix before past", store.Query{Prefix: "a#", Before: "zzz"}, func(sk string) bool { return strings.HasPrefix(sk, "a#") }},
		{"prefix before under", store.Query{Prefix: "b#", Before: "a#05"}, func(string) bool { return false }},
		{"no match", store.Query{Prefix: "zz"}, func(string) bool { return false }},
	}
	for _, tc := range tests {
		for _, desc := range []bool{false, true} {
			for _, limit := range []int{0, 1, 4, 100} {
				q := tc.q
				q.PK, q.Desc, q.Limit = pk, desc, limit
				got := readAll(t, s, q)
				want := sel(tc.keep, desc)
				if !slices.Equal(got, want) {
					t.Errorf("%s desc=%v limit=%d: got %q; want %q", tc.name, desc, limit, got, want)
				}
			}
		}
	}

	// One page: Limit cuts, Next continues, and a page that ends the range
	// has no cursor.
	page, err := s.Query(ctx(t), store.Query{PK: pk, Prefix: "b#", Limit: 12})
	if err != nil || len(page.Items) != 12 || page.Next != "" {
		t.Errorf("exact page = %d items, next %q, %v; want 12 items and no cursor", len(page.Items), page.Next, err)
	}
	page, err = s.Query(ctx(t), store.Query{PK: pk, Prefix: "b#", Limit: 5, Desc: true})
	if err != nil || len(page.Items) != 5 || page.Next != store.EncodeCursor("b#08") {
		t.Errorf("first page = %d items, next %q, %v; want 5 items and a cursor at b#08", len(page.Items), page.Next, err)
	}
	// A cursor is a sort key: one made by hand continues after that key.
	page, err = s.Query(ctx(t), store.Query{PK: pk, Prefix: "a#", After: store.EncodeCursor("a#10")})
	if got := sortKeys(t, pk, page.Items); err != nil || !slices.Equal(got, []string{"a#11", "a#12"}) {
		t.Errorf("after a#10 = %q, %v; want a#11 a#12", got, err)
	}
}

// testQueryPaging: paging through a few hundred items returns each exactly
// once, in order, in both directions.
func testQueryPaging(t *testing.T, s store.Store, pk string) {
	const n = 230
	sks := make([]string, n)
	for i := range sks {
		sks[i] = fmt.Sprintf("item#%05d", i)
	}
	fill(t, s, pk, sks)
	got := readAll(t, s, store.Query{PK: pk, Prefix: "item#", Limit: 40})
	if !slices.Equal(got, sks) {
		t.Errorf("ascending pages: got %d items (%q…); want %d in order", len(got), got[:min(3, len(got))], n)
	}
	got = readAll(t, s, store.Query{PK: pk, Limit: 77, Desc: true})
	want := slices.Clone(sks)
	slices.Reverse(want)
	if !slices.Equal(got, want) {
		t.Errorf("descending pages: got %d items; want %d in reverse order", len(got), n)
	}
	page, err := s.Query(ctx(t), store.Query{PK: pk})
	if err != nil || len(page.Items) != n || page.Next != "" {
		t.Errorf("default limit page = %d items, next %q, %v; want all %d and no cursor", len(page.Items), page.Next, err, n)
	}
}

// testQueryExpired: expired items never appear in a page, even when they
// make up most of the partition.
func testQueryExpired(t *testing.T, s store.Store, pk string) {
	past := time.Now().Add(-time.Minute)
	var ms []store.Mutation
	var want []string
	for i := range 60 {
		sk := fmt.Sprintf("k%03d", i)
		m := store.Put(store.K(pk, sk), []byte(sk))
		if i%10 == 3 {
			want = append(want, sk)
		} else {
			m = m.ExpiresAt(past)
		}
		ms = append(ms, m)
	}
	mustWrite(t, s, ms...)
	for _, limit := range []int{0, 1, 2, 5} {
		got := readAll(t, s, store.Query{PK: pk, Limit: limit})
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: got %q; want %q", limit, got, want)
		}
	}
	page, err := s.Query(ctx(t), store.Query{PK: pk, Limit: 6})
	if err != nil || len(page.Items) != 6 || page.Next != "" {
		t.Errorf("page over all live items = %d, next %q, %v; want 6 and no cursor", len(page.Items), page.Next, err)
	}
}

// testQueryErrors: a malformed cursor is Invalid, an unknown partition is
// an empty page.
func testQueryErrors(t *testing.T, s store.Store, pk string) {
	fill(t, s, pk, []string{"a", "b"})
	for _, cursor := range []string{"!!!", "a b", "===="} {
		if _, err := s.Query(ctx(t), store.Query{PK: pk, After: cursor}); !errs.Is(errs.Invalid, err) {
			t.Errorf("cursor %q: err = %v; want Invalid", cursor, err)
		}
	}
	page, err := s.Query(ctx(t), store.Query{PK: pk + "-unknown"})
	if err != nil || len(page.Items) != 0 || page.Next != "" {
		t.Errorf("unknown partition = %+v, %v; want an empty page", page, err)
	}
	if _, err := s.Query(ctx(t), store.Query{}); !errs.Is(errs.Invalid, err) {
		t.Errorf("empty partition key: err = %v; want Invalid", err)
	}
}
