package invite

import (
	"context"

	"github.com/wemember/wemember/shared/errs"
)

// This file holds the redemption's contract until the redeem branch lands
// with its implementation, which replaces the file.

// RedeemCmd is one redemption of a code by an invitee.
type RedeemCmd struct {
	Code                     string // The code as typed or scanned…
	CodeID                   string // …or its id, from a scene or state.
	Invitee                  string // Member id.
	Via                      string // "api", "login", "oa-scene", "wecom-state", "mp-scene", "token".
	Registration             bool   // The invitee's registration (first-login event).
	Client, Device, Platform string // Anti-fraud signals (Client and Device keyed hashes).
	Trigger, Channel         string // Funnel dimensions.
}

// Redemption is the outcome of a redemption.
type Redemption struct {
	Referral Referral
	Rewards  []Reward
	Repeat   bool
}

// Reward is one reward of a redemption.
type Reward struct {
	Kind   string // "points", "coupon", "red_packet", "privilege".
	Member string
	Points int64
	Coupon string
	Fen    int64
	Held   bool
}

// Redeem redeems a code.
func (s *Service) Redeem(ctx context.Context, c RedeemCmd) (Redemption, error) {
	return Redemption{}, errs.E("invite.Redeem", errs.Internal, "redemption is not built yet")
}

// ReasonOf is the refusal reason of a Redeem error.
func ReasonOf(err error) (Reason, bool) { return "", false }
