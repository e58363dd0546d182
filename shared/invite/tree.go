package invite

import (
	"context"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/store"
)

// ReferralOf is a member's referral. Errors: errs.NotExist when nobody
// invited the member.
func (s *Service) ReferralOf(ctx context.Context, m string) (Referral, error) {
	const op = "invite.ReferralOf"
	var r Referral
	_, err := store.GetJSON(ctx, s.st, referralKey(m), &r)
	if errs.Is(errs.NotExist, err) {
		return Referral{}, errs.E(op, errs.NotExist, "the member has no inviter")
	}
	if err != nil {
		return Referral{}, errs.E(op, err)
	}
	return r, nil
}

// Invitee is one of an inviter's invitees as the inviter sees it.
type Invitee struct {
	MaskedName string       `json:"masked_name"` // The first character of the nickname, the rest masked.
	Status     InviteStatus `json:"status"`
	BoundAt    time.Time    `json:"bound_at"`
}

// Invitees lists an inviter's invitees in binding order, a page at a time
// (cursor "" first; limit 0 means 50), for the "N friends joined" view:
// names masked, read eventually consistent.
func (s *Service) Invitees(ctx context.Context, inviter, cursor string, limit int) ([]Invitee, string, error) {
	const op = "invite.Invitees"
	rs, next, err := s.inviteesOf(ctx, inviter, cursor, limit)
	if err != nil {
		return nil, "", errs.E(op, err)
	}
	out := make([]Invitee, 0, len(rs))
	for _, r := range rs {
		name := ""
		if s.members != nil {
			if m, err := s.members.Get(ctx, r.Member); err == nil {
				name = pii.MaskName(m.Nickname)
			} else if !errs.Is(errs.NotExist, err) {
				return nil, "", errs.E(op, err)
			}
		}
		out = append(out, Invitee{MaskedName: name, Status: r.Status, BoundAt: r.BoundAt})
	}
	return out, next, nil
}

// inviteesOf is a page of an inviter's invitees' referrals.
func (s *Service) inviteesOf(ctx context.Context, inviter, cursor string, limit int) ([]Referral, string, error) {
	if inviter == "" {
		return nil, "", errs.E(errs.Invalid, "inviter is required")
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	pg, err := s.st.Query(ctx, store.Query{PK: inviteesPK(inviter), After: cursor, Limit: limit, Consistency: store.Eventual})
	if err != nil {
		return nil, "", err
	}
	rs, err := s.referrals(ctx, pg.Items, store.Eventual)
	if err != nil {
		return nil, "", err
	}
	// A rebinding may have moved one away since the page was read.
	kept := rs[:0]
	for _, r := range rs {
		if r.Inviter == inviter {
			kept = append(kept, r)
		}
	}
	return kept, pg.Next, nil
}

// InviteeCount is how many members the inviter has bound now ("N friends
// joined").
func (s *Service) InviteeCount(ctx context.Context, inviter string) (int64, error) {
	its, err := s.st.GetMany(ctx, []store.Key{boundKey(inviter)}, store.Eventual)
	if err != nil {
		return 0, errs.E("invite.InviteeCount", err)
	}
	return its[0].N, nil
}

// Node is a member in a referral tree with its invitees.
type Node struct {
	Member   string       `json:"member"`
	Status   InviteStatus `json:"status,omitempty"`
	Invitees []Node       `json:"invitees,omitempty"`
	More     bool         `json:"more,omitempty"` // More invitees than the page shows.
}

// Tree is a member's referral tree two levels up and two levels down.
type Tree struct {
	Member    string   `json:"member"`
	Ancestors []string `json:"ancestors"` // Nearest first.
	Invitees  []Node   `json:"invitees"`  // Each with its own invitees.
	More      bool     `json:"more,omitempty"`
}

// TreePage is how many invitees a tree shows on each level under a member.
const TreePage = 50

// Tree is a member's referral tree: its ancestors (at most two) and its
// invitees and theirs, up to TreePage under each member, for operators.
func (s *Service) Tree(ctx context.Context, m string) (Tree, error) {
	const op = "invite.Tree"
	t := Tree{Member: m}
	r, err := s.ReferralOf(ctx, m)
	switch {
	case err == nil:
		t.Ancestors = r.Ancestors[:min(2, len(r.Ancestors))]
	case !errs.Is(errs.NotExist, err):
		return Tree{}, errs.E(op, err)
	}
	kids, next, err := s.inviteesOf(ctx, m, "", TreePage)
	if err != nil {
		return Tree{}, errs.E(op, err)
	}
	t.More = next != ""
	for _, k := range kids {
		n := Node{Member: k.Member, Status: k.Status}
		grand, next, err := s.inviteesOf(ctx, k.Member, "", TreePage)
		if err != nil {
			return Tree{}, errs.E(op, err)
		}
		n.More = next != ""
		for _, g := range grand {
			n.Invitees = append(n.Invitees, Node{Member: g.Member, Status: g.Status})
		}
		t.Invitees = append(t.Invitees, n)
	}
	return t, nil
}

// Uses is how often a code has been redeemed.
func (s *Service) Uses(ctx context.Context, codeID string) (int64, error) {
	its, err := s.st.GetMany(ctx, []store.Key{usesKey(codeID)}, store.Strong)
	if err != nil {
		return 0, errs.E("invite.Uses", err)
	}
	return its[0].N, nil
}
