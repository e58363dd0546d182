package mplogin

import (
	"context"
	"log/slog"
	"net/url"
	"strings"

	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/codes"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/invite"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/reqlog"
	"github.com/wemember/wemember/shared/web"
)

// Redeemer is what mp-login needs of the invitations: invite.Service. A
// redemption is idempotent per invitee and code (a repeat gets the first
// outcome); a member's own code is made on first demand.
type Redeemer interface {
	Redeem(ctx context.Context, c invite.RedeemCmd) (invite.Redemption, error)
	OwnCode(ctx context.Context, memberID string, kind invite.Kind, campaign string) (invite.Code, string, error)
}

// registrar is the hook that moves an invitation bound earlier (status
// invited) on to registered, when the Redeemer has it.
type registrar interface {
	Registered(ctx context.Context, memberID string) (invite.Referral, error)
}

// The ways a code reaches a login (invite.RedeemCmd.Via).
const (
	ViaLogin = "login"    // The invite_code field, as typed.
	ViaScene = "mp-scene" // The launch scene of a mini-program code.
	ViaToken = "token"    // A pasted text token (口令).
)

// viaOf is the Via of a pending attribution's source.
var viaOf = map[string]string{"oa-qr": "oa-scene", "wecom": "wecom-state"}

// PendingKind is the kind of the inviter's own code that a pending
// attribution naming only the inviter is redeemed through.
const PendingKind = invite.KindMPShare

// Invitation is what became of an invitation a login carried: bound (to
// the inviter, shown masked, with the rewards), refused with its reason
// (invite.Reason; nothing of it is stored), or failed, to be tried again
// through invite-redeem. The login succeeds in every case.
type Invitation struct {
	Bound         bool          `json:"bound,omitempty"`
	InviterMasked string        `json:"inviter_masked,omitempty"`
	Rewards       []RewardShown `json:"rewards,omitempty"`
	Refused       string        `json:"refused,omitempty"`
	Failed        bool          `json:"failed,omitempty"`
}

// RewardShown is one reward of a binding as the invitee sees it: its own,
// or the inviter's (without the inviter's coupon).
type RewardShown struct {
	Kind   string `json:"kind"` // "points", "coupon", "red_packet", "privilege".
	Mine   bool   `json:"mine"` // The invitee's own; otherwise the inviter's.
	Points int64  `json:"points,omitempty"`
	Coupon string `json:"coupon,omitempty"` // The invitee's own coupon only.
	Fen    int64  `json:"fen,omitempty"`
	Held   bool   `json:"held,omitempty"` // Waits for an operator's approval.
}

// firstLogin reports whether the login registered the member in the
// mini-program: it created the member, or linked the mini-program's openid
// to a member known until now only through other channels (an Official
// Account follow, a WeCom contact). Both are explicit events of this login,
// never a guess from the member's age.
func firstLogin(res member.Result, appID string) bool {
	if res.Created {
		return true
	}
	for _, id := range res.Linked {
		if id.Kind == member.OpenID && id.Scope == appID {
			return true
		}
	}
	return false
}

// invitation redeems the code the login carries — invite_code, a text
// token, or the launch scene, in that order — or, at the member's first
// login without one, the pending attribution an earlier follow or add left.
// It returns nil when there is nothing to redeem. A refusal or failure
// never fails the login.
func (h *Handler) invitation(ctx context.Context, r *web.Request, in Request, res member.Result) *Invitation {
	if h.Invites == nil {
		return nil
	}
	registering := firstLogin(res, h.MP.AppID())
	cmd, refused, ok := h.carried(in)
	if refused != "" {
		return &Invitation{Refused: string(refused)}
	}
	if !ok && registering && !res.Created { // A new member has no pending attribution.
		var err error
		if cmd, ok, err = h.pending(ctx, res.Member.ID); err != nil {
			return h.failed(ctx, "pending", err)
		}
	}
	// A member known before through other channels registers now: an
	// invitation bound then moves on (unless this login's binding did it).
	earlier := registering && !res.Created
	if !ok {
		if earlier {
			h.registered(ctx, res.Member.ID)
		}
		return nil
	}
	cmd.Invitee, cmd.Registration = res.Member.ID, registering
	cmd.Client, cmd.Device, cmd.Platform = h.client(r), h.device(in.DeviceID), in.Platform
	red, err := h.Invites.Redeem(ctx, cmd)
	if reason, ok := invite.ReasonOf(err); ok {
		if earlier {
			h.registered(ctx, res.Member.ID)
		}
		return &Invitation{Refused: string(reason)}
	}
	if err != nil {
		return h.failed(ctx, cmd.Via, err)
	}
	if earlier && red.Repeat {
		h.registered(ctx, res.Member.ID)
	}
	return h.bound(ctx, res.Member.ID, red)
}

// carried is the redemption of the code the request carries, if any;
// refused is set for a text token without a code in it.
func (h *Handler) carried(in Request) (cmd invite.RedeemCmd, refused invite.Reason, ok bool) {
	switch {
	case strings.TrimSpace(in.InviteCode) != "":
		return invite.RedeemCmd{Code: in.InviteCode, Via: ViaLogin, Channel: "mini-program"}, "", true
	case in.Token != "":
		code, found := codes.ParseToken(in.Token)
		if !found {
			return invite.RedeemCmd{}, invite.ReasonUnknown, false
		}
		return invite.RedeemCmd{Code: code, Via: ViaToken, Channel: ViaToken}, "", true
	}
	if code, found := sceneCode(in.Scene); found {
		return invite.RedeemCmd{Code: code, Via: ViaScene, Channel: ViaScene}, "", true
	}
	return invite.RedeemCmd{}, "", false
}

// sceneCode is the invitation code a launch scene carries: the scene of a
// mini-program code (wxacode.getUnlimited), URL-encoded by WeChat, is
// "inv_<code>" or the code itself. A launch scene number (1001, 1047…)
// is no code.
func sceneCode(scene string) (string, bool) {
	if scene == "" {
		return "", false
	}
	if s, err := url.QueryUnescape(scene); err == nil {
		scene = s
	}
	scene = strings.TrimSpace(scene)
	if code, ok := channels.InviteCode(scene); ok {
		return code, true
	}
	if scene == "" || launchScene(scene) {
		return "", false
	}
	return scene, true
}

// launchScene reports whether s is a launch scene number: at most four
// digits.
func launchScene(s string) bool {
	if len(s) > 4 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// pending is the redemption of the member's pending attribution, if any:
// its code, or the own code of the inviter it names.
func (h *Handler) pending(ctx context.Context, memberID string) (invite.RedeemCmd, bool, error) {
	p, err := h.Channels.PendingOf(ctx, memberID)
	if errs.Is(errs.NotExist, err) {
		return invite.RedeemCmd{}, false, nil
	}
	if err != nil {
		return invite.RedeemCmd{}, false, err
	}
	via := viaOf[p.Source]
	if via == "" {
		via = ViaLogin
	}
	cmd := invite.RedeemCmd{CodeID: p.CodeID, Via: via, Channel: p.Source}
	switch {
	case p.CodeID != "":
	case p.Code != "":
		cmd.Code = p.Code
	case p.Inviter != "" && p.Inviter != memberID:
		c, _, err := h.Invites.OwnCode(ctx, p.Inviter, PendingKind, "")
		if err != nil {
			return invite.RedeemCmd{}, false, err
		}
		cmd.CodeID = c.ID
	default:
		return invite.RedeemCmd{}, false, nil
	}
	return cmd, true, nil
}

// bound is the invitation as the invitee sees its binding.
func (h *Handler) bound(ctx context.Context, memberID string, red invite.Redemption) *Invitation {
	out := &Invitation{Bound: true}
	if inv, err := h.Members.Get(ctx, red.Referral.Inviter); err == nil {
		out.InviterMasked = pii.MaskName(inv.Nickname)
	}
	for _, rw := range red.Rewards {
		s := RewardShown{Kind: rw.Kind, Mine: rw.Member == memberID, Points: rw.Points, Fen: rw.Fen, Held: rw.Held}
		if s.Mine {
			s.Coupon = rw.Coupon
		}
		out.Rewards = append(out.Rewards, s)
	}
	return out
}

// failed logs a redemption that could not run, for the login to go on.
func (h *Handler) failed(ctx context.Context, via string, err error) *Invitation {
	reqlog.From(ctx).WarnContext(ctx, "invitation not redeemed at login", slog.String("via", via),
		slog.String("kind", errs.KindOf(err).String()), slog.String("error", err.Error()))
	return &Invitation{Failed: true}
}

// registered tells the invitations that the member registered, for an
// invitation bound earlier, when the Redeemer has the hook. Its failure is
// logged: the login goes on.
func (h *Handler) registered(ctx context.Context, memberID string) {
	reg, ok := h.Invites.(registrar)
	if !ok {
		return
	}
	if _, err := reg.Registered(ctx, memberID); err != nil && !errs.Is(errs.NotExist, err) {
		reqlog.From(ctx).WarnContext(ctx, "invitation status not moved to registered",
			slog.String("kind", errs.KindOf(err).String()), slog.String("error", err.Error()))
	}
}

// client is the anti-fraud signal of the caller's address: its keyed hash,
// as the login limit counts it. A login the platform vouches for comes from
// the platform's few addresses, shared by many people: no signal.
func (h *Handler) client(r *web.Request) string {
	if h.Hash == nil || r.Caller != nil {
		return ""
	}
	return h.Hash(ClientHashDomain, limitKey(r.RemoteIP))
}

// device is the keyed hash of the device id the client reported, if any.
func (h *Handler) device(id string) string {
	if h.Hash == nil || id == "" {
		return ""
	}
	return h.Hash("device", id)
}

// ClientHashDomain is the keyed hash's domain of a client address: the
// login limit's (functions/wiring), so both name a client alike.
const ClientHashDomain = "client-ip"
