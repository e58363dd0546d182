package loyalty

import (
	"context"
	"fmt"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/once"
	"github.com/wemember/wemember/shared/store"
)

// Plan is an earning worked out and not yet written, for a command that
// credits points as one of the effects of its own atomic write (an
// invitation's registration rewards): the ledger entry, and the mutations
// that make it (Earn's idempotency record first, so that a write failing
// on both names it, then the lot with its due items, the summary
// conditioned on the version read, and the entry).
type Plan struct {
	Entry     Entry
	Mutations []store.Mutation
	// Done says the key was used before: Entry is the first earning's and
	// there is nothing to write.
	Done bool

	claim, summary store.Key
}

// Spent reports whether a write of the plan that failed the condition of
// key k means the points were credited by another command with the same
// key: the plan is not to be made again. A failed summary (the account
// changed meanwhile) asks for the plan to be worked out again.
func (p Plan) Spent(k store.Key) bool { return !p.Done && k == p.claim }

// Mine reports whether k is one of the plan's keys that a concurrent
// command can move: its idempotency record or the member's summary.
func (p Plan) Mine(k store.Key) bool { return !p.Done && (k == p.claim || k == p.summary) }

// PlanEarn works an Earn out without writing it. It answers a key used
// before as Earn does (Done, no mutations), and fails as Earn does; two
// plans for one member cannot share a write (both change its summary).
func (s *Service) PlanEarn(ctx context.Context, c EarnCmd) (Plan, error) {
	const op = "loyalty.PlanEarn"
	if err := checkCmd(op, c.MemberID, c.Points, c.Key); err != nil {
		return Plan{}, err
	}
	if c.PendingDays < 0 || c.PendingDays > 366 {
		return Plan{}, errs.E(op, errs.Invalid, "pending days must be 0..366")
	}
	if c.Expiry != nil {
		if err := c.Expiry.validate(); err != nil {
			return Plan{}, errs.E(op, errs.Invalid, err.Error())
		}
	}
	ik := idemKey(pointsScope, c.Key)
	scope := fmt.Sprintf("%s|%s|%d", KindEarn, c.MemberID, c.Points)
	first, ok, err := once.Lookup[Entry](ctx, s.st, ik, scope)
	if err != nil {
		return Plan{}, errs.E(op, err)
	}
	if ok {
		return Plan{Entry: first, Done: true}, nil
	}
	now := s.now()
	ms, e, err := s.creditWrite(ctx, op, KindEarn, c, now)
	if err != nil {
		return Plan{}, err
	}
	claim, err := once.Claim(ik, scope, now, e, s.idemTTL)
	if err != nil {
		return Plan{}, errs.E(op, err)
	}
	return Plan{Entry: e, Mutations: append([]store.Mutation{claim}, ms...), claim: ik, summary: summaryKey(c.MemberID)}, nil
}
