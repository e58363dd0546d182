package coupons_test

import (
	"testing"
	"time"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
)

func TestOff(t *testing.T) {
	amount := coupons.Instance{Kind: coupons.AmountOff, AmountOff: 1000, Threshold: 5000}
	rate := coupons.Instance{Kind: coupons.Discount, Rate: 85}
	capped := coupons.Instance{Kind: coupons.Discount, Rate: 50, MaxOff: 2000}
	small := coupons.Instance{Kind: coupons.AmountOff, AmountOff: 1000}
	cases := []struct {
		name   string
		in     coupons.Instance
		amount int64
		want   int64
		kind   errs.Kind
	}{
		{"at threshold", amount, 5000, 1000, errs.Other},
		{"below threshold", amount, 4999, 0, errs.Invalid},
		{"15% off", rate, 10000, 1500, errs.Other},
		{"15% off rounds to the member", rate, 999, 150, errs.Other},
		{"capped", capped, 10000, 2000, errs.Other},
		{"never more than the amount", small, 300, 300, errs.Other},
		{"negative", small, -1, 0, errs.Invalid},
	}
	for _, tc := range cases {
		got, err := tc.in.Off(tc.amount)
		if got != tc.want || errs.KindOf(err) != tc.kind {
			t.Errorf("%s: Off(%d) = %d, %v; want %d, kind %v", tc.name, tc.amount, got, err, tc.want, tc.kind)
		}
	}
}

func TestApplies(t *testing.T) {
	cases := []struct {
		scope   coupons.Scope
		product string
		cat     string
		want    bool
	}{
		{coupons.Scope{Kind: coupons.ScopeAll}, "p1", "c1", true},
		{coupons.Scope{Kind: coupons.ScopeProducts, IDs: []string{"p1", "p2"}}, "p2", "c9", true},
		{coupons.Scope{Kind: coupons.ScopeProducts, IDs: []string{"p1"}}, "p3", "c1", false},
		{coupons.Scope{Kind: coupons.ScopeCategories, IDs: []string{"c1"}}, "p3", "c1", true},
		{coupons.Scope{Kind: coupons.ScopeCategories, IDs: []string{"c1"}}, "p1", "c2", false},
	}
	for i, tc := range cases {
		if got := (coupons.Instance{Scope: tc.scope}).Applies(tc.product, tc.cat); got != tc.want {
			t.Errorf("case %d: Applies(%s, %s) = %v, want %v", i, tc.product, tc.cat, got, tc.want)
		}
	}
}

func TestEffective(t *testing.T) {
	to := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	in := coupons.Instance{Status: coupons.Available, ValidTo: to}
	if got := in.Effective(to); got != coupons.Available {
		t.Errorf("at valid-to: %s, want available", got)
	}
	if got := in.Effective(to.Add(time.Second)); got != coupons.Expired {
		t.Errorf("after valid-to: %s, want expired", got)
	}
	in.Status = coupons.Used
	if got := in.Effective(to.Add(time.Hour)); got != coupons.Used {
		t.Errorf("used after valid-to: %s, want used", got)
	}
}

func TestBirthdayDue(t *testing.T) {
	// at builds an instant from a Shanghai wall-clock date.
	at := func(y int, m time.Month, d, h int) time.Time {
		return time.Date(y, m, d, h, 0, 0, 0, time.FixedZone("CST", 8*3600))
	}
	cases := []struct {
		name     string
		birthday string
		now      time.Time
		wantYear int
		wantDue  bool
	}{
		{"3 days before", "03-13", at(2026, 3, 10, 9), 2026, true},
		{"4 days before", "03-14", at(2026, 3, 10, 9), 0, false},
		{"on the day", "03-10", at(2026, 3, 10, 23), 2026, true},
		{"the day after", "03-09", at(2026, 3, 10, 0), 0, false},
		{"Shanghai day, not UTC", "03-14", at(2026, 3, 11, 1), 2026, true},
		{"over new year", "01-02", at(2026, 12, 30, 12), 2027, true},
		{"29 February in a common year", "02-29", at(2027, 2, 26, 12), 2027, true},
		{"29 February in a leap year", "02-29", at(2028, 2, 26, 12), 2028, true},
		{"29 February on 1 March", "02-29", at(2027, 3, 1, 12), 0, false},
	}
	for _, tc := range cases {
		year, due, err := coupons.BirthdayDue(tc.birthday, tc.now, 3)
		if err != nil || year != tc.wantYear || due != tc.wantDue {
			t.Errorf("%s: BirthdayDue(%s, %v) = %d, %v, %v; want %d, %v", tc.name, tc.birthday, tc.now, year, due, err, tc.wantYear, tc.wantDue)
		}
	}
	for _, bad := range []string{"", "3-10", "13-01", "02-30", "0310"} {
		if _, _, err := coupons.BirthdayDue(bad, time.Now(), 3); !errs.Is(errs.Invalid, err) {
			t.Errorf("BirthdayDue(%q): %v, want invalid", bad, err)
		}
	}
}

func TestRandomID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := coupons.RandomID()
		if len(id) != 26 || seen[id] {
			t.Fatalf("RandomID = %q (seen %v), want 26 fresh characters", id, seen[id])
		}
		seen[id] = true
	}
}
