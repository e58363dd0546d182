// Package onboard grants what a member is due by membership alone, once,
// whichever entry point they use: the registration coupon on joining, and
// the invitation rewards when invitations land. Every grant is idempotent
// per member, so a crash midway is repaired by the member's next arrival.
// (The monthly coupon of a level is the expiry sweep's: package reminders.)
package onboard

import (
	"context"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
)

// Service welcomes new members.
type Service struct {
	Members *member.Service
	Coupons *coupons.Service
}

// Welcome grants the registration rewards and marks the member welcomed. A
// sold-out or paused registration coupon does not stop the welcome.
func (s *Service) Welcome(ctx context.Context, m member.Member) error {
	const op = "onboard.Welcome"
	if m.Welcomed {
		return nil
	}
	_, err := s.Coupons.OnRegistration(ctx, m.ID)
	if errs.Is(errs.NotExist, err) {
		// A new deployment: install the default templates, then try again.
		if err := s.Coupons.InstallDefaults(ctx); err != nil {
			return errs.E(op, err)
		}
		_, err = s.Coupons.OnRegistration(ctx, m.ID)
	}
	if err != nil && !errs.Is(errs.Conflict, err) {
		return errs.E(op, err)
	}
	if err := s.Members.MarkWelcomed(ctx, m.ID); err != nil {
		return errs.E(op, err)
	}
	return nil
}
