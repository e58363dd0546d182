package memberapi

import (
	"time"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/loyalty"
)

// CouponView is a coupon as its member sees it.
type CouponView = coupons.View

func couponViews(cs []coupons.Instance, now time.Time) []CouponView {
	out := make([]CouponView, 0, len(cs))
	for _, c := range cs {
		out = append(out, coupons.ViewOf(c, now))
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
