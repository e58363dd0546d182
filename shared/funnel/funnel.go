// Package funnel counts how invitations spread: a member shares (from a
// trigger point such as the registration reward page), a friend opens the
// share (a short-link hit, a QR scene arrival), registers and places a first
// order. Each step is counted per day (Asia/Shanghai) into aggregate items,
// in total and per trigger point, channel, code and inviter, so that a report
// over a date range reads a bounded set of items and never scans.
//
// The counters are atomic adds. A command that causes a step (a redemption,
// a first-order booking) puts Mutations in its own atomic write; steps with
// no command of their own (a share, an open) are written by Record.
package funnel

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/text"
)

// Step is one stage of the funnel.
type Step string

// The steps, in funnel order.
const (
	StepShare      Step = "share"       // A member shared an invitation.
	StepOpen       Step = "open"        // Someone opened it: a short-link hit, a QR scene arrival.
	StepRegister   Step = "register"    // Someone registered through it.
	StepFirstOrder Step = "first_order" // The invitee paid a first order.
)

// Steps lists the steps in funnel order.
func Steps() []Step { return []Step{StepShare, StepOpen, StepRegister, StepFirstOrder} }

// Dimension is what a report breaks the counts down by.
type Dimension string

// The dimensions. ByTotal counts every event; the others count the events
// that carry a value for them.
const (
	ByTotal   Dimension = ""
	ByTrigger Dimension = "trigger"
	ByChannel Dimension = "channel"
	ByCode    Dimension = "code"
	ByInviter Dimension = "inviter"
)

// Dimensions lists the dimensions a report can be broken down by.
func Dimensions() []Dimension { return []Dimension{ByTrigger, ByChannel, ByCode, ByInviter} }

// DefaultTriggers are the trigger points a share may come from: the
// registration reward page, the benefits page and the order-completion page.
func DefaultTriggers() []string { return []string{"registration_reward", "benefits", "order_complete"} }

// DefaultChannels are the channels an invitation travels by: a
// mini-program share, an Official Account QR code, a WeCom contact way, a
// short link, a text token (口令) and a poster.
func DefaultChannels() []string {
	return []string{"mp-share", "oa-qr", "wecom", "short-link", "token", "poster"}
}

// Event is one step taken. Only Step is required; an empty Trigger,
// Channel, Code or Inviter is unknown and counted in the total only.
type Event struct {
	Step    Step
	At      time.Time // When; the service's clock when zero. Its Shanghai day is the day counted.
	Trigger string    // The trigger point of the share, one of the service's triggers.
	Channel string    // The channel, one of the service's channels.
	Code    string    // The code's id (a keyed hash), never the code's text.
	Inviter string    // The inviter's member id.
	// Subject is who took the step (the invitee's member id, the sharer's
	// for a share). It only spreads the counters over shards and is not
	// stored; events without one are spread by their time.
	Subject string
	// Elapsed is the time since the subject's previous step (share → open,
	// open → register, register → first order); 0 when unknown. Known
	// times are summed so that a report gives the mean time to each step.
	Elapsed time.Duration
}

// MaxValueLen bounds a code id or inviter id, in bytes.
const MaxValueLen = 128

// MaxElapsed is the longest Elapsed counted; a longer one counts as
// MaxElapsed. It bounds the packed counters (see elapsedBits).
const MaxElapsed = 366 * 24 * time.Hour

// elapsedBits is how the counter N of an aggregate item packs two numbers,
// so that one atomic add per dimension counts an event and its time: the
// low elapsedBits bits sum the events' Elapsed in seconds, the bits above
// count the events. With every Elapsed at most MaxElapsed (31,622,400 s)
// the sum stays below 2^44 — and so never carries into the count — for as
// long as the count stays below 2^19 = 524,288 per item, that is per day,
// shard, value and step: with 16 shards, about 8 million events a day for
// one code, trigger or channel.
const elapsedBits = 44

const elapsedMask = 1<<elapsedBits - 1

// Service counts funnel steps and reports on them.
type Service struct {
	st       store.Store
	now      func() time.Time
	triggers []string
	channels []string
}

// Option changes a Service.
type Option func(*Service)

// WithTriggers sets the trigger points events may name (DefaultTriggers
// when not set).
func WithTriggers(ts ...string) Option { return func(s *Service) { s.triggers = slices.Clone(ts) } }

// WithChannels sets the channels events may name (DefaultChannels when not
// set).
func WithChannels(cs ...string) Option { return func(s *Service) { s.channels = slices.Clone(cs) } }

// New returns a funnel service over st with the clock now.
func New(st store.Store, now func() time.Time, opts ...Option) *Service {
	s := &Service{st: st, now: now, triggers: DefaultTriggers(), channels: DefaultChannels()}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Triggers lists the trigger points events may name.
func (s *Service) Triggers() []string { return slices.Clone(s.triggers) }

// Channels lists the channels events may name.
func (s *Service) Channels() []string { return slices.Clone(s.channels) }

// Validate checks an event: a known step, a trigger and channel of the
// service's lists (or empty), a code and inviter of at most MaxValueLen
// bytes of plain text, no negative Elapsed. It fails with errs.Invalid
// naming the field.
func (s *Service) Validate(e Event) error {
	const op = "funnel.Validate"
	switch {
	case !slices.Contains(Steps(), e.Step):
		return errs.E(op, errs.Invalid, "unknown funnel step "+quote(string(e.Step)))
	case e.Trigger != "" && !slices.Contains(s.triggers, e.Trigger):
		return errs.E(op, errs.Invalid, "trigger must be one of "+strings.Join(s.triggers, ", "))
	case e.Channel != "" && !slices.Contains(s.channels, e.Channel):
		return errs.E(op, errs.Invalid, "channel must be one of "+strings.Join(s.channels, ", "))
	case e.Elapsed < 0:
		return errs.E(op, errs.Invalid, "elapsed time must not be negative")
	}
	for _, f := range []struct{ name, v string }{{"code", e.Code}, {"inviter", e.Inviter}} {
		if p := text.Problem(f.v, MaxValueLen); p != "" {
			return errs.E(op, errs.Invalid, f.name+" "+p)
		}
		if strings.Contains(f.v, "#") {
			return errs.E(op, errs.Invalid, f.name+" must not contain #")
		}
	}
	return nil
}

func quote(s string) string { return `"` + s + `"` }

// Mutations are the atomic adds that count e: one per dimension it carries
// a value for, plus the total — at most five, all in one shard partition of
// e's day chosen by e.Subject. A command that causes the step (a
// redemption, a first-order booking) writes them in its own atomic write,
// so the step is counted exactly when the command happens. It fails with
// errs.Invalid when Validate refuses e.
func (s *Service) Mutations(e Event) ([]store.Mutation, error) {
	if err := s.Validate(e); err != nil {
		return nil, errs.E("funnel.Mutations", err)
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	subject := e.Subject
	if subject == "" {
		subject = e.At.Format(time.RFC3339Nano)
	}
	pk := store.Sharded(dayPartition(calendar.Day(e.At)), subject)
	timed := e.Elapsed > 0
	delta := int64(1) << elapsedBits
	if timed {
		delta += int64(min(e.Elapsed, MaxElapsed) / time.Second)
	}
	ms := []store.Mutation{store.Add(store.K(pk, itemSK(ByTotal, e.Step, timed, "")), delta)}
	for _, d := range []struct {
		dim Dimension
		v   string
	}{{ByTrigger, e.Trigger}, {ByChannel, e.Channel}, {ByCode, e.Code}, {ByInviter, e.Inviter}} {
		if d.v != "" {
			ms = append(ms, store.Add(store.K(pk, itemSK(d.dim, e.Step, timed, d.v)), delta))
		}
	}
	return ms, nil
}

// Record counts e on its own: for the steps no other command writes (a
// share, an open). A store too busy to take the adds is retried a few
// times, then errs.Transient; a refused event is errs.Invalid.
func (s *Service) Record(ctx context.Context, e Event) error {
	const op = "funnel.Record"
	ms, err := s.Mutations(e)
	if err != nil {
		return errs.E(op, err)
	}
	for range retry.Tries(ctx, 4) {
		if err = s.st.Write(ctx, ms...); err == nil || !errs.Is(errs.Transient, err) {
			break
		}
	}
	if err != nil {
		return errs.E(op, err)
	}
	return nil
}

// dayPartition is the partition (before sharding) of a day's aggregates.
func dayPartition(day string) string { return "funnel#" + day }

// itemSK is the sort key of an aggregate item: the dimension ("total" for
// ByTotal), the step, whether its events carry a time ("t") or not ("u"),
// and the value.
func itemSK(d Dimension, st Step, timed bool, v string) string {
	mark := "u"
	if timed {
		mark = "t"
	}
	if d == ByTotal {
		return "total#" + string(st) + "#" + mark
	}
	return string(d) + "#" + string(st) + "#" + mark + "#" + v
}

// unpack splits an aggregate item's counter into its count of events and
// their summed Elapsed in seconds.
func unpack(n int64) (count, seconds int64) { return n >> elapsedBits, n & elapsedMask }
