// Package mplogin is the mp-login function: a mini-program's wx.login code
// (and optionally a phone-number code and a channel) becomes a member and a
// signed session token. An invitation the login carries (a typed code, a
// text token, a mini-program code's launch scene), or at a member's first
// login the pending attribution a follow left, is redeemed once the member
// is admitted; what became of it is part of the answer, and it never fails
// the login. The session_key WeChat returns never leaves this package: it
// is neither stored, returned nor logged.
package mplogin

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/onboard"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/ratelimit"
	"github.com/wemember/wemember/shared/session"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/text"
	"github.com/wemember/wemember/shared/web"
	"github.com/wemember/wemember/shared/wxuser"
)

// MiniProgram is what mp-login needs of WeChat's mini-program API.
type MiniProgram interface {
	AppID() string
	Code2Session(ctx context.Context, code string) (wxuser.Session, error)
	PhoneNumber(ctx context.Context, code string) (pii.Phone, error)
}

// Handler serves POST /mp-login.
type Handler struct {
	MP       MiniProgram
	Members  *member.Service
	Onboard  *onboard.Service // Registers or finds the member and welcomes a new one, in one write.
	Sessions *session.Issuer
	// Limiter bounds the logins per client IP address by the identity
	// rules' login limit, before WeChat is asked; optional.
	Limiter *ratelimit.Limiter
	// Invites redeems the invitation a login carries or a member's pending
	// attribution (read from Channels) at its first login; optional.
	Invites  Redeemer
	Channels *channels.Service
	// Hash is the keyed hash (pii.Box.Hash) of the anti-fraud signals: the
	// client's address and device id never rest in the store.
	Hash func(domain, value string) string
}

// Request is the body of POST /mp-login.
type Request struct {
	Code      string `json:"code"`       // From wx.login; required unless the platform vouches for the caller.
	PhoneCode string `json:"phone_code"` // From the getPhoneNumber button; optional.
	// Channel is how the client says it was reached, for a new member:
	// only the kinds in ClaimableChannels, stored as claimed. Optional.
	Channel  *member.Channel `json:"channel"`
	Scene    string          `json:"scene"` // The launch scene or QR scene; optional, stored as claimed.
	Nickname string          `json:"nickname"`
	Avatar   string          `json:"avatar"`
	// InviteCode is an invitation code as the person typed it; Token a
	// pasted text token (口令) holding one. Scene may hold one too: the
	// scene of a mini-program code, "inv_<code>" or the code. Optional.
	InviteCode string `json:"invite_code"`
	Token      string `json:"token"`
	// DeviceID and Platform are the client's device signals for
	// anti-fraud (wx.getSystemInfo's platform, e.g. "ios", "devtools");
	// the device id is kept only as a keyed hash. Optional.
	DeviceID string `json:"device_id"`
	Platform string `json:"platform"`
}

// Response is the answer of POST /mp-login.
type Response struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	MemberID  string    `json:"member_id"`
	Created   bool      `json:"created"`
	// NeedsPhone says the binding mode is forced and the member has no
	// phone yet: the mini-program should ask for one, as PhonePrompt says.
	// The login itself succeeded either way.
	NeedsPhone bool `json:"needs_phone,omitempty"`
	// PhonePrompt, with NeedsPhone, is how to ask: PromptAuthorize (no
	// number was presented: show the phone-number button) or
	// PromptAnotherNumber (the number presented belongs to another WeChat
	// account's member and will never be bound to this one: ask for a
	// different number, and do not present the same one again).
	PhonePrompt string `json:"phone_prompt,omitempty"`
	// PhoneLinked says, when a phone code was given, whether the number is
	// now the member's; PhoneReason says why not: "phone_in_use", the
	// number belongs to another WeChat account's member.
	PhoneLinked *bool  `json:"phone_linked,omitempty"`
	PhoneReason string `json:"phone_reason,omitempty"`
	// Invite is what became of the invitation the login carried or the
	// member's pending one; absent when there was none.
	Invite *Invitation `json:"invite,omitempty"`
}

// PhoneInUse is the PhoneReason of a phone that belongs to another WeChat
// account's member (a recycled number): the login went on without it.
const PhoneInUse = "phone_in_use"

// The PhonePrompts of a login that needs a phone.
const (
	PromptAuthorize     = "authorize"      // Ask for phone authorization.
	PromptAnotherNumber = "another_number" // The number was PhoneInUse: ask for a different one.
)

// Mux routes the function's requests.
func (h *Handler) Mux() *web.Mux {
	mux := web.NewMux("/mp-login")
	mux.Handle(http.MethodPost, "/", h.Login)
	return mux
}

// Login registers or finds the member and issues a session token.
func (h *Handler) Login(ctx context.Context, r *web.Request) (*web.Response, error) {
	const op = "mplogin.Login"
	var in Request
	if err := web.DecodeStrict(r, &in); err != nil {
		return nil, err
	}
	if err := in.validate(r.Caller != nil); err != nil {
		return nil, errs.E(op, err)
	}
	ticket, err := h.limit(ctx, r)
	if err != nil {
		return nil, errs.E(op, err)
	}
	res, err := h.arrive(ctx, r.Caller, in, ticket)
	if err != nil {
		return nil, errs.E(op, retryAfter(err))
	}
	token, exp := h.Sessions.Issue(res.Member.ID)
	out := Response{Token: token, ExpiresAt: exp.UTC(), MemberID: res.Member.ID, Created: res.Created, NeedsPhone: res.NeedsPhone}
	if in.PhoneCode != "" { // The number WeChat gave for it was linked or found in use.
		linked := !res.PhoneInUse
		out.PhoneLinked = &linked
		if res.PhoneInUse {
			out.PhoneReason = PhoneInUse
		}
	}
	switch {
	case !out.NeedsPhone:
	case res.PhoneInUse:
		out.PhonePrompt = PromptAnotherNumber
	default:
		out.PhonePrompt = PromptAuthorize
	}
	out.Invite = h.invitation(ctx, r, in, res)
	return web.JSON(http.StatusOK, out), nil
}

// arrive asks WeChat who the caller is and registers or finds the member:
// one atomic write with the login's count (ticket), which a returning
// member with nothing to change writes alone. A login that fails is counted
// all the same: it cost WeChat a call.
func (h *Handler) arrive(ctx context.Context, caller *web.Caller, in Request, ticket *ratelimit.Ticket) (member.Result, error) {
	a, err := h.arrival(ctx, caller, in)
	if err != nil {
		return member.Result{}, count(ctx, ticket, err)
	}
	var riders []onboard.Rider
	if ticket != nil {
		riders = append(riders, ticket)
	}
	res, err := h.Onboard.Arrive(ctx, a, riders...)
	if err != nil && !errs.Is(errs.RateLimited, err) {
		return member.Result{}, count(ctx, ticket, err)
	}
	return res, err
}

// count writes the ticket of a login that failed with err, and returns err.
func count(ctx context.Context, ticket *ratelimit.Ticket, err error) error {
	cctx, cancel := store.Detach(ctx)
	defer cancel()
	if cerr := ticket.Commit(cctx); cerr != nil && !errs.Is(errs.RateLimited, cerr) {
		return errors.Join(err, cerr)
	}
	return err
}

// arrival is the caller as WeChat vouches for them, with what the request
// says about them.
func (h *Handler) arrival(ctx context.Context, caller *web.Caller, in Request) (member.Arrival, error) {
	ids, err := h.identify(ctx, caller, in.Code)
	if err != nil {
		return member.Arrival{}, err
	}
	a := member.Arrival{Identities: ids, Channel: channel(in), Nickname: in.Nickname, Avatar: in.Avatar}
	if in.PhoneCode != "" {
		if a.Phone, err = h.MP.PhoneNumber(ctx, in.PhoneCode); err != nil {
			return member.Arrival{}, err
		}
	}
	return a, nil
}

// limit looks at the login's client IP address against the login limit
// before WeChat is asked, and returns the ticket that counts the login (nil
// when not limited). A login the platform vouches for sends WeChat no code
// and is not counted: many people's calls come from the platform's few
// addresses.
//
// The count rides in the login's own write rather than being written before
// WeChat is asked: a look (one query) instead of a write of its own, so a
// new member's login commits once and a returning one's at most once. The
// write's bound keeps the count within the limit; a login let through while
// its address's window fills up concurrently is refused when its write
// finds the window full.
func (h *Handler) limit(ctx context.Context, r *web.Request) (*ratelimit.Ticket, error) {
	if h.Limiter == nil || r.Caller != nil {
		return nil, nil
	}
	rules, err := h.Members.Rules(ctx)
	if err != nil {
		return nil, err
	}
	l := rules.LoginLimit
	t, err := h.Limiter.Reserve(ctx, "mp-login", limitKey(r.RemoteIP), ratelimit.Limit{Calls: l.Calls, Window: l.Window()})
	return t, retryAfter(err)
}

// retryAfter adds the Retry-After header to a refusal by the login limit.
func retryAfter(err error) error {
	var over *ratelimit.Exceeded
	if errors.As(err, &over) {
		secs := max(1, int64(math.Ceil(over.Wait.Seconds())))
		return web.WithHeader(err, "Retry-After", strconv.FormatInt(secs, 10))
	}
	return err
}

// limitKey is the client a login counts against: an IPv4 address, the /64
// of an IPv6 address (a subscriber gets a whole /64 and can pick any
// address in it), and "unknown" for all logins without a usable address.
func limitKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "unknown"
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}

// identify turns the caller into platform-verified identities: the trusted
// CloudBase identity when the platform vouches, code2session otherwise.
func (h *Handler) identify(ctx context.Context, caller *web.Caller, code string) ([]member.Identity, error) {
	app := h.MP.AppID()
	if caller != nil {
		if caller.AppID != "" && caller.AppID != app {
			return nil, errs.E(errs.Permission, "caller belongs to another mini-program")
		}
		return []member.Identity{
			{Kind: member.UnionID, Value: caller.UnionID},
			{Kind: member.OpenID, Scope: app, Value: caller.OpenID},
		}, nil
	}
	s, err := h.MP.Code2Session(ctx, code)
	if err != nil {
		return nil, err
	}
	return []member.Identity{
		{Kind: member.UnionID, Value: s.UnionID},
		{Kind: member.OpenID, Scope: app, Value: s.OpenID},
	}, nil
}

// ClaimableChannels are the channel kinds a client may report about itself:
// its launch scene, a share it was opened from, UTM parameters. Attribution
// that pays anyone (an invitation, an Official Account scene, a WeCom
// contact-way state) comes only from verified sources: invite-redeem and
// the signed pushes of oa-callback and wecom-callback.
var ClaimableChannels = []string{"mp-scene", "share", "utm"}

// channel is the new member's attribution: what the client claimed, marked
// as claimed, or plainly the mini-program. A scene carrying an invitation
// code is recorded as channels.InviteScene, without the code.
func channel(in Request) member.Channel {
	if in.Channel != nil && in.Channel.Kind != "" {
		c := *in.Channel
		c.Inviter = "" // Only a redeemed invitation names an inviter.
		c.Claimed = true
		return c
	}
	c := member.Channel{Kind: "mini-program"}
	if in.Scene != "" {
		c.Kind, c.Value, c.Claimed = "mp-scene", in.Scene, true
	}
	if _, ok := sceneCode(in.Scene); ok {
		c.Value = channels.InviteScene // The code stays out of the member's attribution.
	}
	return c
}

// checkChannel refuses a claimed channel of a kind a client may not claim,
// and free text that is not plain text, naming the field.
func checkChannel(c *member.Channel) error {
	if c == nil || c.Kind == "" {
		return nil
	}
	if !slices.Contains(ClaimableChannels, c.Kind) {
		return errs.E(errs.Invalid, "channel.kind must be "+strings.Join(ClaimableChannels, ", ")+
			"; other attribution comes only from verified sources")
	}
	if p := c.Problem(); p != "" {
		return errs.E(errs.Invalid, p)
	}
	return nil
}

// validate checks the request's shape; trusted says the platform vouches for
// the caller, so no code is needed.
func (in Request) validate(trusted bool) error {
	switch {
	case in.Code == "" && !trusted:
		return errs.E(errs.Invalid, "code is required")
	case !token(in.Code, 128):
		return errs.E(errs.Invalid, "code is malformed")
	case !token(in.PhoneCode, 128):
		return errs.E(errs.Invalid, "phone_code is malformed")
	}
	if p := text.Problem(in.Scene, 128); p != "" {
		return errs.E(errs.Invalid, "scene "+p)
	}
	if p := text.Problem(in.InviteCode, 128); p != "" {
		return errs.E(errs.Invalid, "invite_code "+p)
	}
	if len(in.Token) > MaxToken || !utf8.ValidString(in.Token) {
		return errs.E(errs.Invalid, "token must be UTF-8 of at most "+strconv.Itoa(MaxToken)+" bytes")
	}
	if p := text.Problem(in.DeviceID, 128); p != "" {
		return errs.E(errs.Invalid, "device_id "+p)
	}
	if p := text.Problem(in.Platform, 32); p != "" {
		return errs.E(errs.Invalid, "platform "+p)
	}
	if err := member.CheckProfileText(in.Nickname, in.Avatar); err != nil {
		return err
	}
	return checkChannel(in.Channel)
}

// MaxToken is the longest pasted text token taken, in bytes: a chat
// message around the code.
const MaxToken = 1024

// token reports whether s is empty or a short run of URL-safe characters, the
// shape of every WeChat code.
func token(s string, max int) bool {
	if len(s) > max {
		return false
	}
	for _, c := range s {
		ok := c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !ok {
			return false
		}
	}
	return true
}

// New makes the function's handler: logins through the mini-program mp,
// members admitted by ob, sessions issued by sessions, logins per client
// address bounded by limiter (optional), invitations redeemed by invites
// (optional) with pending attributions read from ch and the anti-fraud
// signals hashed by hash.
func New(mp MiniProgram, m *member.Service, ob *onboard.Service, sessions *session.Issuer, limiter *ratelimit.Limiter,
	invites Redeemer, ch *channels.Service, hash func(domain, value string) string) web.Handler {
	h := &Handler{MP: mp, Members: m, Onboard: ob, Sessions: sessions, Limiter: limiter, Invites: invites,
		Channels: ch, Hash: hash}
	return h.Mux().Serve
}
