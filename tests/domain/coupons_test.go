package domain_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/coupons/couponstest"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/tests/backends"
)

// TestCouponsSuite runs the coupon rules suite on DynamoDB Local
// (shared/coupons runs it on bbolt). There the stock race has 300 members
// for its 100 coupons over 16 goroutines (1000 over 32 on bbolt): every
// round trip costs milliseconds, and three contenders per coupon still
// prove the cap.
func TestCouponsSuite(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		couponstest.RunSuite(t, func(t *testing.T) store.Store { return b.Open(t) }, couponstest.WithContenders(300, 16))
	}, "dynamo")
}

// BenchmarkCouponsExpireDue measures the coupon expiry sweep's items/s on
// every backend (run with -benchtime=20000x for 20,000 due coupons).
func BenchmarkCouponsExpireDue(b *testing.B) {
	for _, be := range backends.All() {
		b.Run(be.Name, func(b *testing.B) {
			couponstest.BenchExpireDue(b, func(b *testing.B) store.Store { return be.Open(b) })
		})
	}
}

// BenchmarkFullWrite measures the store's own ceiling for the sweeps:
// atomic writes of store.MaxWrite puts of new items, 8 at once, in
// mutations per second, on every backend.
func BenchmarkFullWrite(b *testing.B) {
	for _, be := range backends.All() {
		b.Run(be.Name, func(b *testing.B) {
			st := be.Open(b)
			ctx := context.Background()
			var n atomic.Int64
			b.SetParallelism(4) // 8 writers on 2 cores.
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					w := n.Add(1)
					ms := make([]store.Mutation, store.MaxWrite)
					for i := range ms {
						ms[i] = store.Put(store.K(fmt.Sprintf("bench#%d", i%16), fmt.Sprintf("w%d#%d", w, i)), []byte(`{"x":1}`))
					}
					if err := st.Write(ctx, ms...); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(n.Load()*store.MaxWrite)/time.Since(start).Seconds(), "mutations/s")
		})
	}
}
