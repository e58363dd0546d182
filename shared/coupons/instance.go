package coupons

import (
	"slices"
	"time"

	"github.com/wemember/wemember/shared/errs"
)

// Status is the life-cycle state of an issued coupon.
type Status string

// The instance statuses.
const (
	Available Status = "available"
	Used      Status = "used"
	Expired   Status = "expired"
	Revoked   Status = "revoked"
)

// Instance is one issued coupon. It belongs to one member, snapshots the
// template's terms at issue (a later template change does not alter it), and
// is redeemed by its own id, never by the template.
type Instance struct {
	ID              string `json:"id"`
	MemberID        string `json:"member_id"`
	TemplateID      string `json:"template_id"`
	TemplateVersion int64  `json:"template_version"`
	Name            string `json:"name"`
	Kind            Kind   `json:"kind"`
	AmountOff       int64  `json:"amount_off,omitempty"`
	Rate            int    `json:"rate,omitempty"`
	MaxOff          int64  `json:"max_off,omitempty"`
	Threshold       int64  `json:"threshold"`
	Scope           Scope  `json:"scope"`

	ValidFrom time.Time `json:"valid_from"`
	ValidTo   time.Time `json:"valid_to"` // Last valid instant; expired after it.
	Status    Status    `json:"status"`

	Reason   string    `json:"reason"`              // Trigger or operator reason.
	IssuedBy string    `json:"issued_by,omitempty"` // Operator, for manual issues.
	IssueKey string    `json:"issue_key"`
	IssuedAt time.Time `json:"issued_at"`
	Shard    int       `json:"shard"` // Stock shard it took.

	UsedAt  time.Time `json:"used_at,omitzero"`
	UsedBy  string    `json:"used_by,omitempty"` // Clerk, or the member.
	OrderID string    `json:"order_id,omitempty"`
	// OrderAmount is the order's amount in fen as the redemption gave it
	// (0 when not given).
	OrderAmount int64  `json:"order_amount,omitempty"`
	RedeemKey   string `json:"redeem_key,omitempty"`

	ClosedAt    time.Time `json:"closed_at,omitzero"` // Expired or revoked at.
	ClosedBy    string    `json:"closed_by,omitempty"`
	CloseReason string    `json:"close_reason,omitempty"`
}

// Effective reports the status as of now: an available coupon past its
// validity is expired even before the sweep has moved it.
func (in Instance) Effective(now time.Time) Status {
	if in.Status == Available && now.After(in.ValidTo) {
		return Expired
	}
	return in.Status
}

// Applies reports whether the coupon's scope covers a product of a category.
func (in Instance) Applies(productID, categoryID string) bool {
	switch in.Scope.Kind {
	case ScopeProducts:
		return slices.Contains(in.Scope.IDs, productID)
	case ScopeCategories:
		return slices.Contains(in.Scope.IDs, categoryID)
	default:
		return true
	}
}

// Off returns how many fen the coupon takes off an eligible amount (in fen).
// It fails with errs.Invalid when the amount is below the threshold.
func (in Instance) Off(amount int64) (int64, error) {
	if amount < 0 {
		return 0, errs.E("coupons.Off", errs.Invalid, "amount must not be negative")
	}
	if amount < in.Threshold {
		return 0, errs.E("coupons.Off", errs.Invalid, "order amount is below the coupon threshold")
	}
	var off int64
	switch in.Kind {
	case AmountOff:
		off = min(in.AmountOff, amount)
	case Discount:
		off = amount - amount*int64(in.Rate)/100
		if in.MaxOff > 0 {
			off = min(off, in.MaxOff)
		}
	}
	return off, nil
}
