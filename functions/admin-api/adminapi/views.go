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
	ID          string         `json:"id"`
	MemberID    string         `json:"member_id"`
	TemplateID  string         `json:"template_id"`
	Name        string         `json:"name"`
	Kind        coupons.Kind   `json:"kind"`
	AmountOff   int64          `json:"amount_off,omitempty"` // Fen.
	Rate        int            `json:"rate,omitempty"`       // Percent payable.
	MaxOff      int64          `json:"max_off,omitempty"`    // Fen; 0 no cap.
	Threshold   int64          `json:"threshold"`            // Fen; 0 none.
	Scope       coupons.Scope  `json:"scope"`
	ValidFrom   time.Time      `json:"valid_from"`
	ValidTo     time.Time      `json:"valid_to"`
	Status      coupons.Status `json:"status"` // As of now: an available coupon past its validity is expired.
	Reason      string         `json:"reason"`
	IssuedBy    string         `json:"issued_by,omitempty"`
	IssuedAt    time.Time      `json:"issued_at"`
	UsedAt      time.Time      `json:"used_at,omitzero"`
	UsedBy      string         `json:"used_by,omitempty"`
	OrderID     string         `json:"order_id,omitempty"`
	OrderAmount int64          `json:"order_amount,omitempty"` // Fen, as the redemption gave it.
	ClosedAt    time.Time      `json:"closed_at,omitzero"`
	ClosedBy    string         `json:"closed_by,omitempty"`
	CloseReason string         `json:"close_reason,omitempty"`
}

func couponView(c coupons.Instance, now time.Time) CouponView {
	return CouponView{ID: c.ID, MemberID: c.MemberID, TemplateID: c.TemplateID, Name: c.Name, Kind: c.Kind,
		AmountOff: c.AmountOff, Rate: c.Rate, MaxOff: c.MaxOff, Threshold: c.Threshold, Scope: c.Scope,
		ValidFrom: c.ValidFrom, ValidTo: c.ValidTo, Status: c.Effective(now), Reason: c.Reason,
		IssuedBy: c.IssuedBy, IssuedAt: c.IssuedAt, UsedAt: c.UsedAt, UsedBy: c.UsedBy, OrderID: c.OrderID,
		OrderAmount: c.OrderAmount, ClosedAt: c.ClosedAt, ClosedBy: c.ClosedBy, CloseReason: c.CloseReason}
}

// IssueAnswer is the answer to an operator's coupon issue.
type IssueAnswer struct {
	Coupon    CouponView `json:"coupon"`
	Duplicate bool       `json:"duplicate"` // The key was used before; Coupon is what it issued.
}
