package invite

import (
	"context"
	"time"

	"github.com/wemember/wemember/shared/store"
)

// Attempt is a redemption as anti-fraud sees it.
type Attempt struct {
	Inviter, Invitee         string
	Client, Device, Platform string // Client and Device are keyed hashes.
	At                       time.Time
}

// Verdict is anti-fraud's answer to an Attempt.
type Verdict struct {
	Refuse bool   // Refused outright (a frozen address): ReasonFlagged.
	Reason string // Why, for operators.
	// Hold keeps the rewards until an operator approves them (Approve);
	// StepUp keeps them until the inviter verifies a phone.
	Hold, StepUp bool
	Flags        []string
	// Mutations are anti-fraud's counters, written in the redemption's
	// own atomic write.
	Mutations []store.Mutation
}

// Screen is anti-fraud as a redemption uses it.
type Screen interface {
	// Assess judges an attempt and returns the counters to write with it.
	Assess(ctx context.Context, a Attempt) (Verdict, error)
	// Refuses reports whether a write that failed the condition of key k
	// failed on one of the verdict's capped counters (an address over its
	// rate): the redemption is then refused with ReasonFlagged.
	Refuses(k store.Key) bool
}

// FunnelEvent is one step of the invitation funnel.
type FunnelEvent struct {
	Step             string // "register" here.
	At               time.Time
	Trigger, Channel string
	Code, Inviter    string
	Elapsed          time.Duration // Since the binding.
}

// Counter counts funnel steps into aggregate items.
type Counter interface {
	// Mutations are the counts of one event, written in the command's own
	// atomic write.
	Mutations(e FunnelEvent) ([]store.Mutation, error)
}

// WithFraud screens every redemption with f: its counters ride in the
// redemption's write, a refusal is ReasonFlagged, a hold keeps the
// rewards for an operator.
func WithFraud(f Screen) Option { return func(s *Service) { s.screen = f } }

// WithFunnel counts every registration through a code with f, in the
// write that registers it.
func WithFunnel(f Counter) Option { return func(s *Service) { s.funnel = f } }

// redeemer is the state of redemptions: the optional anti-fraud and funnel,
// and the turns of this process's commands that contend for one item.
type redeemer struct {
	screen Screen
	funnel Counter
	turns  *store.Turns
}
