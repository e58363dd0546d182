package coupons

import (
	"context"
	"fmt"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// Prepared is a coupon issue made ready to ride in another command's atomic
// write: the sign-in of a streak day issues its coupon in the sign-in's own
// write, so the day and its coupon are stored together or not at all.
type Prepared struct {
	Issued
	// Mutations issue the coupon when written with the command's own; none
	// when the key was issued before (Issued.Duplicate). They carry the
	// conditions of Issue's write (the key unused, the stock shard and the
	// member's take limit): when the command's write fails with
	// errs.Conflict, preparing again reads what changed.
	Mutations []store.Mutation
}

// PrepareIssue is Issue without the write, for a command that issues a
// coupon as one of the effects of its own atomic write (at most 6
// mutations). It answers a key seen before as Issue does (Duplicate, no
// mutations), reads the template, checks the member's take limit and picks
// a stock shard with room. Errors as for Issue; errs.Conflict when the
// template is paused or sold out or the member has taken it as often as
// it allows.
func (s *Service) PrepareIssue(ctx context.Context, cmd IssueCmd) (Prepared, error) {
	const op = "coupons.PrepareIssue"
	got, t, err := s.issuable(ctx, op, cmd)
	if err != nil || got.Duplicate {
		return Prepared{Issued: got}, err
	}
	if t.PerMember > 0 {
		it, err := s.st.Get(ctx, takeKey(cmd.MemberID, t.ID))
		if err != nil && !errs.Is(errs.NotExist, err) {
			return Prepared{}, errs.E(op, err)
		}
		if it.N >= t.PerMember {
			return Prepared{}, errs.E(op, errs.Conflict, fmt.Sprintf("member has already taken this coupon %d time(s)", t.PerMember))
		}
	}
	g, err := s.planGrant(ctx, op, cmd, t)
	if err != nil {
		return Prepared{}, err
	}
	return Prepared{Issued: Issued{Instance: g.Instance}, Mutations: g.Mutations}, nil
}

// Unavailable reports whether err is an issue's refusal of a coupon that
// cannot be had (its template paused, sold out, ended or gone, or the
// member's take limit reached), rather than a failure worth a retry: a
// command that grants a coupon as a bonus goes on without it.
func Unavailable(err error) bool {
	return errs.Is(errs.Conflict, err) || errs.Is(errs.Expired, err) || errs.Is(errs.NotExist, err)
}
