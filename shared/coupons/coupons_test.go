package coupons_test

import (
	"path/filepath"
	"testing"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/coupons/couponstest"
	"github.com/wemember/wemember/shared/store"
)

func openBolt(tb testing.TB) *bolt.Store {
	tb.Helper()
	s, err := bolt.Open(filepath.Join(tb.TempDir(), "coupons.db"))
	if err != nil {
		tb.Fatalf("bolt.Open: %v", err)
	}
	return s
}

// TestSuite runs the coupon rules against bbolt.
func TestSuite(t *testing.T) {
	couponstest.RunSuite(t, func(t *testing.T) store.Store { return openBolt(t) })
}

func benchOpen(b *testing.B) store.Store { return openBolt(b) }

// BenchmarkIssue measures one issue at a time on bbolt.
func BenchmarkIssue(b *testing.B) { couponstest.BenchIssue(b, benchOpen) }

// BenchmarkIssueContended measures concurrent issues of one hot template,
// unsharded and sharded.
func BenchmarkIssueContended(b *testing.B) { couponstest.BenchIssueContended(b, benchOpen) }

// BenchmarkRedeem measures redemptions on bbolt.
func BenchmarkRedeem(b *testing.B) { couponstest.BenchRedeem(b, benchOpen) }

// BenchmarkExpireDue measures the expiry sweep in items per second.
func BenchmarkExpireDue(b *testing.B) { couponstest.BenchExpireDue(b, benchOpen) }
