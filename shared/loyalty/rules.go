package loyalty

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/text"
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
	// issued to members of the level by the sweep on the first of each
	// month; empty for none.
	MonthlyCouponTemplate string `json:"monthly_coupon_template,omitempty"`
	PriorityService       bool   `json:"priority_service"` // Dedicated customer service (专属客服).
	NewProductPreview     bool   `json:"new_product_preview"`
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

// CouponRules name the coupon templates (package coupons) the triggers
// issue, and when.
type CouponRules struct {
	Welcome          string `json:"welcome"`            // Issued once to every new member.
	Birthday         string `json:"birthday"`           // Issued once a year before the birthday.
	BirthdayLeadDays int    `json:"birthday_lead_days"` // How many days before (0: on the day).
	Streak           string `json:"streak"`             // Issued on every StreakDays-th sign-in in a row.
	StreakDays       int    `json:"streak_days"`
}

// ReminderRules say when members are told that points, a coupon or a level
// of theirs is about to expire.
type ReminderRules struct {
	AheadDays int `json:"ahead_days"` // How many days before the expiry.
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
	// Coupons and Reminders are absent from documents stored before they
	// existed; reading one fills them with their defaults.
	Coupons   CouponRules   `json:"coupons"`
	Reminders ReminderRules `json:"reminders"`
}

// RulesChange is one history item: the rules as set, by whom and when.
type RulesChange struct {
	Version int64     `json:"version"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Rules   Rules     `json:"rules"`
}

// DefaultRules are the SPEC.md and membership defaults. Values they do not
// give are marked: growth for sign-in (1) and review (5), the sign-in table
// (5 a day, 20 on day 7), offset cap (50% of an order), expiry (never),
// pending (0 days), the reminder lead (3 days) and the template ids, which
// name coupons.Defaults.
func DefaultRules() Rules {
	return Rules{
		Levels: LevelRules{
			Basis: BasisGrowth,
			Table: []Level{
				{ID: "normal", Name: "普通会员", Benefits: Benefits{DiscountPercent: 100}},
				{ID: "silver", Name: "白银会员", MinGrowth: 1000, MinSpendFen: 100_00, ReviewMonths: 12,
					Benefits: Benefits{DiscountPercent: 95, PriorityService: true, MonthlyCouponTemplate: "level-silver"}},
				{ID: "gold", Name: "黄金会员", MinGrowth: 5000, MinSpendFen: 500_00, ReviewMonths: 3,
					Benefits: Benefits{DiscountPercent: 88, FreeDelivery: true, PriorityService: true, NewProductPreview: true}},
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
		Coupons: CouponRules{Welcome: "registration", Birthday: "birthday", BirthdayLeadDays: 3,
			Streak: "signin-streak", StreakDays: 7},
		Reminders: ReminderRules{AheadDays: 3},
	}
}

// withDefaults fills the sections a document stored before they existed
// lacks.
func (r Rules) withDefaults() Rules {
	d := DefaultRules()
	if r.Coupons == (CouponRules{}) {
		r.Coupons = d.Coupons
	}
	if r.Reminders == (ReminderRules{}) {
		r.Reminders = d.Reminders
	}
	return r
}

// clone is r with slices of its own: a caller changing its copy of the
// rules leaves the copy a service keeps (and every other caller's) alone.
func (r Rules) clone() Rules {
	r.Levels.Table = slices.Clone(r.Levels.Table)
	r.Points.SignIn.Table = slices.Clone(r.Points.SignIn.Table)
	return r
}

// Bounds of rule values: what the commands the rules drive accept.
const (
	// MaxPerYuan bounds the growth or points a yuan paid earns.
	MaxPerYuan = 10_000
	// MaxThreshold bounds a level's growth or spend (fen) threshold.
	MaxThreshold = 1_000_000_000_000
	// MaxLevelName bounds a level's name, in characters.
	MaxLevelName = 32
	// MaxLevels bounds the level table.
	MaxLevels = 20
)

// Validate checks rules: a level table of 1 to MaxLevels levels with unique
// ids and sane names, the lowest level at threshold 0 and thresholds
// strictly ascending on the basis's measure (growth or spend; none for a
// fixed basis), every amount within what the commands accept, and known
// modes. Its errors are errs.Invalid and name the field as the JSON
// document spells it ("levels.table[1].min_growth").
func (r Rules) Validate() error {
	const op = "loyalty.Rules.Validate"
	bad := func(field, msg string) error { return errs.E(op, errs.Invalid, "rules: "+field+" "+msg) }
	in := func(field string, v, lo, hi int64) error {
		if v < lo || v > hi {
			return bad(field, fmt.Sprintf("must be %d..%d", lo, hi))
		}
		return nil
	}
	l := r.Levels
	switch l.Basis {
	case BasisGrowth, BasisSpend, BasisFixed:
	default:
		return bad("levels.basis", "must be growth, spend or fixed")
	}
	if len(l.Table) == 0 || len(l.Table) > MaxLevels {
		return bad("levels.table", fmt.Sprintf("needs 1 to %d levels", MaxLevels))
	}
	ids := map[string]bool{}
	for i, lv := range l.Table {
		f := fmt.Sprintf("levels.table[%d].", i)
		if !validLevelID(lv.ID) || ids[lv.ID] {
			return bad(f+"id", "must be unique, 1 to 32 letters, digits, - or _")
		}
		ids[lv.ID] = true
		if msg := nameProblem(lv.Name); msg != "" {
			return bad(f+"name", msg)
		}
		if err := errors.Join(
			in(f+"min_growth", lv.MinGrowth, 0, MaxThreshold),
			in(f+"min_spend_fen", lv.MinSpendFen, 0, MaxThreshold),
			in(f+"review_months", int64(lv.ReviewMonths), 0, 120),
			in(f+"benefits.discount_percent", int64(lv.Benefits.DiscountPercent), 1, 100),
		); err != nil {
			return firstOf(err)
		}
		if t := lv.Benefits.MonthlyCouponTemplate; t != "" && !validTemplateID(t) {
			return bad(f+"benefits.monthly_coupon_template", "is not a template id")
		}
		var v, below int64
		field := ""
		switch l.Basis {
		case BasisGrowth:
			field, v = "min_growth", lv.MinGrowth
			if i > 0 {
				below = l.Table[i-1].MinGrowth
			}
		case BasisSpend:
			field, v = "min_spend_fen", lv.MinSpendFen
			if i > 0 {
				below = l.Table[i-1].MinSpendFen
			}
		default:
			continue // A fixed basis compares no thresholds.
		}
		if i == 0 && v != 0 {
			return bad(f+field, "must be 0: the lowest level starts at 0")
		}
		if i > 0 && v <= below {
			return bad(f+field, "must be above the level below it")
		}
	}
	switch l.Downgrade {
	case DowngradeNever, DowngradeAutomatic, DowngradeAfterDays:
	default:
		return bad("levels.downgrade", "must be never, automatic or after_days")
	}
	g, p := r.Growth, r.Points
	if err := errors.Join(
		in("levels.grace_days", int64(l.GraceDays), 0, 3660),
		in("growth.per_yuan", g.PerYuan, 0, MaxPerYuan),
		in("growth.signin", g.SignIn, 0, MaxPoints),
		in("growth.review", g.Review, 0, MaxPoints),
		in("points.per_yuan", p.PerYuan, 0, MaxPerYuan),
		in("points.review", p.Review, 0, MaxPoints),
		in("points.share", p.Share, 0, MaxPoints),
	); err != nil {
		return firstOf(err)
	}
	if len(p.SignIn.Table) == 0 || len(p.SignIn.Table) > 31 {
		return bad("points.signin.table", "needs 1 to 31 days")
	}
	for i, v := range p.SignIn.Table {
		if err := in(fmt.Sprintf("points.signin.table[%d]", i), v, 0, MaxPoints); err != nil {
			return err
		}
	}
	if err := errors.Join(
		in("points.offset.points_per_yuan", p.Offset.PointsPerYuan, 1, 1_000_000),
		in("points.offset.max_percent", int64(p.Offset.MaxPercent), 0, 100),
		in("points.offset.max_points", p.Offset.MaxPoints, 0, MaxPoints),
		in("points.pending_days", int64(p.PendingDays), 0, 366),
	); err != nil {
		return firstOf(err)
	}
	if err := p.Expiry.validate(); err != nil {
		return bad("points.expiry", err.Error())
	}
	switch p.Reversal {
	case ReverseClawBack, ReverseDebt:
	default:
		return bad("points.reversal", "must be claw_back or debt")
	}
	c := r.Coupons
	for _, t := range []struct{ field, id string }{
		{"coupons.welcome", c.Welcome}, {"coupons.birthday", c.Birthday}, {"coupons.streak", c.Streak},
	} {
		if !validTemplateID(t.id) {
			return bad(t.field, "must name a coupon template")
		}
	}
	return firstOf(errors.Join(
		in("coupons.birthday_lead_days", int64(c.BirthdayLeadDays), 0, 30),
		in("coupons.streak_days", int64(c.StreakDays), 1, 366),
		in("reminders.ahead_days", int64(r.Reminders.AheadDays), 1, 30),
	))
}

// firstOf is the first error of a join (nil for nil), so that a refusal
// names one field.
func firstOf(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()[0]
	}
	return err
}

// Templates lists the coupon templates the rules name, by field.
func (r Rules) Templates() map[string]string {
	out := map[string]string{
		"coupons.welcome":  r.Coupons.Welcome,
		"coupons.birthday": r.Coupons.Birthday,
		"coupons.streak":   r.Coupons.Streak,
	}
	for i, lv := range r.Levels.Table {
		if t := lv.Benefits.MonthlyCouponTemplate; t != "" {
			out[fmt.Sprintf("levels.table[%d].benefits.monthly_coupon_template", i)] = t
		}
	}
	return out
}

func validLevelID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validTemplateID accepts what package coupons accepts as a template id:
// 1 to 128 bytes, here also without control characters or '#'.
func validTemplateID(id string) bool {
	if id == "" || len(id) > 128 || !utf8.ValidString(id) || strings.ContainsRune(id, '#') {
		return false
	}
	return !strings.ContainsFunc(id, unicode.IsControl)
}

// nameProblem says what is wrong with a level name shown to members, or "".
func nameProblem(name string) string {
	switch {
	case !utf8.ValidString(name):
		return "must be UTF-8"
	case strings.TrimSpace(name) == "":
		return "is required"
	case utf8.RuneCountInString(name) > MaxLevelName:
		return fmt.Sprintf("must be at most %d characters", MaxLevelName)
	}
	return text.NameProblem(name, utf8.UTFMax*MaxLevelName)
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
