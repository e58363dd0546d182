package invite

import (
	"context"
	"time"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/funnel"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
)

// successKey counts a member's successful invites (N): invitees who
// registered. The privilege is granted with the add that reaches
// Rewards.PrivilegeAfter.
func successKey(m string) store.Key { return store.K(member.Partition(m), "invsuccess") }

// campaignFirstKey counts the invitees of a campaign who got its coupon (N),
// capped at Rewards.CampaignFirst.
func campaignFirstKey(campaign string) store.Key { return store.K("invcamp#"+campaign, "first") }

// redPacketKey sums the red packets owed for a code's invitations (N, in
// fen), capped at Rewards.RedPacketCapFen.
func redPacketKey(codeID string) store.Key { return store.K(codePK(codeID), "redpacket") }

// grantKeys names a reward of a write and tells whether a failed key of
// the write means the reward is not to be had from this command.
type grantKeys struct {
	name  string
	spent func(k store.Key) bool
}

// spent remembers, across the attempts of one command, the rewards that
// its lost writes showed cannot be had (a campaign's first invitees all
// served, a reward key used already).
type spent struct{ names map[string]bool }

func (sp *spent) has(name string) bool { return sp.names[name] }

// lost marks the rewards that key k, which failed a write, rules out.
func (sp *spent) lost(k store.Key, gs []grantKeys) {
	for _, g := range gs {
		if g.spent(k) {
			if sp.names == nil {
				sp.names = map[string]bool{}
			}
			sp.names[g.name] = true
		}
	}
}

// Reward keys: every reward of an invitation has a key of its own, the
// same however often the command runs, so that it is granted once.
func regKey(invitee, side string) string { return "invite:reg:" + invitee + ":" + side }

// planRegistration works out the registration rewards of referral r, due
// now: both sides' points, the inviter's successful-invite count (and its
// privilege at Rewards.PrivilegeAfter), the campaign coupon for its first
// invitees and the red packet owed to the inviter. It records them on r
// and marks r rewarded. A held referral gets its points listed as held and
// nothing written; a rewarded or rejected one gets nothing.
func (s *Service) planRegistration(ctx context.Context, op string, r *Referral, rules Rules, sp *spent, now time.Time) ([]store.Mutation, []grantKeys, error) {
	rw := rules.Rewards
	if r.Rewarded || r.Rejected {
		return nil, nil, nil
	}
	if r.Held {
		r.Rewards = nil
		if r.Inviter != "" && rw.InviterPoints > 0 {
			r.Rewards = append(r.Rewards, Reward{Kind: RewardPoints, Member: r.Inviter, Points: rw.InviterPoints, Held: true})
		}
		if rw.InviteePoints > 0 {
			r.Rewards = append(r.Rewards, Reward{Kind: RewardPoints, Member: r.Member, Points: rw.InviteePoints, Held: true})
		}
		return nil, nil, nil
	}
	var ms []store.Mutation
	var gs []grantKeys
	var out []Reward
	points := func(to string, pts int64, side string) error {
		name := "points:" + side
		if s.loyalty == nil || pts <= 0 || to == "" || sp.has(name) {
			return nil
		}
		p, err := s.loyalty.PlanEarn(ctx, loyalty.EarnCmd{MemberID: to, Points: pts, Reason: "invitation",
			Source: loyalty.Source{EventID: "invite:" + r.Member}, Key: regKey(r.Member, side)})
		if errs.Is(errs.Exist, err) || err == nil && p.Done {
			// Granted already: before this binding (a rebinding), or by a
			// concurrent command whose write this one sees in part (DynamoDB
			// reads are not isolated from a transaction in flight). Either
			// way not twice; in the second case this write fails on the
			// referral and is planned again.
			return nil
		}
		if err != nil {
			return err
		}
		ms = append(ms, p.Mutations...)
		gs = append(gs, grantKeys{name: name, spent: p.Spent})
		out = append(out, Reward{Kind: RewardPoints, Member: to, Points: pts})
		return nil
	}
	if err := points(r.Inviter, rw.InviterPoints, "inviter"); err != nil {
		return nil, nil, errs.E(op, err)
	}
	if err := points(r.Member, rw.InviteePoints, "invitee"); err != nil {
		return nil, nil, errs.E(op, err)
	}
	ks := []store.Key{campaignFirstKey(firstOf(r.Campaign, "-")), redPacketKey(r.Code)}
	if r.Inviter != "" {
		ks = append(ks, successKey(r.Inviter))
	}
	its, err := s.st.GetMany(ctx, ks, store.Strong)
	if err != nil {
		return nil, nil, errs.E(op, err)
	}
	coupon := func(name, tpl, to, key, reason string) (string, bool, error) {
		if s.coupons == nil || tpl == "" || sp.has(name) {
			return "", false, nil
		}
		g, err := s.coupons.PlanIssue(ctx, coupons.IssueCmd{TemplateID: tpl, MemberID: to, Reason: reason, Key: key})
		if coupons.Unavailable(err) {
			return "", false, nil // Sold out, paused or ended: the invitation goes on without it.
		}
		if err != nil {
			return "", false, err
		}
		ms = append(ms, g.Mutations...)
		gs = append(gs, grantKeys{name: name, spent: g.Spent})
		return g.Instance.ID, true, nil
	}
	if r.Inviter != "" {
		n := its[2].N
		add := store.Add(successKey(r.Inviter), 1)
		if rw.PrivilegeAfter > 0 && n < int64(rw.PrivilegeAfter) {
			add = add.AtMost(n + 1) // Exactly one command makes the count reach it.
		}
		ms = append(ms, add)
		if rw.PrivilegeAfter > 0 && n+1 == int64(rw.PrivilegeAfter) {
			id, _, err := coupon("privilege", rw.PrivilegeCoupon, r.Inviter, "invite:privilege:"+r.Inviter, "invite_privilege")
			if err != nil {
				return nil, nil, errs.E(op, err)
			}
			out = append(out, Reward{Kind: RewardPrivilege, Member: r.Inviter, Coupon: id})
		}
	}
	tpl := rw.CampaignCoupon
	if r.Campaign != "" && rw.CampaignFirst > 0 && !sp.has("campaign") && its[0].N < rw.CampaignFirst {
		cp, _, err := s.campaign(ctx, op, r.Campaign)
		if err != nil && !errs.Is(errs.NotExist, err) {
			return nil, nil, err
		}
		tpl = firstOf(cp.Coupon, tpl)
	}
	if r.Campaign != "" && tpl != "" && rw.CampaignFirst > 0 && !sp.has("campaign") && its[0].N < rw.CampaignFirst {
		id, ok, err := coupon("campaign-coupon", tpl, r.Member,
			"invite:campaign:"+r.Campaign+":"+r.Member, "invite_campaign")
		if err != nil {
			return nil, nil, errs.E(op, err)
		}
		if ok {
			ck := campaignFirstKey(r.Campaign)
			ms = append(ms, store.Add(ck, 1).AtMost(rw.CampaignFirst))
			gs = append(gs, grantKeys{name: "campaign", spent: func(k store.Key) bool { return k == ck }})
			out = append(out, Reward{Kind: RewardCoupon, Member: r.Member, Coupon: id})
		}
	}
	if r.Inviter != "" && rw.RedPacketFen > 0 {
		fen := rw.RedPacketFen
		if rw.RedPacketCapFen > 0 {
			fen = min(fen, rw.RedPacketCapFen-its[1].N)
		}
		if fen > 0 {
			add := store.Add(redPacketKey(r.Code), fen)
			if rw.RedPacketCapFen > 0 {
				add = add.AtMost(rw.RedPacketCapFen)
			}
			ms = append(ms, add)
			ms = append(ms, owe(Payout{ID: "rp-" + r.Code + "-" + r.Member, Inviter: r.Inviter, Invitee: r.Member,
				Code: r.Code, Fen: fen, Status: PayoutOwed, OwedAt: now})...)
			out = append(out, Reward{Kind: RewardRedPacket, Member: r.Inviter, Fen: fen})
		}
	}
	r.Rewarded, r.Rewards = true, out
	return ms, gs, nil
}

// Registered advances an invitation to registered when its invitee
// registers (the first-login event, for a binding made before it) and
// grants the registration rewards, in one atomic write. An invitation
// registered already is answered as it is. Errors: errs.NotExist when the
// member has no referral, errs.Transient when the store stays busy.
func (s *Service) Registered(ctx context.Context, invitee string) (Referral, error) {
	const op = "invite.Registered"
	rules, err := s.Rules(ctx)
	if err != nil {
		return Referral{}, errs.E(op, err)
	}
	return s.change(ctx, op, invitee, rules, func(r *Referral, now time.Time) (bool, []store.Mutation, error) {
		if r.Status.rank() >= StatusRegistered.rank() {
			return false, nil, nil
		}
		r.Status = StatusRegistered
		fms, err := s.funnelRegister(*r, now)
		return true, fms, err
	})
}

// change reads a member's referral, lets edit change it (reporting whether
// it did, with mutations of its own to write along), works out the
// registration rewards it may now be due, and writes it all, conditioned
// on the referral's version; a lost race reads again.
func (s *Service) change(ctx context.Context, op, invitee string, rules Rules,
	edit func(r *Referral, now time.Time) (bool, []store.Mutation, error)) (Referral, error) {
	sp := &spent{}
	for range retry.Tries(ctx, maxTries) {
		var r Referral
		it, err := store.GetJSON(ctx, s.st, referralKey(invitee), &r)
		if errs.Is(errs.NotExist, err) {
			return Referral{}, errs.E(op, errs.NotExist, "the member has no inviter")
		}
		if err != nil {
			return Referral{}, errs.E(op, err)
		}
		now := s.now().UTC()
		changed, ms, err := edit(&r, now)
		if err != nil {
			return Referral{}, errs.E(op, err)
		}
		if !changed {
			return r, nil
		}
		var gs []grantKeys
		if r.Status.rank() >= StatusRegistered.rank() {
			var gms []store.Mutation
			if gms, gs, err = s.planRegistration(ctx, op, &r, rules, sp, now); err != nil {
				return Referral{}, err
			}
			ms = append(ms, gms...)
		}
		ms = append(ms, store.PutJSON(referralKey(invitee), r).IfVersion(it.Version))
		err = s.st.Write(ctx, ms...)
		if err == nil {
			return r, nil
		}
		if k, ok := store.FailedKey(err); ok {
			sp.lost(k, gs)
		} else if !errs.Is(errs.Transient, err) {
			return Referral{}, errs.E(op, err)
		}
	}
	return Referral{}, errs.E(op, errs.Transient, "too much contention; retry")
}

// funnelRegister is the funnel's count of a registration through r.
func (s *Service) funnelRegister(r Referral, now time.Time) ([]store.Mutation, error) {
	return s.count(funnel.Event{Step: funnel.StepRegister, At: now, Trigger: r.Trigger, Channel: r.Channel,
		Code: r.Code, Inviter: r.Inviter, Subject: r.Member, Elapsed: now.Sub(r.BoundAt)})
}
