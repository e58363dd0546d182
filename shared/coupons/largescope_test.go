package coupons_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
)

// scopeIDs is a product scope of n ids of length bytes each.
func scopeIDs(n, length int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("p%03d", i) + strings.Repeat("x", length-4)
	}
	return ids
}

// TestScopeIDsBounded: a scope id over MaxScopeIDLen is refused, so that
// every coupon of a template fits the store's writes (500 ids of 200 bytes
// made coupons whose expiry batch was over 4 MB and whose merge failed on
// every pass).
func TestScopeIDsBounded(t *testing.T) {
	svc := coupons.New(openBolt(t), coupons.Config{})
	tp := coupons.Template{ID: "big", Name: "big scope", Kind: coupons.AmountOff, AmountOff: 500,
		Scope:    coupons.Scope{Kind: coupons.ScopeProducts, IDs: scopeIDs(500, coupons.MaxScopeIDLen+1)},
		Validity: coupons.Validity{Kind: coupons.Relative, Days: 1}, Status: coupons.Active}
	if _, err := svc.SaveTemplate(context.Background(), tp, "op"); !errs.Is(errs.Invalid, err) {
		t.Fatalf("SaveTemplate with %d-byte scope ids = %v; want Invalid", coupons.MaxScopeIDLen+1, err)
	}
}

// TestExpireLargestScopeCoupons: coupons of a template with the largest
// scope accepted expire in the sweep's batches.
func TestExpireLargestScopeCoupons(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
	svc := coupons.New(openBolt(t), coupons.Config{Now: func() time.Time { return now }})
	tp := coupons.Template{ID: "big", Name: "big scope", Kind: coupons.AmountOff, AmountOff: 500,
		Scope:    coupons.Scope{Kind: coupons.ScopeProducts, IDs: scopeIDs(500, coupons.MaxScopeIDLen)},
		Validity: coupons.Validity{Kind: coupons.Relative, Days: 1}, Status: coupons.Active}
	if _, err := svc.SaveTemplate(ctx, tp, "op"); err != nil {
		t.Fatalf("SaveTemplate: %v", err)
	}
	for i := range 30 {
		if _, err := svc.Issue(ctx, coupons.IssueCmd{TemplateID: "big", MemberID: fmt.Sprintf("m%03d", i), Reason: "test", Key: fmt.Sprintf("k%d", i)}); err != nil {
			t.Fatalf("Issue %d: %v", i, err)
		}
	}
	now = now.Add(48 * time.Hour)
	if p, err := svc.ExpireDue(ctx, now, 1000); err != nil || p.Expired != 30 {
		t.Fatalf("ExpireDue = %+v, %v; want the 30 coupons expired", p, err)
	}
}

// TestAbsorbLargestScopeCoupons: a merge moves 20 coupons of a template
// with the largest scope accepted.
func TestAbsorbLargestScopeCoupons(t *testing.T) {
	ctx := context.Background()
	svc := coupons.New(openBolt(t), coupons.Config{})
	tp := coupons.Template{ID: "big", Name: "big scope", Kind: coupons.AmountOff, AmountOff: 500,
		Scope:    coupons.Scope{Kind: coupons.ScopeProducts, IDs: scopeIDs(500, coupons.MaxScopeIDLen)},
		Validity: coupons.Validity{Kind: coupons.Relative, Days: 30}, Status: coupons.Active}
	if _, err := svc.SaveTemplate(ctx, tp, "op"); err != nil {
		t.Fatalf("SaveTemplate: %v", err)
	}
	for i := range 20 {
		if _, err := svc.Issue(ctx, coupons.IssueCmd{TemplateID: "big", MemberID: "mfrom", Reason: "test", Key: fmt.Sprintf("k%d", i)}); err != nil {
			t.Fatalf("Issue %d: %v", i, err)
		}
	}
	if err := svc.Absorb(ctx, "mfrom", "minto"); err != nil {
		t.Fatalf("Absorb: %v; want the 20 coupons moved", err)
	}
}
