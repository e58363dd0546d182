package fraud

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/rulesdoc"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/text"
)

// Rules are the anti-fraud thresholds, stored as data and changed by
// operators. A count over a threshold triggers it: with InviterDaily 5 the
// fifth invite of a day is fine and the sixth asks for step-up.
type Rules struct {
	// Version is the stored version (1 for the defaults); SetRules requires
	// the caller's Version to equal the current one.
	Version int64 `json:"version"`
	// InviterDaily: over this many invites by one inviter in a China-time
	// day, the rewards wait until the inviter verifies a phone.
	InviterDaily int `json:"inviter_daily"`
	// IPHourly: over this many redemptions from one client address in a
	// China-time hour, the address is frozen…
	IPHourly int `json:"ip_hourly"`
	// …for IPFreezeMinutes.
	IPFreezeMinutes int `json:"ip_freeze_minutes"`
	// DeviceInvitees: more distinct invitees than this behind one device
	// within DeviceWindowDays flags the redemption.
	DeviceInvitees   int `json:"device_invitees"`
	DeviceWindowDays int `json:"device_window_days"`
	// EmulatorPlatforms are the client platforms (wx.getSystemInfo's
	// platform, compared without case) that mean an emulator or developer
	// tools: a redemption from one is flagged.
	EmulatorPlatforms []string `json:"emulator_platforms"`
	// SpikeHourly: over this many redemptions through codes in a China-time
	// hour, an alert is recorded for the hour.
	SpikeHourly int       `json:"spike_hourly"`
	UpdatedAt   time.Time `json:"updated_at"`
	UpdatedBy   string    `json:"updated_by"`
}

// IPFreeze is how long a frozen address stays frozen.
func (r Rules) IPFreeze() time.Duration { return time.Duration(r.IPFreezeMinutes) * time.Minute }

// DeviceWindow is how long a device remembers its invitees.
func (r Rules) DeviceWindow() time.Duration {
	return time.Duration(r.DeviceWindowDays) * 24 * time.Hour
}

// The bounds of the rules.
const (
	MaxInviterDaily     = 10_000
	MaxIPHourly         = 100_000
	MaxIPFreezeMinutes  = 30 * 24 * 60 // 30 days.
	MaxDeviceInvitees   = 1_000
	MaxDeviceWindowDays = 365
	MaxSpikeHourly      = 10_000_000
	MaxPlatforms        = 20
	MaxPlatformLen      = 32
)

// DefaultRules are the rules before an operator sets any: step-up after 5
// invites a day, a day's freeze after 30 redemptions an hour from one
// address, a flag after 3 invitees on one device within 30 days or from
// WeChat developer tools, an alert after 200 redemptions an hour.
func DefaultRules() Rules {
	return Rules{InviterDaily: 5, IPHourly: 30, IPFreezeMinutes: 24 * 60,
		DeviceInvitees: 3, DeviceWindowDays: 30, EmulatorPlatforms: []string{"devtools"},
		SpikeHourly: 200}
}

// Validate checks the rules. Its errors are errs.Invalid and name the field.
func (r Rules) Validate() error {
	bad := func(msg string) error { return errs.E("fraud.Rules", errs.Invalid, msg) }
	switch {
	case r.InviterDaily < 1 || r.InviterDaily > MaxInviterDaily:
		return bad(fmt.Sprintf("inviter_daily must be 1..%d", MaxInviterDaily))
	case r.IPHourly < 1 || r.IPHourly > MaxIPHourly:
		return bad(fmt.Sprintf("ip_hourly must be 1..%d", MaxIPHourly))
	case r.IPFreezeMinutes < 1 || r.IPFreezeMinutes > MaxIPFreezeMinutes:
		return bad(fmt.Sprintf("ip_freeze_minutes must be 1..%d", MaxIPFreezeMinutes))
	case r.DeviceInvitees < 1 || r.DeviceInvitees > MaxDeviceInvitees:
		return bad(fmt.Sprintf("device_invitees must be 1..%d", MaxDeviceInvitees))
	case r.DeviceWindowDays < 1 || r.DeviceWindowDays > MaxDeviceWindowDays:
		return bad(fmt.Sprintf("device_window_days must be 1..%d", MaxDeviceWindowDays))
	case r.SpikeHourly < 1 || r.SpikeHourly > MaxSpikeHourly:
		return bad(fmt.Sprintf("spike_hourly must be 1..%d", MaxSpikeHourly))
	case len(r.EmulatorPlatforms) > MaxPlatforms:
		return bad(fmt.Sprintf("emulator_platforms holds at most %d platforms", MaxPlatforms))
	}
	for _, p := range r.EmulatorPlatforms {
		if strings.TrimSpace(p) == "" {
			return bad("emulator_platforms must not hold an empty platform")
		}
		if msg := text.Problem(p, MaxPlatformLen); msg != "" {
			return bad("an emulator platform " + msg)
		}
	}
	return nil
}

// emulator reports whether platform is one of the rules' emulator
// platforms.
func (r Rules) emulator(platform string) bool {
	platform = strings.TrimSpace(platform)
	if platform == "" {
		return false
	}
	return slices.ContainsFunc(r.EmulatorPlatforms, func(p string) bool {
		return strings.EqualFold(strings.TrimSpace(p), platform)
	})
}

func rulesKey() store.Key { return store.K(rulesPK, "current") }

// RulesTTL is how long an instance keeps the rules before reading them
// again: a change made through another instance is in force everywhere
// within it. Every redemption needs the rules; this saves it a read.
const RulesTTL = 30 * time.Second

// Rules returns the rules in force (the defaults until set), as kept for
// up to RulesTTL.
func (s *Service) Rules(ctx context.Context) (Rules, error) {
	return s.rules.Get(s.now(), RulesTTL, func() (Rules, error) { return s.readRules(ctx) })
}

// readRules reads the stored rules, the defaults at version 1 until an
// operator sets any. A stored document's version is its item's plus one.
func (s *Service) readRules(ctx context.Context) (Rules, error) {
	var r Rules
	it, err := store.GetJSON(ctx, s.st, rulesKey(), &r)
	if errs.Is(errs.NotExist, err) {
		r, err = DefaultRules(), nil
	}
	if err != nil {
		return Rules{}, errs.E("fraud.Rules", err)
	}
	r.Version = it.Version + 1
	return r, nil
}

// SetRules validates and stores new rules as the next version, recording
// who and when, and keeps a copy in the history. r.Version must be the
// current version: errs.Invalid when it is missing (0) or negative,
// errs.Conflict when it is stale, each saying the current version. Rules
// that break Validate, or a missing operator, are errs.Invalid.
func (s *Service) SetRules(ctx context.Context, r Rules, operator string) (Rules, error) {
	const op = "fraud.SetRules"
	if err := r.Validate(); err != nil {
		return Rules{}, err
	}
	if operator == "" {
		return Rules{}, errs.E(op, errs.Invalid, "operator is required")
	}
	cur, err := s.readRules(ctx)
	if err != nil {
		return Rules{}, errs.E(op, err)
	}
	s.rules.Set(cur, s.now())
	if err := rulesdoc.CheckVersion(op, r.Version, cur.Version); err != nil {
		return Rules{}, err
	}
	r.UpdatedAt, r.UpdatedBy = s.now().UTC(), operator
	r.Version = cur.Version + 1
	r.EmulatorPlatforms = append([]string{}, r.EmulatorPlatforms...)
	hist := store.PutJSON(store.K(rulesPK, "history#"+r.UpdatedAt.Format(time.RFC3339Nano)), r)
	if err := s.st.Write(ctx, store.PutJSON(rulesKey(), r).IfVersion(cur.Version-1), hist); err != nil {
		return Rules{}, rulesdoc.SaveErr(op, err)
	}
	s.rules.Set(r, s.now())
	return r, nil
}
