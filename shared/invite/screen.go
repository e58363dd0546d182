package invite

import (
	"context"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/fraud"
	"github.com/wemember/wemember/shared/funnel"
	"github.com/wemember/wemember/shared/store"
)

// Screen is anti-fraud as a redemption uses it; *fraud.Service is one.
type Screen interface {
	// Assess judges an attempt: a refusal, held rewards, and the counters
	// the redemption writes in its own atomic write.
	Assess(ctx context.Context, a fraud.Attempt) (fraud.Verdict, error)
	// FreezeAfter freezes the attempt's address after its write failed on
	// the address's hourly counter (fraud.IsRateKey), and says so.
	FreezeAfter(ctx context.Context, a fraud.Attempt) (fraud.Verdict, error)
}

// Counter counts funnel steps into daily aggregates; *funnel.Service is
// one.
type Counter interface {
	// Mutations are the counts of one event, for the command's own write.
	Mutations(e funnel.Event) ([]store.Mutation, error)
}

// WithFraud screens every redemption with f: its counters ride in the
// redemption's write; a refusal, or a write over an address's rate, is
// ReasonFlagged; a hold (an operator's review, or the inviter's step-up)
// keeps the rewards until Approve.
func WithFraud(f Screen) Option { return func(s *Service) { s.screen = f } }

// WithFunnel counts every registration through a code (step register) and
// every first purchase (step first_order) with f, in the write that makes
// it.
func WithFunnel(f Counter) Option { return func(s *Service) { s.funnel = f } }

// redeemer is the state of redemptions: the optional anti-fraud and funnel,
// and the turns of this process's commands that contend for one item.
type redeemer struct {
	screen Screen
	funnel Counter
	turns  *store.Turns
}

// count is the funnel's mutations for e. A trigger or channel the funnel
// does not know is left out of the counts rather than failing the
// command: the step happened whatever the client called it.
func (s *Service) count(e funnel.Event) ([]store.Mutation, error) {
	if s.funnel == nil {
		return nil, nil
	}
	ms, err := s.funnel.Mutations(e)
	if errs.Is(errs.Invalid, err) {
		e.Trigger, e.Channel = "", ""
		ms, err = s.funnel.Mutations(e)
	}
	return ms, err
}
