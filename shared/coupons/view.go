package coupons

import "time"

// View is a coupon as its member sees it: its terms, validity and status,
// without the store's bookkeeping (stock shard, idempotency keys) or who
// issued and scanned it. Answers that show more (an operator's) embed it.
type View struct {
	ID         string    `json:"id"`
	TemplateID string    `json:"template_id"`
	Name       string    `json:"name"`
	Kind       Kind      `json:"kind"`
	AmountOff  int64     `json:"amount_off,omitempty"` // Fen.
	Rate       int       `json:"rate,omitempty"`       // Percent payable.
	MaxOff     int64     `json:"max_off,omitempty"`    // Fen; 0 no cap.
	Threshold  int64     `json:"threshold"`            // Fen; 0 none.
	Scope      Scope     `json:"scope"`
	ValidFrom  time.Time `json:"valid_from"`
	ValidTo    time.Time `json:"valid_to"`
	Status     Status    `json:"status"` // As of now: an available coupon past its validity is expired.
	Reason     string    `json:"reason"`
	IssuedAt   time.Time `json:"issued_at"`
	UsedAt     time.Time `json:"used_at,omitzero"`
	OrderID    string    `json:"order_id,omitempty"`
	ClosedAt   time.Time `json:"closed_at,omitzero"`
}

// ViewOf is c as its member sees it at now.
func ViewOf(c Instance, now time.Time) View {
	return View{ID: c.ID, TemplateID: c.TemplateID, Name: c.Name, Kind: c.Kind, AmountOff: c.AmountOff,
		Rate: c.Rate, MaxOff: c.MaxOff, Threshold: c.Threshold, Scope: c.Scope, ValidFrom: c.ValidFrom,
		ValidTo: c.ValidTo, Status: c.Effective(now), Reason: c.Reason, IssuedAt: c.IssuedAt, UsedAt: c.UsedAt,
		OrderID: c.OrderID, ClosedAt: c.ClosedAt}
}
