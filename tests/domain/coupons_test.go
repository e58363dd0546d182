package domain_test

import (
	"testing"

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
