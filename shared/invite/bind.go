package invite

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/fraud"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/store"
)

// boundKey counts the members bound under a member now (N): its invitees.
func boundKey(m string) store.Key { return store.K(member.Partition(m), "invbound") }

// inviteeKey is the index item of a referral in its inviter's list.
func inviteeKey(r Referral) store.Key {
	return store.K(inviteesPK(r.Inviter), boundStamp(r.BoundAt)+"#"+r.Member)
}

// bindState is what a binding decision reads, each item with its version.
type bindState struct {
	code            Code
	uses            store.Item
	mine, inviter   store.Item // The referrals of the invitee and the inviter.
	mineRef, invRef Referral
	below           store.Item // The invitee's own invitees (boundKey).
}

// readBind reads, in one round trip, every item a binding decides on.
func (s *Service) readBind(ctx context.Context, op, id, invitee string) (bindState, error) {
	var b bindState
	c, _, err := s.code(ctx, op, id)
	if errs.Is(errs.NotExist, err) {
		return b, refuse(op, ReasonUnknown, "unknown code")
	}
	if err != nil {
		return b, err
	}
	b.code = c
	ks := []store.Key{usesKey(id), referralKey(invitee), boundKey(invitee)}
	if c.Owner != "" {
		ks = append(ks, referralKey(c.Owner))
	}
	its, err := s.st.GetMany(ctx, ks, store.Strong)
	if err != nil {
		return b, errs.E(op, err)
	}
	b.uses, b.mine, b.below = its[0], its[1], its[2]
	if err := decodeRef(b.mine, &b.mineRef); err != nil {
		return b, errs.E(op, err)
	}
	if c.Owner != "" {
		b.inviter = its[3]
		if err := decodeRef(b.inviter, &b.invRef); err != nil {
			return b, errs.E(op, err)
		}
	}
	return b, nil
}

// decodeRef decodes a referral item; an absent one leaves r zero.
func decodeRef(it store.Item, r *Referral) error {
	if !it.Found() {
		return nil
	}
	if err := json.Unmarshal(it.Data, r); err != nil {
		return errs.E(errs.Internal, "stored referral unreadable", err)
	}
	return nil
}

// planRedeem reads and checks a redemption and works out its write.
func (s *Service) planRedeem(ctx context.Context, op string, c RedeemCmd, id string, rules Rules, sp *spent) (plan, error) {
	now := s.now().UTC()
	b, err := s.readBind(ctx, op, id, c.Invitee)
	if err != nil {
		return plan{}, err
	}
	code := b.code
	switch {
	case code.Status == Archived:
		return plan{}, refuse(op, ReasonInactive, "the code is no longer in use")
	case code.Status == Expired || (!code.ExpiresAt.IsZero() && !now.Before(code.ExpiresAt)):
		return plan{}, refuse(op, ReasonExpired, "the code has expired")
	case code.Status != Active:
		return plan{}, refuse(op, ReasonInactive, "the code is not active")
	case (!code.StartsAt.IsZero() && now.Before(code.StartsAt)) || (!code.EndsAt.IsZero() && !now.Before(code.EndsAt)):
		return plan{}, refuse(op, ReasonWindow, "the campaign is not running")
	case code.Cap > 0 && b.uses.N >= code.Cap:
		return plan{}, refuse(op, ReasonUsedUp, "the code has been used up")
	}
	inviter := code.Owner
	old := b.mineRef
	if b.mine.Found() && old.Code == id && old.Inviter == inviter {
		return plan{}, errSame
	}
	if b.mine.Found() && (rules.Bind != BindOverride || old.Inviter == inviter) {
		return plan{}, refuse(op, ReasonBound, "the member already has an inviter")
	}
	switch {
	case rules.Bind == BindRegistration && !c.Registration:
		return plan{}, refuse(op, ReasonNotAtRegistration, "codes are redeemed at registration only")
	case inviter == c.Invitee:
		return plan{}, refuse(op, ReasonSelf, "a member cannot invite itself")
	case slices.Contains(b.invRef.Ancestors, c.Invitee):
		return plan{}, refuse(op, ReasonCycle, "the inviter was invited by this member")
	case inviter != "" && len(b.invRef.Ancestors)+1 > rules.MaxDepth:
		return plan{}, refuse(op, ReasonDepth, "the referral chain would be too deep")
	case b.below.N > 0:
		return plan{}, refuse(op, ReasonDepth, "a member who has invitees is not bound")
	}
	r := Referral{Member: c.Invitee, Inviter: inviter, Code: id, Campaign: code.Campaign, Via: c.Via,
		Status: StatusInvited, BoundAt: now, Trigger: c.Trigger, Channel: firstOf(c.Channel, code.Channel)}
	if inviter != "" {
		r.Ancestors = append([]string{inviter}, b.invRef.Ancestors...)
	}
	if c.Registration {
		r.Status = StatusRegistered
	}
	if b.mine.Found() { // A rebinding (BindOverride): what happened stays.
		r.Previous = append(slices.Clone(old.Previous), old.Inviter)
		r.Rewarded, r.Rejected, r.Rewards = old.Rewarded, old.Rejected, old.Rewards
		if old.Status.rank() > r.Status.rank() {
			r.Status = old.Status
		}
	}
	var ms []store.Mutation
	uses := store.Add(usesKey(id), 1)
	if code.Cap > 0 {
		uses = uses.AtMost(code.Cap)
	}
	ms = append(ms, uses)
	if s.screen != nil {
		v, err := s.screen.Assess(ctx, attempt(c, inviter, now))
		if err != nil {
			return plan{}, errs.E(op, err)
		}
		if v.Refuse {
			return plan{}, refuse(op, ReasonFlagged, "refused by anti-fraud: "+v.Reason)
		}
		r.Flags = v.Flags
		if (v.Hold || v.StepUp) && !r.Rewarded {
			r.Held = true
		}
		ms = append(ms, v.Mutations...)
	}
	ms = append(ms, store.Check(boundKey(c.Invitee)).IfVersion(b.below.Version))
	if inviter != "" {
		ms = append(ms, store.Check(referralKey(inviter)).IfVersion(b.inviter.Version),
			store.PutJSON(inviteeKey(r), indexEntry{Member: r.Member}).IfAbsent(),
			store.Add(boundKey(inviter), 1))
	}
	if b.mine.Found() && old.Inviter != "" {
		ms = append(ms, store.Delete(inviteeKey(old)), store.Add(boundKey(old.Inviter), -1))
	}
	if old.Held && b.mine.Found() {
		ms = append(ms, unhold(old)...)
	}
	p := plan{now: now}
	if r.Held {
		ms = append(ms, hold(r)...)
	}
	if r.Status.rank() >= StatusRegistered.rank() {
		gms, grants, err := s.planRegistration(ctx, op, &r, rules, sp, now)
		if err != nil {
			return plan{}, err
		}
		ms, p.grants = append(ms, gms...), grants
		if c.Registration {
			fms, err := s.funnelRegister(r, now)
			if err != nil {
				return plan{}, errs.E(op, err)
			}
			ms = append(ms, fms...)
		}
	}
	// The referral goes last but one: a write that fails on it and on a
	// counter names the counter.
	ms = append(ms, store.PutJSON(referralKey(c.Invitee), r).IfVersion(b.mine.Version))
	p.ms = ms
	p.out = Redemption{Referral: r, Rewards: r.Rewards}
	return p, nil
}

// attempt is a redemption as anti-fraud sees it.
func attempt(c RedeemCmd, inviter string, now time.Time) fraud.Attempt {
	return fraud.Attempt{Inviter: inviter, Invitee: c.Invitee, Client: c.Client, Device: c.Device,
		Platform: c.Platform, At: now}
}

// errSame tells Redeem that the invitee is bound through this very code:
// the redemption was made, and its record answers it.
var errSame = refuse("invite.Redeem", ReasonBound, "the member already has an inviter")

// indexEntry is the data of an index item pointing at a member's referral.
type indexEntry struct {
	Member string `json:"member"`
}

// firstOf is the first non-empty string.
func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
