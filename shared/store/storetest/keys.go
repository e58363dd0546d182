package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// testKeyRules: every backend refuses the same malformed keys and queries,
// before touching anything, with the same kind and safe message, so that
// a key bbolt accepts in development is never one DynamoDB refuses later.
func testKeyRules(t *testing.T, s store.Store, pk string) {
	long := strings.Repeat("x", store.MaxKeyLen+1)
	notUTF8 := "bad\xff\xfe"
	keys := []struct {
		name string
		k    store.Key
		want string
	}{
		{"empty pk", store.K("", "x"), "empty partition key"},
		{"empty sk", store.K(pk, ""), "empty sort key"},
		{"long pk", store.K(pk+long, "x"), fmt.Sprintf("partition key over %d bytes", store.MaxKeyLen)},
		{"long sk", store.K(pk, long), fmt.Sprintf("sort key over %d bytes", store.MaxKeyLen)},
		{"pk not utf-8", store.K(pk+notUTF8, "x"), "partition key is not UTF-8 text"},
		{"sk not utf-8", store.K(pk, notUTF8), "sort key is not UTF-8 text"},
		{"pk with zero byte", store.K(pk+"\x00x", "x"), "partition key contains a zero byte"},
		{"sk with zero byte", store.K(pk, "a\x00b"), "sort key contains a zero byte"},
	}
	ok := store.K(pk, "ok")
	for _, tc := range keys {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Get(ctx(t), tc.k)
			wantRefused(t, "Get", err, tc.want)
			wantRefused(t, "Write", s.Write(ctx(t), store.Put(ok, []byte("x")), store.Put(tc.k, nil)), tc.want)
			wantRefused(t, "Write Add", s.Write(ctx(t), store.Add(tc.k, 1)), tc.want)
			if tc.k.SK == "x" {
				_, err := s.Query(ctx(t), store.Query{PK: tc.k.PK})
				wantRefused(t, "Query", err, tc.want)
			}
		})
	}
	wantAbsent(t, s, ok)

	mustWrite(t, s, store.Put(store.K(pk, "a"), nil))
	queries := []struct {
		name string
		q    store.Query
		want string
	}{
		{"long prefix", store.Query{PK: pk, Prefix: long + long}, fmt.Sprintf("query prefix over %d bytes", store.MaxKeyLen)},
		{"prefix not utf-8", store.Query{PK: pk, Prefix: notUTF8}, "query prefix is not UTF-8 text"},
		{"prefix with zero byte", store.Query{PK: pk, Prefix: "a\x00"}, "query prefix contains a zero byte"},
		{"long before", store.Query{PK: pk, Before: long}, fmt.Sprintf("query bound over %d bytes", store.MaxKeyLen)},
		{"before not utf-8", store.Query{PK: pk, Before: notUTF8}, "query bound is not UTF-8 text"},
		{"before not utf-8 descending", store.Query{PK: pk, Before: notUTF8, Desc: true}, "query bound is not UTF-8 text"},
		{"before with zero byte", store.Query{PK: pk, Before: "b\x00"}, "query bound contains a zero byte"},
		{"cursor not base64", store.Query{PK: pk, After: "!!!"}, "bad page cursor"},
		{"cursor too long", store.Query{PK: pk, After: store.EncodeCursor(long)}, "bad page cursor"},
		{"cursor not utf-8", store.Query{PK: pk, After: store.EncodeCursor(notUTF8)}, "bad page cursor"},
		{"cursor with zero byte", store.Query{PK: pk, After: store.EncodeCursor("a\x00")}, "bad page cursor"},
	}
	for _, tc := range queries {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.Query(ctx(t), tc.q)
			if err == nil {
				t.Fatalf("Query = %d items, %v; want refused with %q", len(page.Items), err, tc.want)
			}
			wantRefused(t, "Query", err, tc.want)
		})
	}
	// The longest keys and bounds are fine.
	edge := store.K(pk, strings.Repeat("é", store.MaxKeyLen/2))
	mustWrite(t, s, store.Put(edge, []byte("edge")))
	wantItem(t, s, edge, 1, "edge", 0)
	page, err := s.Query(ctx(t), store.Query{PK: pk, Prefix: edge.SK, Before: strings.Repeat("ê", store.MaxKeyLen/2)})
	if err != nil || len(page.Items) != 1 || page.Items[0].Key != edge {
		t.Errorf("Query at the longest prefix and bound = %+v, %v; want the one item %s", page.Items, err, edge)
	}
}

// wantRefused fails the test unless err is Invalid with the safe message
// want.
func wantRefused(t *testing.T, call string, err error, want string) {
	t.Helper()
	if !errs.Is(errs.Invalid, err) || errs.SafeMessage(err) != want {
		t.Errorf("%s = %v (%s: %q); want invalid: %q", call, err, errs.KindOf(err), errs.SafeMessage(err), want)
	}
}
