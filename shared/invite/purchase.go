package invite

import (
	"context"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/funnel"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/once"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
)

// PurchaseCmd is a purchase an invitee booked, as the payment side tells
// the invitation about it.
type PurchaseCmd struct {
	Invitee  string
	OrderKey string // The order's idempotency key (its transaction id).
	First    bool   // The invitee's first purchase.
}

// purchaseKey is the record that a purchase was booked for the invitation.
func purchaseKey(order string) store.Key { return store.K("idem#invite#order#"+order, "idem") }

// PlanPurchase works out what a booked purchase means for the invitee's
// invitation, for the payment's own atomic write: the first purchase
// moves it to first_purchase and earns the inviter
// Rewards.FirstPurchasePoints (once); every purchase earns the inviter
// Rewards.RebateDirect and the inviter's inviter Rewards.RebateIndirect
// (once per OrderKey). A member without an inviter, an invitation whose
// rewards are held or rejected, or an order booked before gives no
// mutations. When the payment's write fails with errs.Conflict, planning
// again reads what changed.
func (s *Service) PlanPurchase(ctx context.Context, c PurchaseCmd) ([]store.Mutation, error) {
	const op = "invite.PlanPurchase"
	if c.Invitee == "" || c.OrderKey == "" || len(c.OrderKey) > 300 {
		return nil, errs.E(op, errs.Invalid, "invitee and order key are required")
	}
	pk := purchaseKey(c.OrderKey)
	scope := "invite.Purchase|" + c.Invitee
	if _, ok, err := once.Lookup[bool](ctx, s.st, pk, scope); err != nil {
		return nil, errs.E(op, err)
	} else if ok {
		return nil, nil
	}
	var r Referral
	it, err := store.GetJSON(ctx, s.st, referralKey(c.Invitee), &r)
	if errs.Is(errs.NotExist, err) {
		return nil, nil
	}
	if err != nil {
		return nil, errs.E(op, err)
	}
	if r.Inviter == "" || r.Held || r.Rejected {
		return nil, nil
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		return nil, errs.E(op, err)
	}
	rw := rules.Rewards
	now := s.now().UTC()
	claim, err := once.Claim(pk, scope, now, true, 0)
	if err != nil {
		return nil, errs.E(op, err)
	}
	ms := []store.Mutation{claim}
	owed := map[string]int64{}
	if c.First && r.Status != StatusFirstPurchase {
		r.Status = StatusFirstPurchase
		owed[r.Inviter] += rw.FirstPurchasePoints
		ms = append(ms, store.PutJSON(referralKey(c.Invitee), r).IfVersion(it.Version))
		fms, err := s.count(funnel.Event{Step: funnel.StepFirstOrder, At: now, Trigger: r.Trigger, Channel: r.Channel,
			Code: r.Code, Inviter: r.Inviter, Subject: r.Member})
		if err != nil {
			return nil, errs.E(op, err)
		}
		ms = append(ms, fms...)
	} else {
		ms = append(ms, store.Check(referralKey(c.Invitee)).IfVersion(it.Version))
	}
	for i, pts := range []int64{rw.RebateDirect, rw.RebateIndirect} {
		if i < len(r.Ancestors) {
			owed[r.Ancestors[i]] += pts
		}
	}
	for _, to := range r.Ancestors {
		pts := owed[to]
		if s.loyalty == nil || pts <= 0 {
			continue
		}
		p, err := s.loyalty.PlanEarn(ctx, loyalty.EarnCmd{MemberID: to, Points: pts, Reason: "invitation purchase",
			Source: loyalty.Source{OrderID: c.OrderKey}, Key: "invite:order:" + c.OrderKey + ":" + to})
		if err != nil {
			return nil, errs.E(op, err)
		}
		ms = append(ms, p.Mutations...)
	}
	return ms, nil
}

// Purchase books a purchase for the invitee's invitation in a write of its
// own (PlanPurchase), for a payment that does not compose it into its
// write. Booking an order again changes nothing.
func (s *Service) Purchase(ctx context.Context, c PurchaseCmd) error {
	const op = "invite.Purchase"
	for range retry.Tries(ctx, maxTries) {
		ms, err := s.PlanPurchase(ctx, c)
		if err != nil || len(ms) == 0 {
			return err
		}
		err = s.st.Write(ctx, ms...)
		if err == nil {
			return nil
		}
		if !errs.Is(errs.Conflict, err) && !errs.Is(errs.Transient, err) {
			return errs.E(op, err)
		}
	}
	return errs.E(op, errs.Transient, "too much contention; retry")
}
