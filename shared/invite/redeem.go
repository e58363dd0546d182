package invite

import (
	"context"
	"errors"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/fraud"
	"github.com/wemember/wemember/shared/once"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
)

// RedeemCmd is one redemption of a code by an invitee.
type RedeemCmd struct {
	Code   string // The code as typed or scanned…
	CodeID string // …or its id (keyed hash), from a scene or state.
	// Invitee is the member who redeems.
	Invitee string
	// Via is how the code arrived: "api", "login", "oa-scene",
	// "wecom-state", "mp-scene" or "token".
	Via string
	// Registration says the redemption comes with the invitee's
	// registration (the first-login event of mp-login or a callback that
	// created the member): the invitation is then registered at once and
	// its rewards are granted; without it the binding waits for Registered.
	Registration bool
	// Client, Device and Platform are anti-fraud signals (Client and
	// Device keyed hashes).
	Client, Device, Platform string
	// Trigger and Channel are funnel dimensions.
	Trigger, Channel string
}

// Redemption is the outcome of a redemption.
type Redemption struct {
	Referral Referral `json:"referral"`
	Rewards  []Reward `json:"rewards,omitempty"`
	// Repeat says the redemption was made before (same invitee, same
	// code): this is the first answer, and nothing happened again.
	Repeat bool `json:"-"`
}

// Reward is one reward of an invitation.
type Reward struct {
	Kind   string `json:"kind"` // "points", "coupon", "red_packet", "privilege".
	Member string `json:"member"`
	Points int64  `json:"points,omitempty"`
	Coupon string `json:"coupon,omitempty"` // The coupon instance issued.
	Fen    int64  `json:"fen,omitempty"`    // A red packet's amount, owed as a payout.
	Held   bool   `json:"held,omitempty"`   // Waiting for an operator (anti-fraud).
}

// The reward kinds.
const (
	RewardPoints    = "points"
	RewardCoupon    = "coupon"
	RewardRedPacket = "red_packet"
	RewardPrivilege = "privilege"
)

// refusal is the reason carried by the error of a refused redemption.
type refusal struct{ reason Reason }

func (r *refusal) Error() string { return "redemption refused: " + string(r.reason) }

// refuse is the error of a redemption refused for reason r.
func refuse(op string, r Reason, msg string) error {
	kind := errs.Invalid
	switch r {
	case ReasonUnknown:
		kind = errs.NotExist
	case ReasonBound:
		kind = errs.Conflict
	}
	return errs.E(op, kind, msg, &refusal{reason: r})
}

// ReasonOf is the refusal reason of a Redeem error; ok is false for an
// error that is no refusal (a bad command, a busy store).
func ReasonOf(err error) (Reason, bool) {
	var r *refusal
	if errors.As(err, &r) {
		return r.reason, true
	}
	return "", false
}

// maxTries bounds the writes of one command that lose a race. The
// commands of one process that contend for an inviter take turns
// (store.Turns), so a loss costs a wait, not a try, most of the time.
const maxTries = 64

// redeemKey is the idempotency record of an invitee's redemption of a code.
func redeemKey(codeID, invitee string) store.Key {
	return store.K("idem#invite#redeem#"+codeID+"#"+invitee, "idem")
}

func redeemScope(codeID, invitee string) string { return "invite.Redeem|" + codeID + "|" + invitee }

// Redeem redeems a code for an invitee: it checks the code and the
// binding (each refusal an error whose ReasonOf names why), binds the
// invitee to the code's owner with the ancestor chain, counts the use
// against the code's cap and, with the invitee's registration, grants the
// registration rewards of both sides — all in one atomic write with the
// anti-fraud and funnel counters and the idempotency record of the invitee
// and code, so a redemption sent again answers the first answer (Repeat)
// and has no second effect.
//
// The depth rule: a member's stored chain (Referral.Ancestors) is its
// whole path up to a member nobody invited, fixed at binding, and never
// longer than Rules.MaxDepth. A binding that would make it longer is
// refused (ReasonDepth), and so is the binding of a member who has
// invitees of its own (their fixed chains would no longer be whole). So
// no chain is ever rewritten, every cycle shows in the inviter's chain
// (ReasonCycle), and depth is an invariant of what is stored.
//
// Errors: errs.Invalid for a bad command and most refusals, errs.NotExist
// for an unknown code, errs.Conflict for an invitee already bound,
// errs.Transient when the store stays too busy.
func (s *Service) Redeem(ctx context.Context, c RedeemCmd) (Redemption, error) {
	const op = "invite.Redeem"
	if c.Invitee == "" || len(c.Invitee) > 200 {
		return Redemption{}, errs.E(op, errs.Invalid, "invitee is required")
	}
	id := c.CodeID
	if id == "" {
		found, ok, err := s.typedID(ctx, c.Code)
		if err != nil {
			return Redemption{}, errs.E(op, err)
		}
		if !ok {
			return Redemption{}, refuse(op, ReasonUnknown, "unknown code")
		}
		id = found
	}
	ik, scope := redeemKey(id, c.Invitee), redeemScope(id, c.Invitee)
	if got, ok, err := s.replayRedeem(ctx, op, ik, scope); ok || err != nil {
		return got, err
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		return Redemption{}, errs.E(op, err)
	}
	var turn func()
	defer func() {
		if turn != nil {
			turn()
		}
	}()
	sp := &spent{}
	queued := false
	for try := range maxTries {
		if try > 0 && !queued {
			if err := retry.Pause(ctx, try); err != nil {
				return Redemption{}, errs.E(op, errs.Transient, "cancelled while retrying", err)
			}
		}
		queued = false
		p, err := s.planRedeem(ctx, op, c, id, rules, sp)
		if errors.Is(err, errSame) {
			// Bound through this code: by a concurrent delivery of this
			// redemption, whose record answers (on DynamoDB it may show a
			// moment after the binding), or long ago without one.
			if got, ok, err := s.replayRedeem(ctx, op, ik, scope); ok || err != nil {
				return got, err
			}
			if try < 4 {
				continue
			}
		}
		if err != nil {
			return Redemption{}, err
		}
		claim, err := once.Claim(ik, scope, p.now, p.out, 0)
		if err != nil {
			return Redemption{}, errs.E(op, err)
		}
		err = s.st.Write(ctx, append([]store.Mutation{claim}, p.ms...)...)
		if err == nil {
			return p.out, nil
		}
		k, ok := store.FailedKey(err)
		switch {
		case !ok && !errs.Is(errs.Transient, err):
			return Redemption{}, errs.E(op, err)
		case !ok:
			// The store was too busy to judge the write (DynamoDB cancels
			// concurrent transactions on one item): plan and try again.
		case k == ik:
			if got, ok, err := s.replayRedeem(ctx, op, ik, scope); ok || err != nil {
				return got, err
			}
		case k == usesKey(id):
			return Redemption{}, refuse(op, ReasonUsedUp, "the code has been used up")
		case s.screen != nil && fraud.IsRateKey(k):
			// Over the address's hourly rate: the address is frozen now.
			if _, err := s.screen.FreezeAfter(ctx, attempt(c, p.out.Referral.Inviter, p.now)); err != nil {
				return Redemption{}, errs.E(op, err)
			}
			return Redemption{}, refuse(op, ReasonFlagged, "refused by anti-fraud: "+fraud.ReasonIPRate)
		default:
			sp.lost(k, p.grants)
		}
		if turn == nil {
			// The redemptions of one code contend for its inviter's items:
			// after a loss, this process's wait in one line per code.
			// A line that stalls (its head stuck on a slow store) is left:
			// the command races on, bounded by maxTries.
			if turn, err = s.turns.Take(ctx, op, usesKey(id)); err == nil {
				queued = true
			} else if ctx.Err() != nil {
				return Redemption{}, errs.E(op, errs.Transient, "cancelled while waiting", err)
			}
		}
	}
	return Redemption{}, errs.E(op, errs.Transient, "too much contention; retry")
}

// replayRedeem answers a redemption made before from its record.
func (s *Service) replayRedeem(ctx context.Context, op string, ik store.Key, scope string) (Redemption, bool, error) {
	got, ok, err := once.Lookup[Redemption](ctx, s.st, ik, scope)
	if err != nil {
		return Redemption{}, false, errs.E(op, err)
	}
	got.Repeat = ok
	return got, ok, nil
}

// plan is one attempt at a command's write: its mutations (the
// idempotency record aside) and its answer.
type plan struct {
	now    time.Time
	ms     []store.Mutation
	out    Redemption
	grants []grantKeys
}
