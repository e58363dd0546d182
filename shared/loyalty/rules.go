package loyalty

import (
	"fmt"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/errs"
)

// Basis is what a member's level is computed from.
type Basis string

// The level bases.
const (
	BasisGrowth Basis = "growth" // Growth value against Level.MinGrowth.
	BasisSpend  Basis = "spend"  // Cumulative paid amount against Level.MinSpendFen.
	BasisFixed  Basis = "fixed"  // Only set levels (paid membership); others have the lowest.
)

// DowngradeMode says what a review does to a member below their level.
type DowngradeMode string

// The downgrade modes.
const (
	DowngradeNever     DowngradeMode = "never"      // Never downgrade.
	DowngradeAutomatic DowngradeMode = "automatic"  // Downgrade at the review.
	DowngradeAfterDays DowngradeMode = "after_days" // Downgrade when still below GraceDays after the review.
)

// ExpiryMode says when a lot of points expires.
type ExpiryMode string

// The expiry modes. Month and year ends are in Asia/Shanghai.
const (
	ExpireNever      ExpiryMode = "never"
	ExpireRolling    ExpiryMode = "rolling"      // ExpiryRule.Days after earning.
	ExpireEndOfMonth ExpiryMode = "end_of_month" // At the end of the month of earning.
	ExpireEndOfYear  ExpiryMode = "end_of_year"  // At the end of the year of earning.
)

// ReversalMode says how a reversal covers points already spent.
type ReversalMode string

// The reversal modes. Either way, nothing is silently lost.
const (
	// ReverseClawBack takes the spent part from the member's other live
	// lots (FIFO) and records what is still missing as debt.
	ReverseClawBack ReversalMode = "claw_back"
	// ReverseDebt records the spent part as debt, paid off first by later
	// earnings.
	ReverseDebt ReversalMode = "debt"
)

// Benefits are what a level gives.
type Benefits struct {
	DiscountPercent int  `json:"discount_percent"` // Percent of the price paid: 100 none, 95 is 95折.
	FreeDelivery    bool `json:"free_delivery"`
	// MonthlyCouponTemplate is the id of a coupon template (package coupons)
	// issued monthly to members of the level; empty for none.
	MonthlyCouponTemplate string `json:"monthly_coupon_template,omitempty"`
	PriorityService       bool   `json:"priority_service"`
}

// Level is one row of the level table.
type Level struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	MinGrowth    int64    `json:"min_growth"`    // Threshold with BasisGrowth.
	MinSpendFen  int64    `json:"min_spend_fen"` // Threshold with BasisSpend.
	ReviewMonths int      `json:"review_months"` // Review period; 0: never reviewed.
	Benefits     Benefits `json:"benefits"`
}

// LevelRules are the level table and how members move in it.
type LevelRules struct {
	Basis     Basis         `json:"basis"`
	Table     []Level       `json:"table"` // Lowest first; thresholds strictly ascending.
	Downgrade DowngradeMode `json:"downgrade"`
	GraceDays int           `json:"grace_days"` // For DowngradeAfterDays.
}

// GrowthRules say how growth is earned.
type GrowthRules struct {
	PerYuan int64 `json:"per_yuan"`
	SignIn  int64 `json:"signin"`
	Review  int64 `json:"review"`
}

// ExpiryRule says when a lot expires.
type ExpiryRule struct {
	Mode ExpiryMode `json:"mode"`
	Days int        `json:"days,omitempty"` // For ExpireRolling.
}

// SignInRules give the points of a daily sign-in by streak day: Table[i] is
// the points of day i+1 of a streak (base plus bonus); after the last day
// the table starts over.
type SignInRules struct {
	Table []int64 `json:"table"`
}

// OffsetRules say how points pay part of an order.
type OffsetRules struct {
	PointsPerYuan int64 `json:"points_per_yuan"` // 100: 100 points = 1 yuan.
	MaxPercent    int   `json:"max_percent"`     // At most this percent of an order; 0 disables offset.
	MaxPoints     int64 `json:"max_points"`      // At most this many points per order; 0: no limit.
}

// PointsRules say how points are earned, spent and expire.
type PointsRules struct {
	PerYuan     int64        `json:"per_yuan"`
	SignIn      SignInRules  `json:"signin"`
	Review      int64        `json:"review"`
	Share       int64        `json:"share"`
	Offset      OffsetRules  `json:"offset"`
	Expiry      ExpiryRule   `json:"expiry"`       // Default expiry of a lot.
	PendingDays int          `json:"pending_days"` // Default pending period of an order's points.
	Reversal    ReversalMode `json:"reversal"`
}

// Rules are all loyalty rules, stored as one versioned item.
type Rules struct {
	// Version is the stored version; SetRules requires the caller's Version
	// to equal the current one (optimistic concurrency).
	Version     int64       `json:"version"`
	InstalledAt time.Time   `json:"installed_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
	UpdatedBy   string      `json:"updated_by"`
	Levels      LevelRules  `json:"levels"`
	Growth      GrowthRules `json:"growth"`
	Points      PointsRules `json:"points"`
}

// RulesChange is one history item: the rules as set, by whom and when.
type RulesChange struct {
	Version int64     `json:"version"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Rules   Rules     `json:"rules"`
}

// DefaultRules are the SPEC.md defaults. Values SPEC.md does not give are
// marked: growth for sign-in (1) and review (5), the sign-in table (5 a day,
// 20 on day 7), offset cap (50% of an order), expiry (never), pending (0
// days) and the monthly coupon template ids.
func DefaultRules() Rules {
	return Rules{
		Levels: LevelRules{
			Basis: BasisGrowth,
			Table: []Level{
				{ID: "normal", Name: "普通会员", Benefits: Benefits{DiscountPercent: 100}},
				{ID: "silver", Name: "白银会员", MinGrowth: 1000, MinSpendFen: 100_00, ReviewMonths: 12,
					Benefits: Benefits{DiscountPercent: 98, MonthlyCouponTemplate: "level-silver"}},
				{ID: "gold", Name: "黄金会员", MinGrowth: 5000, MinSpendFen: 500_00, ReviewMonths: 3,
					Benefits: Benefits{DiscountPercent: 95, FreeDelivery: true,
						MonthlyCouponTemplate: "level-gold", PriorityService: true}},
			},
			Downgrade: DowngradeAfterDays,
			GraceDays: 30,
		},
		Growth: GrowthRules{PerYuan: 1, SignIn: 1, Review: 5},
		Points: PointsRules{
			PerYuan:  1,
			SignIn:   SignInRules{Table: []int64{5, 5, 5, 5, 5, 5, 20}},
			Review:   10,
			Share:    20,
			Offset:   OffsetRules{PointsPerYuan: 100, MaxPercent: 50},
			Expiry:   ExpiryRule{Mode: ExpireNever},
			Reversal: ReverseClawBack,
		},
	}
}

// Validate checks rules: a non-empty level table with unique ids, the lowest
// level at threshold 0, strictly ascending (non-overlapping) thresholds, no
// negative amounts, and known modes.
func (r Rules) Validate() error {
	const op = "loyalty.Rules.Validate"
	bad := func(msg string) error { return errs.E(op, errs.Invalid, "rules: "+msg) }
	l := r.Levels
	switch l.Basis {
	case BasisGrowth, BasisSpend, BasisFixed:
	default:
		return bad("unknown level basis")
	}
	if len(l.Table) == 0 || len(l.Table) > 20 {
		return bad("the level table needs 1 to 20 levels")
	}
	ids := map[string]bool{}
	for i, lv := range l.Table {
		if lv.ID == "" || len(lv.ID) > 50 || ids[lv.ID] {
			return bad(fmt.Sprintf("level %d needs a unique id", i))
		}
		ids[lv.ID] = true
		if lv.MinGrowth < 0 || lv.MinSpendFen < 0 || lv.ReviewMonths < 0 || lv.ReviewMonths > 120 {
			return bad(fmt.Sprintf("level %s has a negative threshold or review period", lv.ID))
		}
		if lv.Benefits.DiscountPercent < 1 || lv.Benefits.DiscountPercent > 100 {
			return bad(fmt.Sprintf("level %s discount must be 1..100 percent", lv.ID))
		}
		if i == 0 && (lv.MinGrowth != 0 || lv.MinSpendFen != 0) {
			return bad("the lowest level must start at 0")
		}
		if i > 0 && (lv.MinGrowth <= l.Table[i-1].MinGrowth || lv.MinSpendFen <= l.Table[i-1].MinSpendFen) {
			return bad(fmt.Sprintf("level %s overlaps the level below it", lv.ID))
		}
	}
	switch l.Downgrade {
	case DowngradeNever, DowngradeAutomatic, DowngradeAfterDays:
	default:
		return bad("unknown downgrade mode")
	}
	if l.GraceDays < 0 || l.GraceDays > 3660 {
		return bad("grace days out of range")
	}
	g, p := r.Growth, r.Points
	if g.PerYuan < 0 || g.SignIn < 0 || g.Review < 0 || p.PerYuan < 0 || p.Review < 0 || p.Share < 0 {
		return bad("amounts must not be negative")
	}
	if len(p.SignIn.Table) == 0 || len(p.SignIn.Table) > 31 {
		return bad("the sign-in table needs 1 to 31 days")
	}
	for _, v := range p.SignIn.Table {
		if v < 0 || v > MaxPoints {
			return bad("sign-in points out of range")
		}
	}
	if p.Offset.PointsPerYuan <= 0 || p.Offset.MaxPercent < 0 || p.Offset.MaxPercent > 100 || p.Offset.MaxPoints < 0 {
		return bad("offset rule out of range")
	}
	if err := p.Expiry.validate(); err != nil {
		return bad(err.Error())
	}
	if p.PendingDays < 0 || p.PendingDays > 366 {
		return bad("pending days out of range")
	}
	switch p.Reversal {
	case ReverseClawBack, ReverseDebt:
	default:
		return bad("unknown reversal mode")
	}
	return nil
}

func (e ExpiryRule) validate() error {
	switch e.Mode {
	case ExpireNever, ExpireEndOfMonth, ExpireEndOfYear:
		return nil
	case ExpireRolling:
		if e.Days < 1 || e.Days > 3660 {
			return fmt.Errorf("rolling expiry needs 1 to 3660 days")
		}
		return nil
	}
	return fmt.Errorf("unknown expiry mode")
}

// ExpiresAt is when a lot earned at t expires; zero means never.
func (e ExpiryRule) ExpiresAt(t time.Time) time.Time {
	c := t.In(calendar.Zone())
	switch e.Mode {
	case ExpireRolling:
		return t.AddDate(0, 0, e.Days)
	case ExpireEndOfMonth:
		return time.Date(c.Year(), c.Month()+1, 1, 0, 0, 0, 0, calendar.Zone())
	case ExpireEndOfYear:
		return time.Date(c.Year()+1, 1, 1, 0, 0, 0, 0, calendar.Zone())
	}
	return time.Time{}
}

// PaymentPoints are the points earned by a payment of fen.
func (r Rules) PaymentPoints(fen int64) int64 { return max(0, fen) * r.Points.PerYuan / 100 }

// PaymentGrowth is the growth earned by a payment of fen.
func (r Rules) PaymentGrowth(fen int64) int64 { return max(0, fen) * r.Growth.PerYuan / 100 }

// SignInPoints are the points of day streak (1-based) of a sign-in streak.
func (r Rules) SignInPoints(streak int) int64 {
	t := r.Points.SignIn.Table
	if streak < 1 || len(t) == 0 {
		return 0
	}
	return t[(streak-1)%len(t)]
}

// Offset says how many of want points may pay an order of orderFen and what
// they are worth in fen: bounded by the percent and points caps and rounded
// down to whole fen.
func (r Rules) Offset(orderFen, want int64) (points, fen int64) {
	o := r.Points.Offset
	if orderFen <= 0 || want <= 0 || o.PointsPerYuan <= 0 {
		return 0, 0
	}
	capFen := orderFen * int64(o.MaxPercent) / 100
	pts := min(want, capFen*o.PointsPerYuan/100)
	if o.MaxPoints > 0 {
		pts = min(pts, o.MaxPoints)
	}
	fen = pts * 100 / o.PointsPerYuan
	return fen * o.PointsPerYuan / 100, fen
}
