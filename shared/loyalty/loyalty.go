// Package loyalty is wemember's loyalty engine: rules as versioned data,
// growth and levels, and a lot-based points ledger, over the store port.
//
// Every command that changes an account (Earn, Spend, Reverse, Adjust,
// AddGrowth, SetLevel, SignIn and each item a sweep settles) is one atomic
// store.Write that carries its effects and its idempotency record (written
// IfAbsent): the same key twice, even concurrently, has one effect and the
// duplicate gets the first result. The points summary item of a member
// (sort key "points") and the level item (sort key "level") carry the
// version every change of that account is conditioned on, so concurrent
// commands on one member serialize by optimistic retry and never lose an
// update; those of one process that lost a race wait in line for their turn
// (store.Turns) rather than retrying against each other.
//
// Storage layout (all keys owned by this package):
//
//	member#<id> | points                    balance summary (the points lock)
//	member#<id> | lot#<earnedAt>#<lotid>    one open lot per earning (FIFO order)
//	member#<id> | lotdone#<lotid>           a lot closed by expiry (for reversals)
//	member#<id> | ledger#<at>#<entryid>     points ledger entries
//	member#<id> | level                     growth, cumulative spend, level (the level lock)
//	member#<id> | growth#<at>#<entryid>     growth and level history
//	member#<id> | loysignin                 sign-in streak
//	member#<id> | loymerged                 the member this one was merged into
//	rules#loyalty | current, history#<n>    the rules and one history item per change
//	due#points#<yyyymmdd>#s<n> | <at>#<member>#<lot>        lot expiry index
//	due#pointspending#<yyyymmdd>#s<n> | <at>#<member>#<lot> pending-lot release index
//	due#levelreview#<yyyymmdd>#s<n> | <at>#<member>         level review index
//	due#levelend#<yyyymmdd>#s<n> | <member>#<kind>          level-end index
//	due#cursor#loyalty | <kind>             the earliest day a sweep still reads
//	idem#loyalty#<scope>#<key> | idem       idempotency records
//
// Days are calendar days in Asia/Shanghai (a fixed +08:00 zone; China has no
// daylight saving time).
//
// Decisions worth knowing:
//   - Spending takes lots first-in first-out by earn time, as SPEC.md says
//     (not soonest-expiring first). Pending lots, and lots past their expiry
//     that the sweep has not settled yet, are never spent. A command that
//     would touch more than MaxLotsPerWrite lots is refused (errs.TooLarge).
//   - A reversal takes from the earning's own lot first; what was spent is
//     clawed back from other lots or becomes debt (Rules.Points.Reversal);
//     debt is paid first by the next earnings, even pending ones.
//   - Levels compare the member's total growth (or cumulative spend) with
//     the thresholds; a review below the level downgrades straight to the
//     level the member qualifies for.
//   - A day of a due index is spread over store.Shards partitions (#s<n>,
//     chosen by the member), so that year-end expiry does not put a year's
//     lots on one partition; items written before the index was sharded
//     stay in the unsharded partition due#<kind>#<yyyymmdd>, which every
//     reader still reads.
//   - Sweeps read a day's partitions side by side, from a stored cursor day
//     (the day the rules were installed on first run) to today, and settle
//     the items of many members in one atomic write; each settled item is
//     deleted in the same write as its effect, so a stopped run resumes and
//     overlapping runs settle each item once.
//   - Idempotency records are kept forever unless WithIdempotencyTTL.
package loyalty

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/cached"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/once"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
)

// MaxLotsPerWrite bounds how many lots one command may touch: a spend,
// negative adjustment or claw-back that would consume more lots than this is
// refused with errs.TooLarge (spend in smaller parts), so that every command
// stays one atomic write of at most store.MaxWrite items.
const MaxLotsPerWrite = 90

// MaxPoints bounds the points or growth of one command.
const MaxPoints = 1_000_000_000

// DefaultMaxTries is how often a command retries after a version conflict.
const DefaultMaxTries = 50

// Service is the loyalty engine. Build it with New.
type Service struct {
	st       store.Store
	now      func() time.Time
	newID    func() string
	maxTries int
	idemTTL  time.Duration
	workers  int
	turns    *store.Turns
	stall    time.Duration
	rules    cached.Value[Rules] // The rules as last read or set (Rules).
	coupons  Coupons             // Issues the streak coupon (nil: none is issued).
	// templateExists checks a coupon template the rules name (nil: not checked).
	templateExists func(ctx context.Context, id string) error
}

// Option adjusts a Service.
type Option func(*Service)

// WithMaxTries sets how often a command retries after a version conflict
// (default DefaultMaxTries).
func WithMaxTries(n int) Option { return func(s *Service) { s.maxTries = max(1, n) } }

// WithTurnStall sets how long a command that lost a race on an account
// waits in line for a turn that does not move on before it fails with
// errs.Transient (default store.DefaultTurnStall).
func WithTurnStall(d time.Duration) Option { return func(s *Service) { s.stall = d } }

// DefaultSweepWorkers is how many due items a sweep settles at once.
const DefaultSweepWorkers = 8

// WithSweepWorkers sets how many due items a sweep settles at once
// (default DefaultSweepWorkers; 1 settles them one by one).
func WithSweepWorkers(n int) Option { return func(s *Service) { s.workers = max(1, n) } }

// WithIdempotencyTTL makes idempotency records expire after d (default: kept
// forever). A duplicate arriving after d has a second effect.
func WithIdempotencyTTL(d time.Duration) Option { return func(s *Service) { s.idemTTL = d } }

// New builds a Service over st with an injected clock and ID generator. The
// ID generator must return unique strings without '#'.
func New(st store.Store, now func() time.Time, newID func() string, opts ...Option) *Service {
	s := &Service{st: st, now: now, newID: newID, maxTries: DefaultMaxTries, workers: DefaultSweepWorkers}
	for _, o := range opts {
		o(s)
	}
	s.turns = store.NewTurns(s.stall, 0)
	return s
}

// Source says where a change came from. At least one field should be set.
type Source struct {
	EventID   string `json:"event_id,omitempty"`   // A push or event id (MsgId, notification id).
	OrderID   string `json:"order_id,omitempty"`   // The order behind a payment or refund.
	SignInDay string `json:"signin_day,omitempty"` // yyyymmdd of a sign-in.
	Operator  string `json:"operator,omitempty"`   // The operator of a manual change.
	MergeFrom string `json:"merge_from,omitempty"` // The member merged into this one.
	MergeInto string `json:"merge_into,omitempty"` // The member this one was merged into.
}

// memberPK is the member's partition, which package member owns.
func memberPK(id string) string { return member.Partition(id) }

func summaryKey(id string) store.Key { return store.K(memberPK(id), "points") }
func levelKey(id string) store.Key   { return store.K(memberPK(id), "level") }
func signInKey(id string) store.Key  { return store.K(memberPK(id), "loysignin") }
func lotDoneKey(id, lot string) store.Key {
	return store.K(memberPK(id), "lotdone#"+lot)
}

// tsLayout renders instants as fixed-width, sortable UTC strings.
const tsLayout = "20060102T150405.000000000Z"

func ts(t time.Time) string { return t.UTC().Format(tsLayout) }

func validMember(op, id string) error {
	if id == "" || len(id) > 200 || strings.ContainsRune(id, 0) {
		return errs.E(op, errs.Invalid, "member id is required")
	}
	return nil
}

func validKey(op, key string) error {
	if key == "" || len(key) > 500 || strings.ContainsRune(key, 0) {
		return errs.E(op, errs.Invalid, "idempotency key is required (at most 500 bytes)")
	}
	return nil
}

func idemKey(scope, key string) store.Key {
	return store.K("idem#loyalty#"+scope+"#"+key, "idem")
}

// runOnce runs a command exactly once per idempotency key ik. build reads the
// current state and returns the mutations and the result; runOnce adds the
// idempotency record IfAbsent and writes it all atomically. On a version
// conflict it retries (bounded, jittered); when the key is already taken it
// returns the first result, or errs.Exist when the key was used by a
// different command (scope differs). After its first lost race it waits in
// line for the turn at the key it lost on (s.turns) and retries holding it,
// so that the commands of this process on one account take turns rather
// than retrying against each other.
func runOnce[T any](ctx context.Context, s *Service, op string, ik store.Key, scope string,
	build func(now time.Time) ([]store.Mutation, T, error)) (T, error) {
	var zero T
	var release func() // The turn, once this command lost a race.
	defer func() {
		if release != nil {
			release()
		}
	}()
	queued := false // Just got the turn: the wait was the pause.
	for try := 0; try < s.maxTries; try++ {
		if try > 0 && !queued {
			if err := retry.Pause(ctx, try); err != nil {
				return zero, errs.E(op, errs.Transient, "cancelled while retrying", err)
			}
		}
		queued = false
		if res, ok, err := once.Lookup[T](ctx, s.st, ik, scope); err != nil {
			return zero, errs.E(op, err)
		} else if ok {
			if r, isRepeat := any(&res).(repeatable); isRepeat {
				r.markRepeat()
			}
			return res, nil
		}
		now := s.now()
		ms, res, err := build(now)
		if errors.Is(err, errRetry) {
			continue // Read across a concurrent change: look again.
		}
		if err != nil {
			return zero, err
		}
		m, err := once.Claim(ik, scope, now, res, s.idemTTL)
		if err != nil {
			return zero, errs.E(op, err)
		}
		ms = append(ms, m)
		err = s.st.Write(ctx, ms...)
		if err == nil {
			return res, nil
		}
		if errs.Is(errs.Conflict, err) {
			// Someone else changed the account or claimed the key: look
			// again, the first time after waiting for the turn at that key.
			if k, ok := store.FailedKey(err); ok && release == nil {
				if release, err = s.turns.Take(ctx, op, k); err != nil {
					return zero, errs.E(op, err)
				}
				queued = true
			}
			continue
		}
		return zero, errs.E(op, err)
	}
	return zero, errs.E(op, errs.Transient, "the account is busy; try again")
}

// repeatable is a command result that can say it answers a repeat of the
// command from its first run's record.
type repeatable interface{ markRepeat() }

// errRetry tells runOnce that build read state across a concurrent change
// and should run again.
var errRetry = errors.New("loyalty: state changed while reading")

// WithTemplateCheck makes SetRules ask exists about every coupon template
// the rules name (Rules.Templates) and refuse rules naming one that is not
// there; exists returns nil for a template that exists and errs.NotExist
// otherwise.
func WithTemplateCheck(exists func(ctx context.Context, id string) error) Option {
	return func(s *Service) { s.templateExists = exists }
}

// Coupons issues the coupons the rules grant inside the granting command's
// own atomic write (the streak coupon of a sign-in). *coupons.Service is
// one.
type Coupons interface {
	// PrepareIssue returns the mutations that issue a coupon, or the coupon
	// the command's key issued before (coupons.Service.PrepareIssue).
	PrepareIssue(ctx context.Context, cmd coupons.IssueCmd) (coupons.Prepared, error)
}

// WithCoupons makes every Rules.Coupons.StreakDays-th sign-in in a row issue
// the streak coupon (Rules.Coupons.Streak) through c, in the sign-in's own
// atomic write. Without it a sign-in issues no coupon.
func WithCoupons(c Coupons) Option { return func(s *Service) { s.coupons = c } }
