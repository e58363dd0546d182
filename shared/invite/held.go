package invite

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/fraud"
	"github.com/wemember/wemember/shared/store"
)

// heldKey is the item of a held referral in the operators' list;
// inviterHeldKey its item in its inviter's list (for the inviter's
// step-up).
func heldKey(r Referral) store.Key { return store.K("invheld", boundStamp(r.BoundAt)+"#"+r.Member) }
func inviterHeldKey(r Referral) store.Key {
	return store.K("invheld#"+r.Inviter, boundStamp(r.BoundAt)+"#"+r.Member)
}

// hold is the mutations that list a held referral; unhold removes it.
func hold(r Referral) []store.Mutation {
	return []store.Mutation{store.PutJSON(heldKey(r), indexEntry{Member: r.Member}),
		store.PutJSON(inviterHeldKey(r), indexEntry{Member: r.Member})}
}
func unhold(r Referral) []store.Mutation {
	return []store.Mutation{store.Delete(heldKey(r)), store.Delete(inviterHeldKey(r))}
}

// boundStamp renders an instant as a fixed-width, sortable UTC string.
func boundStamp(t time.Time) string { return t.UTC().Format("20060102T150405.000000000Z") }

// Held lists the referrals whose rewards anti-fraud holds for an
// operator, oldest first, a page at a time (cursor "" first).
func (s *Service) Held(ctx context.Context, cursor string, limit int) ([]Referral, string, error) {
	const op = "invite.Held"
	pg, err := s.st.Query(ctx, store.Query{PK: "invheld", After: cursor, Limit: limit})
	if err != nil {
		return nil, "", errs.E(op, err)
	}
	rs, err := s.referrals(ctx, pg.Items, store.Strong)
	if err != nil {
		return nil, "", errs.E(op, err)
	}
	return rs, pg.Next, nil
}

// referrals reads the referrals the index items its point at, in order,
// skipping any gone since.
func (s *Service) referrals(ctx context.Context, its []store.Item, c store.Consistency) ([]Referral, error) {
	ks := make([]store.Key, 0, len(its))
	for _, it := range its {
		var e indexEntry
		if err := json.Unmarshal(it.Data, &e); err != nil {
			return nil, errs.E(errs.Internal, err)
		}
		ks = append(ks, referralKey(e.Member))
	}
	if len(ks) == 0 {
		return nil, nil
	}
	got, err := s.st.GetMany(ctx, ks, c)
	if err != nil {
		return nil, err
	}
	out := make([]Referral, 0, len(got))
	for _, it := range got {
		var r Referral
		if !it.Found() {
			continue
		}
		if err := decodeRef(it, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Approve releases a held referral's rewards: granted now if the invitee
// has registered, else with its registration. Errors: errs.NotExist for a
// member without a referral, errs.Conflict when it is not held.
func (s *Service) Approve(ctx context.Context, invitee, operator string) (Referral, error) {
	return s.review(ctx, "invite.Approve", invitee, operator, false)
}

// Reject refuses a held referral's rewards for good; the binding stays.
// Errors as for Approve.
func (s *Service) Reject(ctx context.Context, invitee, operator string) (Referral, error) {
	return s.review(ctx, "invite.Reject", invitee, operator, true)
}

// review is an operator's decision on held rewards.
func (s *Service) review(ctx context.Context, op, invitee, operator string, reject bool) (Referral, error) {
	if operator == "" || invitee == "" {
		return Referral{}, errs.E(op, errs.Invalid, "member and operator are required")
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		return Referral{}, errs.E(op, err)
	}
	return s.change(ctx, op, invitee, rules, func(r *Referral, _ time.Time) (bool, []store.Mutation, error) {
		if !r.Held {
			return false, nil, errs.E(errs.Conflict, "the member's rewards are not held")
		}
		ms := unhold(*r)
		r.Held, r.Rejected, r.Reviewer = false, reject, operator
		if reject {
			r.Rewards = nil
		}
		return true, ms, nil
	})
}

// StepUpVerified releases the rewards that wait for an inviter's phone
// verification (anti-fraud's step-up after too many invites in a day),
// once the inviter has verified one: every held invitation of the inviter
// whose only flag is the daily limit is approved by "step-up". Holds for an
// operator's review stay. It returns how many it released.
func (s *Service) StepUpVerified(ctx context.Context, inviter string) (int, error) {
	const op = "invite.StepUpVerified"
	if inviter == "" {
		return 0, errs.E(op, errs.Invalid, "inviter is required")
	}
	released, cursor := 0, ""
	for {
		pg, err := s.st.Query(ctx, store.Query{PK: "invheld#" + inviter, After: cursor, Limit: 100})
		if err != nil {
			return released, errs.E(op, err)
		}
		rs, err := s.referrals(ctx, pg.Items, store.Strong)
		if err != nil {
			return released, errs.E(op, err)
		}
		for _, r := range rs {
			if !r.Held || r.Inviter != inviter || slices.ContainsFunc(r.Flags, func(f string) bool { return f != fraud.FlagInviterDaily }) {
				continue
			}
			if _, err := s.review(ctx, op, r.Member, "step-up", false); err != nil && !errs.Is(errs.Conflict, err) {
				return released, err
			}
			released++
		}
		if pg.Next == "" {
			return released, nil
		}
		cursor = pg.Next
	}
}
