// Package sweep is the expiry-sweep function: on every scheduled run it
// works through a list of resumable jobs (points expiry and release, level
// reviews, coupon expiry, unfinished member merges, and every other job
// listed in Jobs) until they are done or the invocation's time is nearly up.
//
// Every job is a domain sweep that settles each due item in one atomic
// write together with the removal of its index item, so a run stopped at
// any point leaves nothing half-done, the next run continues where it
// stopped, and two overlapping runs settle each item once.
//
// Jobs take turns: each round calls every job that still has work once
// with a bounded limit, so a large backlog in one job does not starve the
// others. A run stops before the context deadline minus a safety margin
// (or, without a deadline, after a budget) and reports what remains.
package sweep

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/wemember/wemember/shared/auth"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/reqlog"
	"github.com/wemember/wemember/shared/web"
)

// Result is a job's progress in one call.
type Result struct {
	Items   int   // Items this call settled.
	Points  int64 // Points it moved, for points jobs.
	Skipped int   // Items found settled already or stale, dropped.
	Failed  int   // Items left for a later run after an error.
	More    bool  // Work may remain; call again.
}

// JobFunc is one call of a resumable job: it settles at most limit due
// items at now and stops early when ctx is done, reporting More.
type JobFunc func(ctx context.Context, now time.Time, limit int) (Result, error)

// Job is a named job of the sweep.
type Job struct {
	Name string
	Run  JobFunc
}

// JobReport is what one run did of one job.
type JobReport struct {
	Name    string `json:"name"`
	Calls   int    `json:"calls"`
	Items   int    `json:"items"`
	Points  int64  `json:"points,omitempty"`
	Skipped int    `json:"skipped"`
	Failed  int    `json:"failed"`
	More    bool   `json:"more"`            // Work remains for the next run.
	Error   string `json:"error,omitempty"` // The job's failure, if it failed.
}

// Report is the answer of a run.
type Report struct {
	Now     time.Time   `json:"now"`        // The business time the run settled at.
	Jobs    []JobReport `json:"jobs"`       // In list order.
	More    bool        `json:"more"`       // Some job has work left.
	Stopped bool        `json:"stopped"`    // The run stopped on its deadline.
	Failed  bool        `json:"failed"`     // Some job failed.
	Rounds  int         `json:"rounds"`     // Rounds of calls made.
	Elapsed int64       `json:"elapsed_ms"` // Wall time in milliseconds.
}

// Defaults of a Sweeper.
const (
	DefaultLimit     = 1000             // Items per job call: dozens of batched writes, a second or so.
	DefaultBudget    = 25 * time.Second // A run's length when the context has no deadline.
	DefaultMaxMargin = 10 * time.Second // The largest safety margin kept before a deadline.
)

// Sweeper runs the jobs. Build it with New.
type Sweeper struct {
	jobs      []Job
	now       func() time.Time // Business clock, passed to the jobs.
	wall      func() time.Time // Wall clock for the budget.
	ensure    func(ctx context.Context) error
	limit     int
	budget    time.Duration
	maxMargin time.Duration
}

// Option adjusts a Sweeper.
type Option func(*Sweeper)

// WithLimit sets how many items one job call settles (default DefaultLimit).
func WithLimit(n int) Option { return func(s *Sweeper) { s.limit = max(1, n) } }

// WithBudget sets how long a run lasts when its context has no deadline
// (local runs and manual calls; default DefaultBudget).
func WithBudget(d time.Duration) Option { return func(s *Sweeper) { s.budget = d } }

// WithMaxMargin sets the largest safety margin kept before the context's
// deadline (default DefaultMaxMargin; the margin is a tenth of the time
// left, at most this).
func WithMaxMargin(d time.Duration) Option { return func(s *Sweeper) { s.maxMargin = d } }

// WithWallClock sets the clock the budget is measured with (default
// time.Now); tests use it to stop a run after a known number of calls.
func WithWallClock(now func() time.Time) Option { return func(s *Sweeper) { s.wall = now } }

// WithEnsure sets what runs before the jobs (installing the default rules
// and coupon templates).
func WithEnsure(f func(ctx context.Context) error) Option { return func(s *Sweeper) { s.ensure = f } }

// New builds a Sweeper of jobs with the business clock now.
func New(jobs []Job, now func() time.Time, opts ...Option) *Sweeper {
	s := &Sweeper{jobs: jobs, now: now, wall: time.Now, limit: DefaultLimit,
		budget: DefaultBudget, maxMargin: DefaultMaxMargin}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Handler serves POST / and POST /expiry-sweep (relative to the function's
// prefix "/expiry-sweep"): a scheduled trigger runs the sweep; any other
// caller needs the operator bearer token (so the public endpoint of an HTTP
// deployment cannot be used to load the store). It answers the Report as
// JSON: 200, or 500 when a job failed (the next run retries it).
func Handler(s *Sweeper, operatorToken string) web.Handler {
	run := func(ctx context.Context, req *web.Request) (*web.Response, error) {
		if req.Trigger != web.TriggerSchedule {
			if !auth.IsOperator(req, operatorToken) {
				return nil, errs.E("expiry-sweep", errs.Unauthorized, "only the schedule or an operator may run the sweep")
			}
		}
		rep, err := s.Run(ctx)
		if err != nil {
			return nil, err
		}
		status := http.StatusOK
		if rep.Failed {
			status = http.StatusInternalServerError
		}
		return web.JSON(status, rep), nil
	}
	mux := web.NewMux("/expiry-sweep")
	mux.Handle(http.MethodPost, "/", run)
	mux.Handle(http.MethodPost, "/expiry-sweep", run)
	return mux.Serve
}

// Run runs the jobs in rounds until none has work left or the time is up.
// A job that fails is not called again in this run; one whose call made no
// progress but reports More waits for the next run. The error is only for
// a failure before any job ran (ensuring the defaults).
func (s *Sweeper) Run(ctx context.Context) (Report, error) {
	const op = "sweep.Run"
	start := s.wall()
	stop := start.Add(s.budget)
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		stop = start.Add(left - min(s.maxMargin, left/10))
	}
	rctx, cancel := context.WithTimeout(ctx, max(0, stop.Sub(start)))
	defer cancel()
	now := s.now()
	rep := Report{Now: now, Jobs: make([]JobReport, len(s.jobs))}
	open := make([]bool, len(s.jobs)) // Still worth a call in this run.
	for i, j := range s.jobs {
		rep.Jobs[i] = JobReport{Name: j.Name, More: true}
		open[i] = true
	}
	if s.ensure != nil {
		if err := s.ensure(rctx); err != nil {
			if rctx.Err() == nil {
				return rep, errs.E(op, err)
			}
			rep.Stopped, rep.More = true, true
			return rep, nil
		}
	}
	for busy := true; busy; {
		busy = false
		for i, j := range s.jobs {
			if !open[i] {
				continue
			}
			if rctx.Err() != nil || !s.wall().Before(stop) {
				rep.Stopped = true
				break
			}
			jr := &rep.Jobs[i]
			res, err := j.Run(rctx, now, s.limit)
			jr.Calls++
			jr.Items, jr.Points = jr.Items+res.Items, jr.Points+res.Points
			jr.Skipped, jr.Failed = jr.Skipped+res.Skipped, jr.Failed+res.Failed
			jr.More = res.More
			switch {
			case err != nil && rctx.Err() != nil:
				jr.More, open[i] = true, false // Cut off by the deadline.
			case err != nil:
				jr.More, jr.Error, open[i] = true, errs.SafeMessage(err), false
				if jr.Error == "" {
					jr.Error = "failed"
				}
				rep.Failed = true
				reqlog.From(ctx).ErrorContext(ctx, "sweep job failed", slog.String("job", j.Name), slog.String("error", err.Error()))
			case !res.More:
				open[i] = false
			case res.Items == 0 && res.Skipped == 0:
				open[i] = false // No progress: leave it for the next run.
			default:
				busy = true
			}
		}
		if rep.Stopped {
			break
		}
		rep.Rounds++
	}
	for _, jr := range rep.Jobs {
		rep.More = rep.More || jr.More
	}
	rep.Elapsed = s.wall().Sub(start).Milliseconds()
	reqlog.From(ctx).InfoContext(ctx, "sweep run", slog.Bool("more", rep.More), slog.Bool("stopped", rep.Stopped),
		slog.Bool("failed", rep.Failed), slog.Any("jobs", rep.Jobs))
	return rep, nil
}
