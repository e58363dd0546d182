package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/store"
)

// Bench benchmarks the hot paths of a store: an atomic write of three items
// (an item, its index entry and a counter, as a command writes them), a
// conditional read-modify-write, a consistent Get, a page of 20 items, and
// a bounded Add to one hot counter from parallel goroutines (contention).
func Bench(b *testing.B, s store.Store) {
	ctx := context.Background()
	pk := fmt.Sprintf("storebench/%x", time.Now().UnixNano())
	data := []byte(`{"member":"m_0123456789","level":3,"points":1200,"tags":["a","b"]}`)

	b.Run("Write3", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			sk := fmt.Sprintf("w3#%09d", i)
			err := s.Write(ctx,
				store.Put(store.K(pk, sk), data).IfAbsent(),
				store.Put(store.K(pk+"#index", sk), []byte(sk)).IfAbsent(),
				store.Add(store.K(pk, "count"), 1))
			if err != nil {
				b.Fatalf("Write: %v", err)
			}
		}
	})
	b.Run("UpdateIfVersion", func(b *testing.B) {
		k := store.K(pk, "rmw")
		if err := s.Write(ctx, store.Put(k, data)); err != nil {
			b.Fatalf("Write: %v", err)
		}
		for b.Loop() {
			it, err := s.Get(ctx, k)
			if err != nil {
				b.Fatalf("Get: %v", err)
			}
			if err := s.Write(ctx, store.Put(k, data).IfVersion(it.Version)); err != nil {
				b.Fatalf("Write: %v", err)
			}
		}
	})
	b.Run("Get", func(b *testing.B) {
		b.ReportAllocs()
		k := store.K(pk, "get")
		if err := s.Write(ctx, store.Put(k, data)); err != nil {
			b.Fatalf("Write: %v", err)
		}
		for b.Loop() {
			if _, err := s.Get(ctx, k); err != nil {
				b.Fatalf("Get: %v", err)
			}
		}
	})
	b.Run("Query20", func(b *testing.B) {
		qpk := pk + "#query"
		ms := make([]store.Mutation, 20)
		for i := range ms {
			ms[i] = store.Put(store.K(qpk, fmt.Sprintf("q#%02d", i)), data)
		}
		if err := s.Write(ctx, ms...); err != nil {
			b.Fatalf("Write: %v", err)
		}
		for b.Loop() {
			page, err := s.Query(ctx, store.Query{PK: qpk, Prefix: "q#", Limit: 20})
			if err != nil || len(page.Items) != 20 {
				b.Fatalf("Query = %d items, %v; want 20", len(page.Items), err)
			}
		}
	})
	b.Run("AddParallel", func(b *testing.B) {
		k := store.K(pk, "hot")
		b.SetParallelism(8) // 8 goroutines per core race for one counter.
		b.RunParallel(func(p *testing.PB) {
			for p.Next() {
				if err := s.Write(ctx, store.Add(k, 1).AtMost(1<<40)); err != nil {
					b.Errorf("Add: %v", err)
					return
				}
			}
		})
	})
}
