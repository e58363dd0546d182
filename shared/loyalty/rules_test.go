package loyalty_test

import (
	"testing"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/loyalty"
)

func TestOffset(t *testing.T) {
	r := loyalty.DefaultRules()
	capped := loyalty.DefaultRules()
	capped.Points.Offset.MaxPoints = 300
	cases := []struct {
		name                  string
		r                     loyalty.Rules
		orderFen, want        int64
		wantPoints, wantFenOf int64
	}{
		{"100 points are 1 yuan", r, 10000, 100, 100, 100},
		{"capped at half the order", r, 1000, 5000, 500, 500},
		{"whole fen only", r, 10000, 150, 150, 150},
		{"points cap", capped, 100000, 5000, 300, 300},
		{"nothing wanted", r, 10000, 0, 0, 0},
		{"free order", r, 0, 100, 0, 0},
	}
	for _, c := range cases {
		pts, fen := c.r.Offset(c.orderFen, c.want)
		if pts != c.wantPoints || fen != c.wantFenOf {
			t.Errorf("%s: got %d points = %d fen, want %d = %d", c.name, pts, fen, c.wantPoints, c.wantFenOf)
		}
	}
	odd := loyalty.DefaultRules()
	odd.Points.Offset.PointsPerYuan = 150 // 1.5 points a fen: 101 points round down to 67 fen, which cost 100 points.
	if pts, fen := odd.Offset(10000, 101); pts != 100 || fen != 67 {
		t.Errorf("uneven rate: got %d points = %d fen, want 100 = 67", pts, fen)
	}
}

func TestEarnRates(t *testing.T) {
	r := loyalty.DefaultRules()
	cases := []struct {
		fen, points, growth int64
	}{{12345, 123, 123}, {99, 0, 0}, {-100, 0, 0}, {100, 1, 1}}
	for _, c := range cases {
		if got := r.PaymentPoints(c.fen); got != c.points {
			t.Errorf("PaymentPoints(%d): got %d, want %d", c.fen, got, c.points)
		}
		if got := r.PaymentGrowth(c.fen); got != c.growth {
			t.Errorf("PaymentGrowth(%d): got %d, want %d", c.fen, got, c.growth)
		}
	}
}

func TestExpiresAt(t *testing.T) {
	sh := calendar.Zone()
	// 23:30 on 31 Jan in Shanghai is still 31 Jan although UTC says 15:30.
	earned := time.Date(2026, 1, 31, 23, 30, 0, 0, sh)
	cases := []struct {
		rule loyalty.ExpiryRule
		want time.Time
	}{
		{loyalty.ExpiryRule{Mode: loyalty.ExpireNever}, time.Time{}},
		{loyalty.ExpiryRule{Mode: loyalty.ExpireRolling, Days: 30}, earned.AddDate(0, 0, 30)},
		{loyalty.ExpiryRule{Mode: loyalty.ExpireEndOfMonth}, time.Date(2026, 2, 1, 0, 0, 0, 0, sh)},
		{loyalty.ExpiryRule{Mode: loyalty.ExpireEndOfYear}, time.Date(2027, 1, 1, 0, 0, 0, 0, sh)},
	}
	for _, c := range cases {
		if got := c.rule.ExpiresAt(earned.UTC()); !got.Equal(c.want) {
			t.Errorf("%s: got %v, want %v", c.rule.Mode, got, c.want)
		}
	}
	if err := loyalty.DefaultRules().Validate(); err != nil {
		t.Errorf("default rules: %v", err)
	}
}

// TestValidateBasis checks that only the threshold the basis selects must
// ascend: a growth table may leave spend at zero and the other way round,
// and a fixed table compares neither.
func TestValidateBasis(t *testing.T) {
	table := func(basis loyalty.Basis, growth, spend []int64) loyalty.Rules {
		r := loyalty.DefaultRules()
		r.Levels.Basis = basis
		r.Levels.Table = append([]loyalty.Level(nil), r.Levels.Table...)
		for i := range r.Levels.Table {
			r.Levels.Table[i].MinGrowth, r.Levels.Table[i].MinSpendFen = growth[i], spend[i]
		}
		return r
	}
	zero := []int64{0, 0, 0}
	cases := []struct {
		name string
		r    loyalty.Rules
		ok   bool
	}{
		{"growth only", table(loyalty.BasisGrowth, []int64{0, 1000, 5000}, zero), true},
		{"spend only", table(loyalty.BasisSpend, zero, []int64{0, 100_00, 500_00}), true},
		{"fixed", table(loyalty.BasisFixed, zero, zero), true},
		{"growth not ascending", table(loyalty.BasisGrowth, []int64{0, 1000, 1000}, []int64{0, 1, 2}), false},
		{"spend not ascending", table(loyalty.BasisSpend, []int64{0, 1, 2}, zero), false},
	}
	for _, c := range cases {
		if err := c.r.Validate(); (err == nil) != c.ok {
			t.Errorf("%s: Validate = %v, want ok %v", c.name, err, c.ok)
		}
	}
}

// TestDefaultLevelBenefitsAreCumulative: a higher default level keeps what
// the level below gives and adds to it; gold is 88折 with free delivery,
// the new-product preview and dedicated service.
func TestDefaultLevelBenefitsAreCumulative(t *testing.T) {
	table := loyalty.DefaultRules().Levels.Table
	for i := 1; i < len(table); i++ {
		lo, hi := table[i-1].Benefits, table[i].Benefits
		if hi.DiscountPercent > lo.DiscountPercent || lo.FreeDelivery && !hi.FreeDelivery ||
			lo.PriorityService && !hi.PriorityService || lo.NewProductPreview && !hi.NewProductPreview {
			t.Errorf("%s benefits %+v lose some of %s's %+v", table[i].ID, hi, table[i-1].ID, lo)
		}
	}
	gold := table[len(table)-1]
	want := loyalty.Benefits{DiscountPercent: 88, FreeDelivery: true, PriorityService: true, NewProductPreview: true}
	if gold.ID != "gold" || gold.Benefits != want {
		t.Errorf("top level = %s %+v, want gold %+v", gold.ID, gold.Benefits, want)
	}
}
