package sweep

import (
	"context"
	"time"

	"github.com/wemember/wemember/shared/boot"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/member"
)

// Jobs is the sweep's job list, in the order a round calls them. Adding a
// job is one line here: a name and a JobFunc (adapt a domain sweep's
// progress with one of the helpers below).
func Jobs(d *boot.Deps) []Job {
	var jobs []Job
	if d.Loyalty != nil {
		jobs = append(jobs,
			Job{"points-expire", Loyalty(d.Loyalty.ExpireDue)},
			Job{"points-release", Loyalty(d.Loyalty.ReleaseDue)},
			Job{"level-review", Loyalty(d.Loyalty.ReviewLevels)},
		)
	}
	if d.Coupons != nil {
		jobs = append(jobs, Job{"coupons-expire", Coupons(d.Coupons.ExpireDue)})
	}
	if d.Members != nil {
		jobs = append(jobs, Job{"merges-resume", Merges(d.Members)})
	}
	// The lead adds here: member archive (180 days inactive), birthday
	// coupons, pre-expiry reminders, import jobs.
	return jobs
}

// Loyalty adapts a loyalty sweep (ExpireDue, ReleaseDue, ReviewLevels).
func Loyalty(f func(ctx context.Context, now time.Time, limit int) (loyalty.SweepResult, error)) JobFunc {
	return func(ctx context.Context, now time.Time, limit int) (Result, error) {
		r, err := f(ctx, now, limit)
		return Result{Items: r.Items, Points: r.Points, Skipped: r.Skipped, Failed: r.Failed, More: r.More}, err
	}
}

// Coupons adapts a coupon sweep (coupons.Service.ExpireDue).
func Coupons(f func(ctx context.Context, now time.Time, limit int) (coupons.Progress, error)) JobFunc {
	return func(ctx context.Context, now time.Time, limit int) (Result, error) {
		p, err := f(ctx, now, limit)
		return Result{Items: p.Expired, Skipped: p.Cleaned, More: p.More}, err
	}
}

// Merges resumes unfinished member merges (member.Service.ResumeMerges). It
// reports More when it advanced a full limit of merges.
func Merges(m *member.Service) JobFunc {
	return func(ctx context.Context, _ time.Time, limit int) (Result, error) {
		n, err := m.ResumeMerges(ctx, limit)
		return Result{Items: n, More: n >= limit}, err
	}
}
