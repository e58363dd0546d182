package sweep

import (
	"context"
	"time"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/imports"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/reminders"
	"github.com/wemember/wemember/shared/store"
)

// Services are what the sweep's jobs run on. The jobs of a nil service are
// left out; without MP the expiry reminders are, and birthdays only get
// their coupons.
type Services struct {
	Store              store.Store
	Members            *member.Service
	Loyalty            *loyalty.Service
	Coupons            *coupons.Service
	Imports            *imports.Service
	MP                 reminders.Sender // The mini-program that sends subscribe messages.
	MPAppID            string           // Its appid, the scope of the members' openids.
	MPReminderTemplate string           // The subscribe-message template of reminders ("" sends none).
}

// Jobs is the sweep's job list, in the order a round calls them. Adding a
// job is one line here: a name and a JobFunc (adapt a domain sweep's
// progress with one of the helpers below).
func Jobs(d Services) []Job {
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
	if d.Members != nil {
		jobs = append(jobs, Job{"members-archive", Archive(d.Members)})
	}
	if d.Members != nil && d.Coupons != nil && d.Loyalty != nil {
		// Without a mini-program (a nil MP), coupons only.
		r := reminders.New(d.Store, d.Members, d.Coupons, d.Loyalty, d.Loyalty, d.MP, reminders.Config{
			MiniProgramAppID: d.MPAppID, TemplateID: d.MPReminderTemplate, Rules: d.Loyalty.Rules})
		jobs = append(jobs, Job{"birthday-coupons", Reminders(r.Birthday)},
			Job{"level-coupons", Reminders(r.MonthlyLevelCoupons)})
		if d.MP != nil && d.MPReminderTemplate != "" { // Reminders need the subscribe template.
			jobs = append(jobs, Job{"expiry-reminders", Reminders(r.Reminders)})
		}
	}
	if d.Imports != nil {
		jobs = append(jobs, Job{"imports-advance", Imports(d.Imports)})
	}
	return jobs
}

// Archive archives members inactive for the identity rules'
// archive_after_days, 180 by default (member.Service.ArchiveInactive).
func Archive(m *member.Service) JobFunc {
	return func(ctx context.Context, now time.Time, limit int) (Result, error) {
		n, more, err := m.ArchiveInactive(ctx, now, limit)
		return Result{Items: n, More: more}, err
	}
}

// Reminders adapts a reminders job (birthday coupons, pre-expiry reminders).
func Reminders(f func(ctx context.Context, now time.Time, limit int) (reminders.Result, error)) JobFunc {
	return func(ctx context.Context, now time.Time, limit int) (Result, error) {
		r, err := f(ctx, now, limit)
		return Result{Items: r.Items, Skipped: r.Skipped, Failed: r.Failed, More: r.More}, err
	}
}

// importSlice is how long one call may advance import jobs, so they share
// the run with the other jobs.
const importSlice = 5 * time.Second

// Imports carries on unfinished member import jobs (imports.Service.AdvanceAny).
func Imports(s *imports.Service) JobFunc {
	return func(ctx context.Context, _ time.Time, _ int) (Result, error) {
		jobs, err := s.AdvanceAny(ctx, importSlice)
		res := Result{Items: len(jobs)} // Jobs advanced; their progress is on the job.
		for _, j := range jobs {
			res.More = res.More || j.Status != imports.Done
		}
		return res, err
	}
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
