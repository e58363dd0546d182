package reminders

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/parallel"
	"github.com/wemember/wemember/shared/reqlog"
	"github.com/wemember/wemember/shared/store"
)

// monthlyCursor is the progress of a month's level coupon scan: the
// activity day being read, which of its partitions and where in it.
type monthlyCursor struct {
	Day   string `json:"day"`            // yyyymmdd, CST.
	Part  int    `json:"part,omitempty"` // Index in Members.ActivePartitions.
	After string `json:"after,omitempty"`
	Done  bool   `json:"done,omitempty"`
}

func monthlyCursorKey(month string) store.Key { return store.K("remind#monthly#"+month, "cursor") }

// partitionWorkers bounds the partitions of a day read side by side.
const partitionWorkers = 8

// MonthlyLevelCoupons issues the monthly coupon of each member's level (the
// template the level's benefits name), once per member, month (CST) and
// level. The first run of a month — on the first, when the sweep runs
// daily — reads the activity index of every day a member may still be
// unarchived (the identity rules' archive_after_days) through today, so
// every active member is considered once; later runs that month continue
// where a stopped run left off and then do nothing until the next month.
// Archived members and members not yet claimed from an import are not in
// the index and get none. Members whose level has no monthly coupon are
// Skipped; a coupon that cannot be issued (sold out, paused, take limit,
// template missing) counts as Failed and is not retried that month.
//
// Errors: errs.Invalid for a limit below 1 or jobs built without a Levels
// service; store and service failures, with the progress so far.
func (j *Jobs) MonthlyLevelCoupons(ctx context.Context, now time.Time, limit int) (Result, error) {
	const op = "reminders.MonthlyLevelCoupons"
	var r Result
	if limit <= 0 || j.levels == nil {
		return r, errs.E(op, errs.Invalid, "monthly coupons need a positive limit and the levels service")
	}
	today := calendar.Date(now)
	key := monthlyCursorKey(calendar.Month(now))
	var c monthlyCursor
	if _, err := store.GetJSON(ctx, j.st, key, &c); err != nil && !errs.Is(errs.NotExist, err) {
		return r, errs.E(op, err)
	}
	if c.Done {
		return r, nil
	}
	if c.Day == "" {
		rules, err := j.members.Rules(ctx)
		if err != nil {
			return r, errs.E(op, err)
		}
		c.Day = today.AddDate(0, 0, -rules.ArchiveAfterDays).Format(calendar.DayLayout)
	}
	expires := today.AddDate(0, 2, 0) // Read only in its month.
	save := func() error {
		if ctx.Err() != nil {
			return nil // The next run repeats the page; issuing is idempotent.
		}
		return j.st.Write(ctx, store.PutJSON(key, c).ExpiresAt(expires))
	}
	last := today.Format(calendar.DayLayout)
	for c.Day <= last {
		if ctx.Err() != nil || r.handled() >= limit {
			r.More = true
			return stopped(ctx, op, r, save())
		}
		// The day's partitions left are read side by side, a page each; most
		// are empty, and the cursor is saved only after members were handled,
		// so a quiet stretch of days costs reads, not writes.
		before := r.handled()
		all := j.members.ActivePartitions(c.Day)
		c.Part = min(max(c.Part, 0), len(all)) // A stored cursor from another partition count must not panic.
		pks := all[c.Part:]
		pages := make([]store.Page, len(pks))
		err := parallel.Each(ctx, partitionWorkers, len(pks), func(ctx context.Context, i int) error {
			q := store.Query{PK: pks[i], Limit: 100}
			if i == 0 {
				q.After = c.After
			}
			var err error
			pages[i], err = j.st.Query(ctx, q)
			return err
		})
		if err != nil {
			return stopped(ctx, op, r, err)
		}
		dayDone := true
		for i, pg := range pages {
			items := pg.Items
			room := limit - r.handled()
			cut := len(items) > room
			if cut {
				items = items[:room]
			}
			err = eachEntry(ctx, items, &r, func(ctx context.Context, id string, r *Result) error {
				return j.monthlyOne(ctx, now, id, r)
			})
			if err != nil {
				return stopped(ctx, op, r, err) // The cursor stays before the page; the next run repeats it.
			}
			if cut || pg.Next != "" {
				// This partition has more: the next pass reads on from here.
				c.Part += i
				if n := len(items); n > 0 {
					c.After = store.EncodeCursor(items[n-1].SK)
				} else if i > 0 {
					c.After = ""
				}
				dayDone = false
				break
			}
		}
		if dayDone {
			next, err := calendar.NextDay(c.Day)
			if err != nil {
				return r, errs.E(op, errs.Internal, fmt.Errorf("monthly cursor: %w", err))
			}
			c.Day, c.Part, c.After = next, 0, ""
		}
		if r.handled() > before {
			if err := save(); err != nil {
				return stopped(ctx, op, r, err)
			}
		}
	}
	c.Done = true
	return stopped(ctx, op, r, save())
}

// monthlyOne issues one active member's monthly level coupon, if their level
// has one.
func (j *Jobs) monthlyOne(ctx context.Context, now time.Time, id string, r *Result) error {
	m, err := j.members.Get(ctx, id)
	if errs.Is(errs.NotExist, err) || (err == nil && (m.ID != id || m.Status != member.Active)) {
		r.Skipped++ // A stale entry, or merged away: the survivor has its own.
		return nil
	}
	if err != nil {
		return err
	}
	lv, err := j.levels.Level(ctx, id)
	if err != nil {
		return err
	}
	tpl := lv.Level.Benefits.MonthlyCouponTemplate
	if tpl == "" {
		r.Skipped++
		return nil
	}
	_, err = j.coupons.IssueMonthlyLevel(ctx, id, lv.Level.ID, tpl, now)
	switch {
	case err == nil:
		r.Items++
	case errs.Is(errs.NotExist, err):
		// The level names a template that does not exist: a rule for an
		// operator to fix, reported rather than skipped in silence.
		reqlog.From(ctx).ErrorContext(ctx, "monthly level coupon not issued: template missing",
			slog.String("level_id", lv.Level.ID), slog.String("template", tpl), slog.String("error", err.Error()))
		r.Failed++
	case errs.Is(errs.Conflict, err), errs.Is(errs.Expired, err), errs.Is(errs.Invalid, err):
		r.Failed++ // Sold out, paused, limit reached or template ended.
	default:
		return err
	}
	return nil
}
