// Package onboard grants what a member is due by membership alone, once,
// whichever entry point they use: the registration coupon on joining, the
// invitation rewards when invitations land, and the monthly coupon of
// their level. Every grant is idempotent per
// member, so a crash midway is repaired by the member's next arrival.
package onboard

import (
	"context"
	"log/slog"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/web"
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

// MonthlyLevelCoupon issues the monthly coupon of the member's level (the
// level's benefit names the template), once per member, month (Asia/
// Shanghai) and level. A level without one issues nothing; a sold-out or
// paused template is not an error; a missing one is logged. It reports the coupon issued now or
// earlier this month, if any.
func (s *Service) MonthlyLevelCoupon(ctx context.Context, memberID string, lv loyalty.LevelView, now time.Time) (*coupons.Instance, error) {
	tpl := lv.Level.Benefits.MonthlyCouponTemplate
	if tpl == "" {
		return nil, nil
	}
	month := calendar.Month(now)
	got, err := s.Coupons.Issue(ctx, coupons.IssueCmd{TemplateID: tpl, MemberID: memberID,
		Reason: coupons.ReasonLevel + ":" + lv.Level.ID, Key: "lvl#" + memberID + "#" + month + "#" + lv.Level.ID})
	if errs.Is(errs.NotExist, err) {
		// The level names a template that does not exist: a rule for an
		// operator to fix, not the member's failure.
		web.Logger(ctx).ErrorContext(ctx, "monthly level coupon not issued", slog.String("level_id", lv.Level.ID),
			slog.String("template", tpl), slog.String("kind", errs.KindOf(err).String()), slog.String("error", err.Error()))
		return nil, nil
	}
	if errs.Is(errs.Conflict, err) || errs.Is(errs.Expired, err) {
		return nil, nil // Sold out, paused or over the take limit.
	}
	if err != nil {
		return nil, errs.E("onboard.MonthlyLevelCoupon", err)
	}
	return &got.Instance, nil
}
