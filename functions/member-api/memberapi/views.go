package memberapi

import (
	"time"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/loyalty"
)

// CouponView is a coupon as its member sees it: its terms, validity and
// status, without the store's bookkeeping (stock shard, idempotency keys)
// or who issued and scanned it.
type CouponView struct {
	ID         string         `json:"id"`
	TemplateID string         `json:"template_id"`
	Name       string         `json:"name"`
	Kind       coupons.Kind   `json:"kind"`
	AmountOff  int64          `json:"amount_off,omitempty"` // Fen.
	Rate       int            `json:"rate,omitempty"`       // Percent payable.
	MaxOff     int64          `json:"max_off,omitempty"`    // Fen; 0 no cap.
	Threshold  int64          `json:"threshold"`            // Fen; 0 none.
	Scope      coupons.Scope  `json:"scope"`
	ValidFrom  time.Time      `json:"valid_from"`
	ValidTo    time.Time      `json:"valid_to"`
	Status     coupons.Status `json:"status"` // As of now: an available coupon past its validity is expired.
	Reason     string         `json:"reason"`
	IssuedAt   time.Time      `json:"issued_at"`
	UsedAt     time.Time      `json:"used_at,omitzero"`
	OrderID    string         `json:"order_id,omitempty"`
	ClosedAt   time.Time      `json:"closed_at,omitzero"`
}

func couponView(c coupons.Instance, now time.Time) CouponView {
	return CouponView{ID: c.ID, TemplateID: c.TemplateID, Name: c.Name, Kind: c.Kind, AmountOff: c.AmountOff,
		Rate: c.Rate, MaxOff: c.MaxOff, Threshold: c.Threshold, Scope: c.Scope, ValidFrom: c.ValidFrom,
		ValidTo: c.ValidTo, Status: c.Effective(now), Reason: c.Reason, IssuedAt: c.IssuedAt, UsedAt: c.UsedAt,
		OrderID: c.OrderID, ClosedAt: c.ClosedAt}
}

func couponViews(cs []coupons.Instance, now time.Time) []CouponView {
	out := make([]CouponView, 0, len(cs))
	for _, c := range cs {
		out = append(out, couponView(c, now))
	}
	return out
}

// EntryView is a points ledger entry as its member sees it: the change, why,
// and the balance after, without the lots and idempotency keys behind it.
type EntryView struct {
	ID        string               `json:"id"`
	Kind      loyalty.EntryKind    `json:"kind"`
	Points    int64                `json:"points"`
	Reason    string               `json:"reason"`
	OrderID   string               `json:"order_id,omitempty"`
	SignInDay string               `json:"signin_day,omitempty"`
	At        time.Time            `json:"at"`
	After     loyalty.BalanceAfter `json:"after"`
}

func entryView(e loyalty.Entry) EntryView {
	return EntryView{ID: e.ID, Kind: e.Kind, Points: e.Points, Reason: e.Reason, OrderID: e.Source.OrderID,
		SignInDay: e.Source.SignInDay, At: e.At, After: e.After}
}
