package storetest

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// testSizeLimits: an item over MaxItemBytes and a write over MaxWriteBytes
// are refused as Invalid by every backend before anything is stored, so a
// write bbolt accepts is never one DynamoDB refuses.
func testSizeLimits(t *testing.T, s store.Store, pk string) {
	k := store.K(pk, "big")
	most := store.MaxItemBytes - store.Put(k, nil).Size() // The most data k may hold.
	mustWrite(t, s, store.Put(k, bytes.Repeat([]byte{'a'}, most)))
	if it := mustGet(t, s, k); len(it.Data) != most {
		t.Fatalf("Get = %d bytes; want %d", len(it.Data), most)
	}
	err := s.Write(ctx(t), store.Put(k, bytes.Repeat([]byte{'b'}, most+1)))
	if !errs.Is(errs.Invalid, err) {
		t.Fatalf("Write of an item one byte over the limit = %v; want Invalid", err)
	}
	if it := mustGet(t, s, k); it.Version != 1 || it.Data[0] != 'a' {
		t.Errorf("after a refused write: version %d, data %q…; want version 1, a…", it.Version, it.Data[:1])
	}

	// Eleven items, each within the item limit, are over the write limit
	// together.
	ms := make([]store.Mutation, 11)
	for i := range ms {
		ms[i] = store.Put(store.K(pk, fmt.Sprintf("part%02d", i)), make([]byte, store.MaxWriteBytes/10-1024))
	}
	if err := s.Write(ctx(t), ms...); !errs.Is(errs.Invalid, err) {
		t.Fatalf("Write of %d bytes = %v; want Invalid", 11*(store.MaxWriteBytes/10-1024), err)
	}
	for _, m := range ms {
		wantAbsent(t, s, m.Key)
	}
}
