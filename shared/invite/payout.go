package invite

import (
	"context"
	"encoding/json"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// PayoutStatus is where an owed red packet is.
type PayoutStatus string

// The payout statuses.
const (
	PayoutOwed PayoutStatus = "owed"
	PayoutPaid PayoutStatus = "paid"
)

// Payout is a cash red packet owed to an inviter for one invitation,
// which the payment side pays and marks paid (PayoutPaidMutations).
type Payout struct {
	ID       string       `json:"id"`
	Inviter  string       `json:"inviter"`
	Invitee  string       `json:"invitee"`
	Code     string       `json:"code"`
	Fen      int64        `json:"fen"`
	Status   PayoutStatus `json:"status"`
	OwedAt   time.Time    `json:"owed_at"`
	PaidAt   time.Time    `json:"paid_at,omitzero"`
	Transfer string       `json:"transfer,omitempty"` // The payment's reference.
}

// payoutKey is a payout's record; owedKey its item in the list of owed
// payouts, removed when it is paid.
func payoutKey(id string) store.Key { return store.K("invpayout#"+id, "payout") }
func owedKey(id string) store.Key   { return store.K("invpayouts#owed", id) }

// owe is the mutations that record payout p as owed.
func owe(p Payout) []store.Mutation {
	return []store.Mutation{store.PutJSON(payoutKey(p.ID), p).IfAbsent(), store.PutJSON(owedKey(p.ID), p)}
}

// Payouts lists the owed payouts, a page at a time (cursor "" first).
func (s *Service) Payouts(ctx context.Context, cursor string, limit int) ([]Payout, string, error) {
	const op = "invite.Payouts"
	pg, err := s.st.Query(ctx, store.Query{PK: owedKey("").PK, After: cursor, Limit: limit})
	if err != nil {
		return nil, "", errs.E(op, err)
	}
	out := make([]Payout, 0, len(pg.Items))
	for _, it := range pg.Items {
		var p Payout
		if err := json.Unmarshal(it.Data, &p); err != nil {
			return nil, "", errs.E(op, errs.Internal, err)
		}
		out = append(out, p)
	}
	return out, pg.Next, nil
}

// PayoutPaidMutations are the mutations that mark owed payout p paid by
// transfer at at, for the payment's own write: they require it still
// owed, so a payout is marked paid once (a second write fails with
// errs.Conflict on the owed item).
func PayoutPaidMutations(p Payout, transfer string, at time.Time) ([]store.Mutation, error) {
	if p.ID == "" || transfer == "" {
		return nil, errs.E("invite.PayoutPaidMutations", errs.Invalid, "payout and transfer are required")
	}
	p.Status, p.PaidAt, p.Transfer = PayoutPaid, at.UTC(), transfer
	return []store.Mutation{store.Delete(owedKey(p.ID)).IfExists(), store.PutJSON(payoutKey(p.ID), p).IfExists()}, nil
}
