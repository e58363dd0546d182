// Package storetest is the conformance suite of the store port: one set of
// tests that every store.Store adapter runs, so that the bbolt and DynamoDB
// adapters are proven to mean the same thing by every read, write, condition,
// expiry and page cursor. Adapters call Run from their own tests and Bench
// from their benchmarks.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// Run runs the conformance suite. open is called once per subtest and must
// return a ready store; Run closes it when the subtest ends. Stores returned
// by open may share one backend (one DynamoDB table): every subtest uses
// partition keys of its own.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store, pk string)
	}{
		{"GetAbsent", testGetAbsent},
		{"PutVersions", testPutVersions},
		{"PutKeepsN", testPutKeepsN},
		{"Data", testData},
		{"Cancelled", testCancelled},
		{"Conditions", testConditions},
		{"AtomicWrite", testAtomicWrite},
		{"FirstFailingKey", testFirstFailingKey},
		{"MaxWrite", testMaxWrite},
		{"Validation", testValidation},
		{"KeyRules", testKeyRules},
		{"SizeLimits", testSizeLimits},
		{"AddBounds", testAddBounds},
		{"Expiry", testExpiry},
		{"AddExpiry", testAddExpiry},
		{"Query", testQuery},
		{"QueryPaging", testQueryPaging},
		{"QueryExpired", testQueryExpired},
		{"QueryErrors", testQueryErrors},
		{"QueryEventual", testQueryEventual},
		{"GetMany", testGetMany},
		{"GetManyLarge", testGetManyLarge},
		{"GetManyInvalid", testGetManyInvalid},
		{"RaceVersion", testRaceVersion},
		{"RaceAbsent", testRaceAbsent},
		{"RaceAdd", testRaceAdd},
		{"RaceStock", testRaceStock},
	}
	run := fmt.Sprintf("%x", time.Now().UnixNano())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s, "storetest/"+run+"/"+tc.name)
		})
	}
}

// ctx bounds every call a test makes.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// mustWrite fails the test when a write that should succeed does not.
func mustWrite(t *testing.T, s store.Store, ms ...store.Mutation) {
	t.Helper()
	if err := s.Write(ctx(t), ms...); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// mustGet fails the test when a Get that should succeed does not.
func mustGet(t *testing.T, s store.Store, k store.Key) store.Item {
	t.Helper()
	it, err := s.Get(ctx(t), k)
	if err != nil {
		t.Fatalf("Get(%s): %v", k, err)
	}
	return it
}

// wantAbsent fails the test unless Get reports k absent.
func wantAbsent(t *testing.T, s store.Store, k store.Key) {
	t.Helper()
	it, err := s.Get(ctx(t), k)
	if !errs.Is(errs.NotExist, err) {
		t.Fatalf("Get(%s) = %+v, %v; want a NotExist error", k, it, err)
	}
}

// wantItem fails the test unless the item at k has the given version, data
// and counter.
func wantItem(t *testing.T, s store.Store, k store.Key, version int64, data string, n int64) store.Item {
	t.Helper()
	it := mustGet(t, s, k)
	if it.Key != k || it.Version != version || !bytes.Equal(it.Data, []byte(data)) || it.N != n {
		t.Fatalf("Get(%s) = key %s, version %d, data %q, n %d; want version %d, data %q, n %d",
			k, it.Key, it.Version, it.Data, it.N, version, data, n)
	}
	return it
}

// wantCondition fails the test unless err is a condition failure of the
// mutation of k.
func wantCondition(t *testing.T, err error, k store.Key) {
	t.Helper()
	if !errs.Is(errs.Conflict, err) {
		t.Fatalf("err = %v; want a Conflict", err)
	}
	var ce *store.ConditionError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v; want a *store.ConditionError", err)
	}
	if got, ok := store.FailedKey(err); !ok || got != k || ce.Key != k {
		t.Fatalf("failed key = %s, %v; want %s", got, ok, k)
	}
}

// testGetAbsent: a missing item is NotExist, never a zero item.
func testGetAbsent(t *testing.T, s store.Store, pk string) {
	wantAbsent(t, s, store.K(pk, "nothing"))
	wantAbsent(t, s, store.K(pk+"-other", "nothing"))
}

// testPutVersions: Put creates at version 1 and each later write adds one.
func testPutVersions(t *testing.T, s store.Store, pk string) {
	k := store.K(pk, "item")
	mustWrite(t, s, store.Put(k, []byte(`{"v":1}`)))
	it := wantItem(t, s, k, 1, `{"v":1}`, 0)
	if !it.Expires.IsZero() {
		t.Errorf("Expires = %v; want zero", it.Expires)
	}
	for v := int64(2); v <= 4; v++ {
		data := fmt.Sprintf(`{"v":%d}`, v)
		mustWrite(t, s, store.Put(k, []byte(data)))
		wantItem(t, s, k, v, data, 0)
	}
	mustWrite(t, s, store.Delete(k))
	wantAbsent(t, s, k)
	mustWrite(t, s, store.Put(k, []byte("again")))
	wantItem(t, s, k, 1, "again", 0)
	mustWrite(t, s, store.Delete(k), store.Delete(store.K(pk, "never-written")))
	wantAbsent(t, s, k)
}

// testPutKeepsN: Put changes data, never the counter; Add changes the
// counter, never the data.
func testPutKeepsN(t *testing.T, s store.Store, pk string) {
	k := store.K(pk, "item")
	mustWrite(t, s, store.Add(k, 7))
	it := wantItem(t, s, k, 1, "", 7)
	if len(it.Data) != 0 {
		t.Errorf("Data after Add on absent = %q; want empty", it.Data)
	}
	mustWrite(t, s, store.Put(k, []byte("data")))
	wantItem(t, s, k, 2, "data", 7)
	mustWrite(t, s, store.Add(k, -3))
	wantItem(t, s, k, 3, "data", 4)
	mustWrite(t, s, store.PutJSON(k, map[string]int{"a": 1}))
	var got map[string]int
	it, err := store.GetJSON(ctx(t), s, k, &got)
	if err != nil || got["a"] != 1 || it.N != 4 || it.Version != 4 {
		t.Errorf("GetJSON = %v, %+v, %v; want a=1, n 4, version 4", got, it, err)
	}
}

// testMaxWrite: 100 mutations apply together, and fail together.
func testMaxWrite(t *testing.T, s store.Store, pk string) {
	keys := make([]store.Key, store.MaxWrite)
	ms := make([]store.Mutation, store.MaxWrite)
	for i := range ms {
		keys[i] = store.K(pk, fmt.Sprintf("%03d", i))
		ms[i] = store.Put(keys[i], []byte("one")).IfAbsent()
	}
	mustWrite(t, s, ms...)
	for i := range ms {
		ms[i] = store.Put(keys[i], []byte("two")).IfVersion(1)
	}
	ms[len(ms)-1] = store.Put(keys[len(ms)-1], []byte("two")).IfVersion(9)
	wantCondition(t, s.Write(ctx(t), ms...), keys[len(ms)-1])
	page, err := s.Query(ctx(t), store.Query{PK: pk})
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if len(page.Items) != store.MaxWrite {
		t.Fatalf("Query found %d items; want %d", len(page.Items), store.MaxWrite)
	}
	for _, it := range page.Items {
		if it.Version != 1 || string(it.Data) != "one" {
			t.Fatalf("item %s = version %d, %q after a failed write; want 1, \"one\"", it.Key, it.Version, it.Data)
		}
	}
}

// testValidation: malformed writes fail with Invalid and change nothing.
func testValidation(t *testing.T, s store.Store, pk string) {
	a, b := store.K(pk, "a"), store.K(pk, "b")
	long := strings.Repeat("x", store.MaxKeyLen+1)
	over := make([]store.Mutation, store.MaxWrite+1)
	for i := range over {
		over[i] = store.Put(store.K(pk, fmt.Sprintf("over%03d", i)), nil)
	}
	tests := []struct {
		name string
		ms   []store.Mutation
	}{
		{"empty", nil},
		{"duplicate", []store.Mutation{store.Put(a, []byte("x")), store.Put(b, nil), store.Add(a, 1)}},
		{"too many", over},
		{"empty pk", []store.Mutation{store.Put(a, nil), store.Put(store.K("", "x"), nil)}},
		{"empty sk", []store.Mutation{store.Put(a, nil), store.Put(store.K(pk, ""), nil)}},
		{"long pk", []store.Mutation{store.Put(a, nil), store.Put(store.K(long, "x"), nil)}},
		{"long sk", []store.Mutation{store.Put(a, nil), store.Put(store.K(pk, long), nil)}},
		{"bad op", []store.Mutation{store.Put(a, nil), {Op: store.Op(9), Key: b}}},
		{"bad cond", []store.Mutation{store.Put(a, nil), store.Put(b, nil), {Op: store.OpPut, Key: store.K(pk, "c"), Cond: store.Cond(9)}}},
	}
	for _, tc := range tests {
		err := s.Write(ctx(t), tc.ms...)
		if !errs.Is(errs.Invalid, err) {
			t.Errorf("%s: Write = %v; want Invalid", tc.name, err)
		}
	}
	wantAbsent(t, s, a)
	wantAbsent(t, s, b)
	wantAbsent(t, s, over[0].Key)
	for _, k := range []store.Key{{PK: "", SK: "x"}, {PK: pk, SK: ""}} {
		if _, err := s.Get(ctx(t), k); !errs.Is(errs.Invalid, err) {
			t.Errorf("Get(%q) = %v; want Invalid", k, err)
		}
	}
}

// testData: data comes back byte for byte, whatever the bytes.
func testData(t *testing.T, s store.Store, pk string) {
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = byte(i * 7)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"zero bytes", []byte{0, 0, 1, 0}},
		{"not utf-8", []byte{0xff, 0xfe, 'x'}},
		{"64 KiB", big},
	}
	for _, tc := range tests {
		k := store.K(pk, tc.name)
		mustWrite(t, s, store.Put(k, tc.data))
		if it := mustGet(t, s, k); !bytes.Equal(it.Data, tc.data) {
			t.Errorf("%s: got %d bytes; want %d, the same", tc.name, len(it.Data), len(tc.data))
		}
	}
	// Keys are bytes too: any UTF-8, ordered byte-wise.
	k := store.K(pk+"/会员 ✓", "sk/ünï/"+strings.Repeat("é", 100))
	mustWrite(t, s, store.Put(k, []byte("u")))
	wantItem(t, s, k, 1, "u", 0)
}

// testCancelled: a write under a cancelled context fails and changes nothing.
func testCancelled(t *testing.T, s store.Store, pk string) {
	k := store.K(pk, "item")
	c, cancel := context.WithCancel(ctx(t))
	cancel()
	err := s.Write(c, store.Put(k, []byte("x")), store.Add(store.K(pk, "other"), 1))
	if err == nil || errs.Is(errs.Conflict, err) {
		t.Errorf("Write under a cancelled context = %v; want a non-condition error", err)
	}
	wantAbsent(t, s, k)
}
