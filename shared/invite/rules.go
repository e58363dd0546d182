package invite

import (
	"context"
	"time"

	"github.com/wemember/wemember/shared/codes"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/rulesdoc"
	"github.com/wemember/wemember/shared/store"
)

// Kind is a kind of code, with its own format and validity (KindRule).
type Kind string

// The code kinds of SPEC §2.
const (
	KindOAFollow     Kind = "oa-follow"    // Official Account follow invite: digits, 72 h.
	KindMPShare      Kind = "mp-share"     // Mini-program share invite: 20 mixed, no expiry.
	KindWeCom        Kind = "wecom"        // WeCom contact invite: prefix + random, rotated.
	KindRegistration Kind = "registration" // Ordinary registration code: 24 h, +6 h per share.
	KindEnterprise   Kind = "enterprise"   // Enterprise code: 7 days; a reset archives it.
	KindCampaign     Kind = "campaign"     // Campaign code: its window; then ordinary.
)

// Seconds is a duration in whole seconds, as rules documents carry it.
type Seconds int64

// D is the duration.
func (s Seconds) D() time.Duration { return time.Duration(s) * time.Second }

// KindRule is how the codes of a kind look and last.
type KindRule struct {
	Format        codes.Format `json:"format"`
	Validity      Seconds      `json:"validity,omitempty"`        // 0: no expiry.
	ExtendOnShare Seconds      `json:"extend_on_share,omitempty"` // Added to ExpiresAt per share.
	Rotation      Seconds      `json:"rotation,omitempty"`        // A new code every period (WeCom).
	// Grace is how long a rotated-out code still redeems, so that a contact
	// who scanned it just before the rotation is still bound.
	Grace Seconds `json:"grace,omitempty"`
	Cap   int64   `json:"cap,omitempty"` // Redemptions per code; 0: no cap.
}

// BindMode is when an invitee can be bound to an inviter.
type BindMode string

// The bind modes.
const (
	BindFirst        BindMode = "first"        // At any time, the first binding wins (default).
	BindRegistration BindMode = "registration" // Only with the invitee's registration (first-login event).
	BindOverride     BindMode = "override"     // A newer code rebinds; the change is recorded.
)

// Rewards are what an invitation earns, each granted exactly once.
type Rewards struct {
	InviterPoints       int64  `json:"inviter_points"`             // On the invitee's registration (20).
	InviteePoints       int64  `json:"invitee_points"`             // On the invitee's registration (20).
	FirstPurchasePoints int64  `json:"first_purchase_points"`      // To the inviter on the invitee's first purchase.
	PrivilegeAfter      int    `json:"privilege_after"`            // Successful invites that earn the privilege (3).
	PrivilegeCoupon     string `json:"privilege_coupon,omitempty"` // Coupon template of the privilege.
	CampaignCoupon      string `json:"campaign_coupon,omitempty"`  // Coupon template for a campaign's first invitees…
	CampaignFirst       int64  `json:"campaign_first"`             // …this many of them (100).
	RebateDirect        int64  `json:"rebate_direct"`              // Points to the inviter per invitee purchase (15).
	RebateIndirect      int64  `json:"rebate_indirect"`            // Points to the inviter's inviter (5).
	RedPacketFen        int64  `json:"red_packet_fen"`             // Cash owed to the inviter per invite…
	RedPacketCapFen     int64  `json:"red_packet_cap_fen"`         // …at most this much per code (500 = 5 yuan).
}

// Rules are the invitation rules, stored as data and changed by operators.
type Rules struct {
	// Version is the stored version (1 for the defaults); SetRules requires
	// the caller's Version to equal the current one.
	Version   int64             `json:"version"`
	Bind      BindMode          `json:"bind"`
	MaxDepth  int               `json:"max_depth"` // 1 or 2: never more (anti-pyramid).
	Kinds     map[Kind]KindRule `json:"kinds"`
	Rewards   Rewards           `json:"rewards"`
	UpdatedAt time.Time         `json:"updated_at,omitzero"`
	UpdatedBy string            `json:"updated_by,omitempty"`
}

// DefaultRules are SPEC §2's defaults.
func DefaultRules() Rules {
	alnum := codes.DefaultCharset
	return Rules{
		Version:  1,
		Bind:     BindFirst,
		MaxDepth: 2,
		Kinds: map[Kind]KindRule{
			KindOAFollow:     {Format: codes.Format{Length: 10, Charset: "0123456789"}, Validity: 72 * 3600},
			KindMPShare:      {Format: codes.Format{Length: 20, Charset: alnum}},
			KindWeCom:        {Format: codes.Format{Prefix: "WC", Length: 10, Charset: alnum}, Rotation: 7 * 24 * 3600, Grace: 24 * 3600},
			KindRegistration: {Format: codes.Format{Length: 16, Charset: alnum}, Validity: 24 * 3600, ExtendOnShare: 6 * 3600},
			KindEnterprise:   {Format: codes.Format{Prefix: "EN", Length: 12, Charset: alnum}, Validity: 7 * 24 * 3600},
			KindCampaign:     {Format: codes.Format{Prefix: "CP", Length: 10, Charset: alnum}},
		},
		Rewards: Rewards{InviterPoints: 20, InviteePoints: 20, FirstPurchasePoints: 50, PrivilegeAfter: 3,
			CampaignFirst: 100, RebateDirect: 15, RebateIndirect: 5, RedPacketFen: 100, RedPacketCapFen: 500},
	}
}

// Validate reports rules that cannot be applied, as errs.Invalid.
func (r Rules) Validate() error {
	const op = "invite.Rules"
	switch r.Bind {
	case BindFirst, BindRegistration, BindOverride:
	default:
		return errs.E(op, errs.Invalid, "bind must be first, registration or override")
	}
	if r.MaxDepth < 1 || r.MaxDepth > 2 {
		return errs.E(op, errs.Invalid, "max_depth must be 1 or 2")
	}
	for k, kr := range r.Kinds {
		if err := kr.Format.Validate(); err != nil {
			return errs.E(op, errs.Invalid, "kinds."+string(k)+": "+errs.SafeMessage(err))
		}
		if kr.Validity < 0 || kr.ExtendOnShare < 0 || kr.Rotation < 0 || kr.Grace < 0 || kr.Cap < 0 {
			return errs.E(op, errs.Invalid, "kinds."+string(k)+": durations and cap must not be negative")
		}
	}
	return nil
}

// Kind returns the rule of a kind; ok false for a kind the rules lack.
func (r Rules) Kind(k Kind) (KindRule, bool) {
	kr, ok := r.Kinds[k]
	return kr, ok
}

func rulesKey() store.Key { return store.K("rules#invite", "current") }

// RulesTTL is how long an instance keeps the invitation rules.
const RulesTTL = 30 * time.Second

// Rules returns the invitation rules in force (the defaults until set).
func (s *Service) Rules(ctx context.Context) (Rules, error) {
	return s.rules.Get(s.now(), RulesTTL, func() (Rules, error) { return s.readRules(ctx) })
}

func (s *Service) readRules(ctx context.Context) (Rules, error) {
	var r Rules
	it, err := store.GetJSON(ctx, s.st, rulesKey(), &r)
	if errs.Is(errs.NotExist, err) {
		r, err = DefaultRules(), nil
	}
	if err != nil {
		return Rules{}, errs.E("invite.Rules", err)
	}
	r.Version = it.Version + 1
	return r, nil
}

// SetRules validates and stores new invitation rules as the next version.
// r.Version must be the current version (errs.Invalid when missing,
// errs.Conflict when stale).
func (s *Service) SetRules(ctx context.Context, r Rules, operator string) (Rules, error) {
	const op = "invite.SetRules"
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
	if err := s.st.Write(ctx, store.PutJSON(rulesKey(), r).IfVersion(cur.Version-1)); err != nil {
		return Rules{}, rulesdoc.SaveErr(op, err)
	}
	s.rules.Set(r, s.now())
	return r, nil
}
