package reminders

import (
	"context"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// The outcomes a reminder record ends with.
const (
	OutcomeSending       = "sending"        // Recorded; the send was cut short or is under way.
	OutcomeSent          = "sent"           // WeChat accepted the message.
	OutcomeNotSubscribed = "not_subscribed" // The member has no acceptance of the template left.
	OutcomeRefused       = "refused"        // WeChat refused the openid or the data.
	OutcomeUnknown       = "unknown"        // WeChat did not answer; it may have been sent.
)

// record is the stored trace of a reminder for one item.
type record struct {
	MemberID string    `json:"member_id"`
	At       time.Time `json:"at"`
	Outcome  string    `json:"outcome"`
}

func recordKey(kind, id string) store.Key { return store.K("remind#"+kind+"#"+id, "remind") }

func scanKey(kind string, today time.Time) store.Key {
	return store.K("remind#scan#"+kind, today.Format(calendar.DayLayout))
}

// Reminders sends pre-expiry reminders: for every lot of points, every
// available coupon and (with a Levels service) every set level or grace
// period that ends within the rules' reminders.ahead_days (or Config.Ahead)
// after now, one
// subscribe message to its owner's mini-program openid.
//
// A member hears at most once about an item: before sending, a record
// remind#<kind>#<item id> is written IfAbsent (for a level
// remind#level#<member id>#<yyyymmdd of the end>), and an item that has one is
// skipped. The record comes first because a reminder lost to a crash or a
// WeChat timeout is better than a member spammed twice; a send that WeChat
// answered with an error that says nothing was sent (quota, unknown
// template) removes the record again so a later run retries, and stops the
// run. "User has not subscribed" (errs.Permission) is an answer, not a
// failure: it is recorded and the job moves on; so is a refused openid.
// A timeout keeps the record (the message may have gone out) and stops the
// run, so an outage costs at most one reminder per run.
//
// Each kind is scanned once per CST day from a cursor kept in the store: a
// run stopped after limit items or at the ctx deadline reports More and the
// next run continues there. Daily scans with a window of several days reach
// every item at least once before it expires.
//
// Errors: errs.Invalid for a limit below 1 or jobs built without a sender,
// points service or mini-program app id; store failures; and the send
// failures above, with the progress so far.
func (j *Jobs) Reminders(ctx context.Context, now time.Time, limit int) (Result, error) {
	const op = "reminders.Reminders"
	var r Result
	if limit <= 0 {
		return r, errs.E(op, errs.Invalid, "limit must be positive")
	}
	if j.send == nil || j.points == nil || j.cfg.MiniProgramAppID == "" || j.cfg.TemplateID == "" {
		return r, errs.E(op, errs.Invalid, "reminders need a sender, the points service, the mini-program app id and a template id")
	}
	ahead := j.cfg.Ahead
	if j.cfg.Rules != nil {
		rules, err := j.cfg.Rules(ctx)
		if err != nil {
			return r, errs.E(op, err)
		}
		ahead = time.Duration(rules.Reminders.AheadDays) * 24 * time.Hour
	}
	kinds := []string{KindPoints, KindCoupon}
	if j.levels != nil {
		kinds = append(kinds, KindLevel)
	}
	for _, kind := range kinds {
		err := j.remindKind(ctx, now, ahead, kind, limit, &r)
		if err != nil || r.More {
			return stopped(ctx, op, r, err)
		}
	}
	return r, nil
}

// remindKind works through one kind's expiring items from today's cursor,
// saving it after every page and when it stops.
func (j *Jobs) remindKind(ctx context.Context, now time.Time, ahead time.Duration, kind string, limit int, r *Result) error {
	today := calendar.Date(now)
	key := scanKey(kind, today)
	c, err := j.loadCursor(ctx, key)
	if err != nil || c.Done {
		return err
	}
	expires := today.Add(3 * 24 * time.Hour)
	for {
		if ctx.Err() != nil || r.handled() >= limit {
			r.More = true
			return j.saveCursor(ctx, key, c, expires)
		}
		items, next, err := j.expiring(ctx, now, ahead, kind, c.After, min(50, limit-r.handled()))
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := j.remindOne(ctx, now, it, r); err != nil {
				return err // The page is read again; its records skip what was done.
			}
		}
		c.After, c.Done = next, next == ""
		if err := j.saveCursor(ctx, key, c, expires); err != nil || c.Done {
			return err
		}
	}
}

// expiring lists a page of one kind's items expiring within the window.
func (j *Jobs) expiring(ctx context.Context, now time.Time, ahead time.Duration, kind, cursor string, n int) ([]Item, string, error) {
	var out []Item
	switch kind {
	case KindLevel:
		ls, next, err := j.levels.LevelsEndingWithin(ctx, now, ahead, cursor, n)
		for _, x := range ls {
			out = append(out, Item{Kind: kind, ID: x.MemberID + "#" + calendar.Day(x.At), MemberID: x.MemberID,
				Level: x.Level, Next: x.Next, At: x.At})
		}
		return out, next, err
	case KindPoints:
		rs, next, err := j.points.ExpiringWithin(ctx, now, ahead, cursor, n)
		for _, x := range rs {
			out = append(out, Item{Kind: kind, ID: x.LotID, MemberID: x.MemberID, Points: x.Points, At: x.At})
		}
		return out, next, err
	}
	cs, next, err := j.coupons.ExpiringSoon(ctx, now, ahead, cursor, n)
	for _, x := range cs {
		out = append(out, Item{Kind: kind, ID: x.ID, MemberID: x.MemberID, Name: x.Name, At: x.ValidTo})
	}
	return out, next, err
}

// remindOne sends the reminder of one item unless it was sent (or tried)
// before, recording first.
func (j *Jobs) remindOne(ctx context.Context, now time.Time, it Item, r *Result) error {
	m, err := j.members.Get(ctx, it.MemberID)
	if errs.Is(errs.NotExist, err) {
		r.Skipped++
		return nil
	}
	if err != nil {
		return err
	}
	openid := m.OpenIDFor(j.cfg.MiniProgramAppID)
	if openid == "" {
		r.Skipped++ // Not a mini-program user: no way to send a subscribe message.
		return nil
	}
	key, expires := recordKey(it.Kind, it.ID), it.At.Add(24*time.Hour)
	put := func(outcome string) store.Mutation {
		return store.PutJSON(key, record{MemberID: m.ID, At: now, Outcome: outcome}).ExpiresAt(expires)
	}
	err = j.st.Write(ctx, put(OutcomeSending).IfAbsent())
	if errs.Is(errs.Conflict, err) {
		r.Skipped++ // Reminded (or tried) before.
		return nil
	}
	if err != nil {
		return err
	}
	err = j.send.SendSubscribe(ctx, openid, j.cfg.TemplateID, j.cfg.Pages[it.Kind], j.cfg.Data(it))
	var outcome string
	switch {
	case err == nil:
		outcome = OutcomeSent
		r.Items++
	case errs.Is(errs.Permission, err):
		outcome = OutcomeNotSubscribed
		r.Skipped++
	case errs.Is(errs.Invalid, err):
		outcome = OutcomeRefused
		r.Failed++
	case errs.Is(errs.Transient, err), ctx.Err() != nil:
		if ctx.Err() == nil {
			_ = j.st.Write(ctx, put(OutcomeUnknown)) // The trace only; the record already blocks a resend.
		}
		return err
	default: // Nothing was sent (quota, unknown template): let a later run retry.
		// If the delete fails too, the record stays: no retry, never a double.
		_ = j.st.Write(ctx, store.Delete(key))
		return err
	}
	return j.st.Write(ctx, put(outcome))
}
