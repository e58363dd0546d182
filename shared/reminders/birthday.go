package reminders

import (
	"context"
	"sync"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/parallel"
	"github.com/wemember/wemember/shared/store"
)

// scanCursor is the progress of one scan on one run day.
type scanCursor struct {
	After string `json:"after,omitempty"` // Where to continue (a store or service cursor).
	Done  bool   `json:"done,omitempty"`  // The scan reached the end today.
}

func birthdayCursorKey(today time.Time, mmdd string) store.Key {
	return store.K("remind#bday#"+today.Format(calendar.DayLayout), mmdd)
}

// Birthday issues birthday coupons: for each calendar day (CST) from today
// through today plus the coupon's lead (the rules' birthday_lead_days) it
// reads that month-day's birthday index partition and asks the coupon
// service to issue each member's birthday coupon, which it does once per
// member and birthday year. On 28 February of a year without 29 February it
// reads the 02-29 partition too.
//
// Every partition is read once per run day, from a cursor stored per day
// and partition: a run stopped after limit entries or at the ctx deadline
// reports More and the next run continues there; tomorrow's run reads the
// partitions again, so a birthday entered during the days ahead still gets
// its coupon. An index entry is checked against the member (a changed or
// deleted birthday is skipped); a member merged into another issues to the
// survivor, unless the survivor has a different birthday of its own.
// Members whose coupon cannot be issued (sold out, paused, take limit
// reached) count as Failed and are tried again the next day.
//
// Errors: errs.Invalid for a limit below 1; store and service failures
// (the progress so far is returned with them, and the cursor is kept).
func (j *Jobs) Birthday(ctx context.Context, now time.Time, limit int) (Result, error) {
	const op = "reminders.Birthday"
	var r Result
	if limit <= 0 {
		return r, errs.E(op, errs.Invalid, "limit must be positive")
	}
	today := calendar.Date(now)
	lead, err := j.coupons.BirthdayLead(ctx)
	if err != nil {
		return r, errs.E(op, err)
	}
	for _, mmdd := range birthdays(today, lead) {
		err := j.birthdayScan(ctx, now, today, mmdd, limit, &r)
		if err != nil || r.More {
			return stopped(ctx, op, r, err)
		}
	}
	return r, nil
}

// birthdays lists the month-days whose coupons are due on today: today
// through today+lead, with 02-29 on 28 February of a year without it.
func birthdays(today time.Time, lead int) []string {
	var out []string
	for i := 0; i <= lead; i++ {
		d := today.AddDate(0, 0, i)
		out = append(out, d.Format("01-02"))
		if d.Month() == time.February && d.Day() == 28 && !leap(d.Year()) {
			out = append(out, "02-29")
		}
	}
	return out
}

func leap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// birthdayScan works through one month-day's partition from today's cursor
// for it, saving the cursor after every page and when it stops.
func (j *Jobs) birthdayScan(ctx context.Context, now, today time.Time, mmdd string, limit int, r *Result) error {
	key := birthdayCursorKey(today, mmdd)
	c, err := j.loadCursor(ctx, key)
	if err != nil || c.Done {
		return err
	}
	expires := today.Add(3 * 24 * time.Hour) // Read only on its run day.
	pk := j.members.BirthdayPartition(mmdd)
	for {
		if ctx.Err() != nil || r.handled() >= limit {
			r.More = true
			return j.saveCursor(ctx, key, c, expires)
		}
		pg, err := j.st.Query(ctx, store.Query{PK: pk, After: c.After, Limit: min(100, limit-r.handled())})
		if err != nil {
			return err
		}
		err = eachEntry(ctx, pg.Items, r, func(ctx context.Context, id string, r *Result) error {
			return j.birthdayOne(ctx, now, id, mmdd, r)
		})
		if err != nil {
			return err // The cursor stays before the page; the next run repeats it.
		}
		if n := len(pg.Items); n > 0 {
			c.After = store.EncodeCursor(pg.Items[n-1].SK)
		}
		c.Done = pg.Next == ""
		if err := j.saveCursor(ctx, key, c, expires); err != nil || c.Done {
			return err
		}
	}
}

// birthdayOne issues the coupon of one birthday index entry.
func (j *Jobs) birthdayOne(ctx context.Context, now time.Time, id, mmdd string, r *Result) error {
	m, err := j.members.Get(ctx, id)
	if errs.Is(errs.NotExist, err) {
		r.Skipped++ // A stale entry.
		return nil
	}
	if err != nil {
		return err
	}
	bd, err := j.members.Birthday(m)
	if err != nil {
		return err
	}
	if bd != mmdd && (m.ID == id || bd != "") {
		r.Skipped++ // Birthday changed or deleted, or a survivor with its own.
		return nil
	}
	_, due, err := j.coupons.IssueBirthday(ctx, m.ID, mmdd, now)
	switch {
	case err == nil && due:
		r.Items++
	case err == nil:
		r.Skipped++
	case errs.Is(errs.Conflict, err), errs.Is(errs.Expired, err), errs.Is(errs.NotExist, err), errs.Is(errs.Invalid, err):
		r.Failed++ // Sold out, paused, limit reached, template ended or missing.
	default:
		return err
	}
	return nil
}

// entryWorkers is how many index entries of a page a scan settles at once.
const entryWorkers = 8

// eachEntry runs one for every entry of a page, a few at a time: each
// entry's command (a birthday or monthly coupon) is idempotent and
// independent of the others. It adds their results to r.
func eachEntry(ctx context.Context, items []store.Item, r *Result, one func(ctx context.Context, id string, r *Result) error) error {
	var mu sync.Mutex
	return parallel.Each(ctx, entryWorkers, len(items), func(ctx context.Context, i int) error {
		var own Result
		err := one(ctx, items[i].SK, &own)
		mu.Lock()
		defer mu.Unlock()
		r.Items, r.Skipped, r.Failed = r.Items+own.Items, r.Skipped+own.Skipped, r.Failed+own.Failed
		return err
	})
}

// loadCursor reads a scan cursor; a missing one starts at the beginning.
func (j *Jobs) loadCursor(ctx context.Context, key store.Key) (scanCursor, error) {
	var c scanCursor
	_, err := store.GetJSON(ctx, j.st, key, &c)
	if err != nil && !errs.Is(errs.NotExist, err) {
		return scanCursor{}, err
	}
	return c, nil
}

// saveCursor stores a scan cursor. Two overlapping runs may overwrite each
// other's cursor with an earlier one; the later run then repeats entries,
// which every entry's own idempotency makes harmless. A context that is
// already done skips it: the next run repeats the page.
func (j *Jobs) saveCursor(ctx context.Context, key store.Key, c scanCursor, expires time.Time) error {
	if ctx.Err() != nil {
		return nil
	}
	return j.st.Write(ctx, store.PutJSON(key, c).ExpiresAt(expires))
}
