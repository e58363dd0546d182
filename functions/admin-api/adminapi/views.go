package adminapi

import (
	"time"

	"github.com/wemember/wemember/shared/coupons"
)

// CouponView is a coupon as an operator or clerk sees it: the member's view
// (terms, validity, status) plus whose it is, who issued and redeemed it and
// for what order, without the store's bookkeeping (stock shard, idempotency
// keys).
type CouponView struct {
	coupons.View
	MemberID    string `json:"member_id"`
	IssuedBy    string `json:"issued_by,omitempty"`
	UsedBy      string `json:"used_by,omitempty"`
	OrderAmount int64  `json:"order_amount,omitempty"` // Fen, as the redemption gave it.
	ClosedBy    string `json:"closed_by,omitempty"`
	CloseReason string `json:"close_reason,omitempty"`
}

func couponView(c coupons.Instance, now time.Time) CouponView {
	return CouponView{View: coupons.ViewOf(c, now), MemberID: c.MemberID, IssuedBy: c.IssuedBy, UsedBy: c.UsedBy,
		OrderAmount: c.OrderAmount, ClosedBy: c.ClosedBy, CloseReason: c.CloseReason}
}

// IssueAnswer is the answer to an operator's coupon issue.
type IssueAnswer struct {
	Coupon    CouponView `json:"coupon"`
	Duplicate bool       `json:"duplicate"` // The key was used before; Coupon is what it issued.
}
