package invite

import (
	"time"
)

// Reason is why a redemption was refused: a stable code that clients match
// on, with errs.Invalid (errs.NotExist for an unknown code, errs.Conflict
// for a binding that exists).
type Reason string

// The refusal reasons of a redemption.
const (
	ReasonUnknown           Reason = "unknown_code"
	ReasonInactive          Reason = "inactive" // Archived or rotated out.
	ReasonExpired           Reason = "expired"
	ReasonWindow            Reason = "outside_window"      // Before or after the campaign's window.
	ReasonUsedUp            Reason = "used_up"             // Its usage cap is reached.
	ReasonBound             Reason = "already_bound"       // The invitee has an inviter (or the mode allows no binding now).
	ReasonNotAtRegistration Reason = "not_at_registration" // Bind mode "registration", and this is no registration.
	ReasonSelf              Reason = "self_invite"
	ReasonCycle             Reason = "cycle"    // The inviter descends from the invitee.
	ReasonDepth             Reason = "too_deep" // The chain would pass MaxDepth, or the invitee has invitees of its own.
	ReasonFlagged           Reason = "flagged"  // Refused by anti-fraud (a frozen address).
)

// InviteStatus is how far an invitation has come.
type InviteStatus string

// The invitation statuses, in order.
const (
	StatusInvited       InviteStatus = "invited"        // Bound; the invitee has not registered yet.
	StatusRegistered    InviteStatus = "registered"     // The invitee registered.
	StatusFirstPurchase InviteStatus = "first_purchase" // The invitee made a first purchase.
)

// Referral is a member's own referral, stored on the member: who invited
// it, through which code, and its ancestors (Ancestors[0] is the inviter,
// Ancestors[1] the inviter's inviter), so that the depth is an invariant of
// the stored chain, never a query.
type Referral struct {
	Member    string       `json:"member"`
	Inviter   string       `json:"inviter"`
	Ancestors []string     `json:"ancestors"` // Nearest first; len ≤ Rules.MaxDepth.
	Code      string       `json:"code"`      // The code's id (keyed hash).
	Campaign  string       `json:"campaign,omitempty"`
	Via       string       `json:"via"` // "api", "oa-scene", "wecom-state", "mp-scene", "token", "login".
	Status    InviteStatus `json:"status"`
	BoundAt   time.Time    `json:"bound_at"`
	// Held says the rewards wait for an operator or the inviter's phone
	// verification (anti-fraud).
	Held  bool     `json:"held,omitempty"`
	Flags []string `json:"flags,omitempty"`
	// Previous records the inviters replaced under BindOverride.
	Previous []string `json:"previous,omitempty"`
	// Rewarded says the registration rewards were granted (once per
	// invitee: a rebinding under BindOverride keeps it).
	Rewarded bool `json:"rewarded,omitempty"`
	// Rejected says an operator rejected the held rewards: they are never
	// granted.
	Rejected bool `json:"rejected,omitempty"`
	// Reviewer is the operator who approved or rejected held rewards.
	Reviewer string `json:"reviewer,omitempty"`
	// Rewards are the registration rewards, as granted (or, while Held,
	// the points that wait).
	Rewards []Reward `json:"rewards,omitempty"`
	// Trigger and Channel are the funnel dimensions of the redemption.
	Trigger string `json:"trigger,omitempty"`
	Channel string `json:"channel,omitempty"`
}

// rank is how far status s has come, for comparing statuses.
func (s InviteStatus) rank() int {
	switch s {
	case StatusRegistered:
		return 1
	case StatusFirstPurchase:
		return 2
	}
	return 0
}
