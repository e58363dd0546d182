package coupons

import (
	"fmt"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/text"
)

// Kind is what a coupon takes off.
type Kind string

// The coupon kinds.
const (
	AmountOff Kind = "amount_off" // A fixed amount in fen.
	Discount  Kind = "discount"   // Pay Rate percent of the price (85 = 15% off).
)

// ScopeKind says which goods a coupon applies to.
type ScopeKind string

// The scopes.
const (
	ScopeAll        ScopeKind = "all"
	ScopeCategories ScopeKind = "categories"
	ScopeProducts   ScopeKind = "products"
)

// Scope limits a coupon to all goods, a category list or a product list.
type Scope struct {
	Kind ScopeKind `json:"kind"`
	IDs  []string  `json:"ids,omitempty"` // Category or product ids.
}

// ValidityKind says how an instance's validity window is computed.
type ValidityKind string

// The validity kinds.
const (
	Fixed    ValidityKind = "fixed"    // The window [From, To] for every instance.
	Relative ValidityKind = "relative" // Days days from receipt.
)

// Validity is a template's validity rule.
type Validity struct {
	Kind ValidityKind `json:"kind"`
	From time.Time    `json:"from,omitzero"`  // Fixed only.
	To   time.Time    `json:"to,omitzero"`    // Fixed only.
	Days int          `json:"days,omitempty"` // Relative only.
}

// TemplateStatus says whether a template may issue.
type TemplateStatus string

// The template statuses.
const (
	Active TemplateStatus = "active"
	Paused TemplateStatus = "paused"
)

// Template is an operator-defined coupon kind from which instances are
// issued. Amounts are in fen.
type Template struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Kind      Kind           `json:"kind"`
	AmountOff int64          `json:"amount_off,omitempty"` // AmountOff kind: fen off.
	Rate      int            `json:"rate,omitempty"`       // Discount kind: percent payable, 1..99.
	MaxOff    int64          `json:"max_off,omitempty"`    // Discount kind: cap in fen; 0 none.
	Threshold int64          `json:"threshold"`            // Minimum order in fen; 0 none.
	Scope     Scope          `json:"scope"`
	Stock     int64          `json:"stock"`      // Total issuable; 0 unlimited.
	PerMember int64          `json:"per_member"` // Takes per member; 0 unlimited.
	Validity  Validity       `json:"validity"`
	Status    TemplateStatus `json:"status"`
	// Shards is the number of stock counter shards, fixed at creation (0
	// there: chosen by the Service). A sharded stock may only grow.
	Shards int `json:"shards"`

	Version   int64     `json:"version"` // Store version; send it back to update.
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

// validTemplateID reports whether id is 1-64 lower-case ASCII letters,
// digits, - or _, starting with a letter or digit. (A loop, not a regexp:
// a compiled regexp would be built at every cold start.)
func validTemplateID(id string) bool {
	if id == "" || len(id) > 64 || id[0] == '-' || id[0] == '_' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// MaxFen bounds every amount of money a template or a redemption names:
// 1,000,000 yuan, far above any real coupon or order and far below where
// sums of them could overflow.
const MaxFen = 100_000_000

// MaxScopeIDLen bounds a scope's category or product ids, in bytes. Every
// coupon carries its template's scope in three items (the coupon, its
// listing copy, its due item), and a sweep or a merge writes 25 coupons at
// once: 500 ids of this length keep such a write far below the store's
// 4 MB and each coupon below its 400 KB.
const MaxScopeIDLen = 64

// Validate checks a template's rules and returns an errs.Invalid error with a
// message an operator can act on.
func (t Template) Validate() error {
	const op = "coupons.Template.Validate"
	bad := func(msg string) error { return errs.E(op, errs.Invalid, msg) }
	if !validTemplateID(t.ID) {
		return bad("template id must be 1-64 lower-case letters, digits, - or _")
	}
	if t.Name == "" || len(t.Name) > 200 {
		return bad("template name is required (at most 200 bytes)")
	}
	if p := text.NameProblem(t.Name, 200); p != "" {
		return bad("name " + p)
	}
	switch t.Kind {
	case AmountOff:
		if t.AmountOff <= 0 || t.AmountOff > MaxFen {
			return bad(fmt.Sprintf("amount_off must be 1..%d fen", MaxFen))
		}
		if t.Rate != 0 || t.MaxOff != 0 {
			return bad("an amount-off coupon has no rate or max off")
		}
	case Discount:
		if t.Rate < 1 || t.Rate > 99 {
			return bad("discount rate must be 1..99 (percent payable)")
		}
		if t.AmountOff != 0 {
			return bad("a discount coupon has no amount off")
		}
		if t.MaxOff < 0 || t.MaxOff > MaxFen {
			return bad(fmt.Sprintf("max_off must be 0..%d fen (0: no cap)", MaxFen))
		}
	default:
		return bad("coupon kind must be amount_off or discount")
	}
	if t.Threshold < 0 || t.Threshold > MaxFen {
		return bad(fmt.Sprintf("threshold must be 0..%d fen (0: none)", MaxFen))
	}
	if t.Kind == AmountOff && t.Threshold > 0 && t.AmountOff > t.Threshold {
		return bad("amount off must not exceed the threshold")
	}
	switch t.Scope.Kind {
	case ScopeAll:
		if len(t.Scope.IDs) != 0 {
			return bad("scope all takes no ids")
		}
	case ScopeCategories, ScopeProducts:
		if len(t.Scope.IDs) == 0 || len(t.Scope.IDs) > 500 {
			return bad("a category or product scope needs 1..500 ids")
		}
		for _, id := range t.Scope.IDs {
			if id == "" || len(id) > MaxScopeIDLen {
				return bad(fmt.Sprintf("scope ids must be 1..%d bytes", MaxScopeIDLen))
			}
		}
	default:
		return bad("scope must be all, categories or products")
	}
	if t.Stock < 0 {
		return bad("stock must not be negative (0 means unlimited)")
	}
	if t.PerMember < 0 {
		return bad("per-member limit must not be negative (0 means unlimited)")
	}
	if t.Shards < 0 || t.Shards > 64 {
		return bad("shards must be 0..64")
	}
	if t.Stock > 0 && int64(t.Shards) > t.Stock {
		return bad("shards must not exceed the stock")
	}
	switch t.Validity.Kind {
	case Fixed:
		if t.Validity.From.IsZero() || t.Validity.To.IsZero() || !t.Validity.From.Before(t.Validity.To) {
			return bad("a fixed validity needs from before to")
		}
		if t.Validity.Days != 0 {
			return bad("a fixed validity has no days")
		}
	case Relative:
		if t.Validity.Days < 1 || t.Validity.Days > 3660 {
			return bad("a relative validity needs 1..3660 days")
		}
		if !t.Validity.From.IsZero() || !t.Validity.To.IsZero() {
			return bad("a relative validity has no from or to")
		}
	default:
		return bad("validity must be fixed or relative")
	}
	if t.Status != Active && t.Status != Paused {
		return bad("status must be active or paused")
	}
	return nil
}

// window computes the validity of an instance received at now.
func (t Template) window(now time.Time) (from, to time.Time) {
	if t.Validity.Kind == Fixed {
		return t.Validity.From.UTC().Truncate(time.Second), t.Validity.To.UTC().Truncate(time.Second)
	}
	return now, now.AddDate(0, 0, t.Validity.Days)
}

// shardCap is how much of the stock shard i of n may hand out; the caps sum
// to the stock and each grows monotonically with it.
func shardCap(stock int64, n, i int) int64 {
	c := stock / int64(n)
	if int64(i) < stock%int64(n) {
		c++
	}
	return c
}

// checkChange enforces what an update may change on a stored template.
func checkChange(old, t Template) error {
	const op = "coupons.SaveTemplate"
	if t.Shards != old.Shards {
		return errs.E(op, errs.Invalid, "shards are fixed when the template is created")
	}
	if t.Shards > 1 && t.Stock != old.Stock && (old.Stock == 0 || t.Stock < old.Stock) && t.Stock != 0 {
		return errs.E(op, errs.Invalid, fmt.Sprintf(
			"the stock of a sharded template can only grow (now %d); pause it or create a new template", old.Stock))
	}
	return nil
}

// Defaults returns the templates installed on first start: registration (10
// yuan off, no threshold, 30 days), birthday, the 7-day sign-in streak
// discount and the silver level's monthly 满减 coupon, with the ids the
// default loyalty rules name. Operators change them afterwards.
func Defaults() []Template {
	all := Scope{Kind: ScopeAll}
	days := func(n int) Validity { return Validity{Kind: Relative, Days: n} }
	return []Template{
		{ID: "registration", Name: "新人礼 10元无门槛券", Kind: AmountOff, AmountOff: 1000, Scope: all,
			PerMember: 1, Validity: days(30), Status: Active},
		{ID: "birthday", Name: "生日礼 20元券", Kind: AmountOff, AmountOff: 2000, Threshold: 10000, Scope: all,
			Validity: days(10), Status: Active},
		{ID: "signin-streak", Name: "连续签到7天 9折券", Kind: Discount, Rate: 90, MaxOff: 1000, Scope: all,
			Validity: days(14), Status: Active},
		{ID: "level-silver", Name: "白银会员月度 满100减10元券", Kind: AmountOff, AmountOff: 1000, Threshold: 10000,
			Scope: all, Validity: days(31), Status: Active},
	}
}
