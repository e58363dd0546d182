// Package oacallback is the oa-callback function: the Official Account's
// server URL. It answers WeChat's URL check, verifies and decrypts every
// push (package wxoa), and turns follows into members: a subscribe or SCAN
// registers or finds the member by openid and unionid, attributes it to the
// QR scene, records the follow and a pending attribution when the scene
// names an inviter or a code, grants the registration rewards, and answers
// the welcome text. A scene that names an invitation code (registered, or
// "inv_<code>") has the code redeemed for the member after the follow's
// write, and the reply tells the outcome; so does a text message holding a
// text token (口令). Unsubscribes end the follow (and, under the unlink
// rule, drop the openid); other text messages get keyword replies.
//
// WeChat waits 5 s for an answer and then retries, up to 3 tries, sometimes
// concurrently: every push runs under an idempotency guard keyed by
// WeChat's dedup key, so duplicates get the first answer, and every effect
// underneath is idempotent anyway. A follow's answer is worked out first
// and its record written in the follow's one atomic write, with the member,
// the coupon, the attribution and the follow: the record exists, with the
// answer, before the answer is sent, and a push commits once.
package oacallback

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/codes"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/idem"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/onboard"
	"github.com/wemember/wemember/shared/reqlog"
	"github.com/wemember/wemember/shared/web"
	"github.com/wemember/wemember/shared/wxoa"
	"github.com/wemember/wemember/shared/wxuser"
)

// Followers is what oa-callback needs of the Official Account's API: who an
// openid is (for the unionid that joins the follower to the member).
type Followers interface {
	UserInfo(ctx context.Context, openid string) (wxuser.OAUser, error)
}

// Timing: WeChat gives up on an answer after 5 s.
const (
	// Budget bounds the work on one push, so the answer (or a 503 that
	// makes WeChat retry) leaves before WeChat stops waiting.
	Budget = 4 * time.Second
	// LookupTimeout bounds the user/info call; past it the follower is
	// registered without a unionid.
	LookupTimeout = 1500 * time.Millisecond
)

// The channel kinds and follow prefix this function records.
const (
	SourceQR     = "oa-qr"     // An arrival through a parameterized QR code.
	SourceFollow = "oa-follow" // A follow without a scene (search, article, …).
)

// Handler serves the Official Account's server URL.
type Handler struct {
	Server      *wxoa.Server
	AppID       string // The account's appid: the scope of its openids.
	Followers   Followers
	Members     *member.Service
	Channels    *channels.Service
	Onboard     *onboard.Service // Admits followers.
	Guard       *idem.Guard
	RegisterURL string // Filled into the welcome and keyword replies.
	// Invites redeems the codes scenes and text tokens carry; optional:
	// without it a scene's code stays a pending attribution.
	Invites Redeemer
}

// Mux routes the function's requests.
func (h *Handler) Mux() *web.Mux {
	mux := web.NewMux("/oa-callback")
	mux.Handle(http.MethodGet, "/", h.Verify)
	mux.Handle(http.MethodPost, "/", h.Receive)
	return mux
}

// Verify answers the URL check WeChat sends when the server URL is saved:
// echostr, verbatim, as text/plain.
func (h *Handler) Verify(_ context.Context, r *web.Request) (*web.Response, error) {
	echo, err := h.Server.VerifyURL(r.Query)
	if err != nil {
		return nil, errs.E("oacallback.Verify", err)
	}
	return web.Text(http.StatusOK, echo), nil
}

// Receive verifies, decrypts and handles one push. A push that does not
// verify or parse is refused with a 4xx and nothing is stored.
func (h *Handler) Receive(ctx context.Context, r *web.Request) (*web.Response, error) {
	const op = "oacallback.Receive"
	msg, err := h.Server.Parse(r.Query, r.Body)
	if err != nil {
		return nil, errs.E(op, err)
	}
	ctx, cancel := context.WithTimeout(ctx, Budget)
	defer cancel()
	resp, err := h.Guard.Run(ctx, msg.ToUserName+":"+msg.DedupKey(), func(ctx context.Context, rec *idem.Record) (*web.Response, error) {
		return h.handle(ctx, msg, rec)
	})
	if err != nil {
		return nil, errs.E(op, err)
	}
	return resp, nil
}

// handle runs the push's command; it is called once per dedup key. A
// follow writes the push's record rec with its effects; the guard writes it
// after the others.
func (h *Handler) handle(ctx context.Context, msg *wxoa.Message, rec *idem.Record) (*web.Response, error) {
	switch {
	case msg.IsEvent() && (msg.Event == wxoa.EventSubscribe || msg.Event == wxoa.EventScan):
		return h.arrive(ctx, msg, rec)
	case msg.IsEvent() && msg.Event == wxoa.EventUnsubscribe:
		return h.unsubscribe(ctx, msg)
	case msg.MsgType == wxoa.TypeText:
		if code, ok := codes.ParseToken(msg.Content); ok && h.Invites != nil {
			return h.token(ctx, msg, code)
		}
		return h.keyword(ctx, msg)
	}
	return success(), nil
}

// arrive registers or finds the follower's member, attributes it to the
// scene, records the follow and welcomes a new member, in one atomic write
// with the push's record and its answer: the welcome text for a subscribe.
// A scene that names a code is answered after the code's redemption, which
// the answer mentions: the record then holds the push through the
// follow's write and the redemption, and the guard writes the answer after.
func (h *Handler) arrive(ctx context.Context, msg *wxoa.Message, rec *idem.Record) (*web.Response, error) {
	const op = "oacallback.arrive"
	ids := []member.Identity{{Kind: member.OpenID, Scope: h.AppID, Value: msg.OpenID()}}
	if union := h.unionID(ctx, msg.OpenID()); union != "" {
		ids = append(ids, member.Identity{Kind: member.UnionID, Value: union})
	}
	welcome := ""
	if msg.Event == wxoa.EventSubscribe {
		replies, err := h.Channels.Replies(ctx)
		if err != nil {
			return nil, errs.E(op, err)
		}
		welcome = replies.WelcomeText(h.RegisterURL)
	}
	scene, _ := msg.Scene()
	e, err := h.Onboard.Resolve(ctx, onboard.Entry{Identities: ids, Source: SourceQR, Scene: scene,
		Plain: member.Channel{Kind: SourceFollow}, Via: h.via()})
	if err != nil {
		return nil, errs.E(op, err)
	}
	if h.Invites == nil || !names(e.Attribution()) {
		answer := h.reply(ctx, msg, welcome)
		rec.Answer(answer)
		if _, err := h.Onboard.Follow(ctx, e, rec); err != nil {
			return nil, errs.E(op, err)
		}
		return answer, nil
	}
	f, err := h.Onboard.Follow(ctx, e, rec)
	if err != nil {
		return nil, errs.E(op, err)
	}
	note := h.redeem(ctx, f.ID, f.Attribution, ViaScene, f.Created)
	return h.reply(ctx, msg, joinText(welcome, note)), nil
}

// unionID asks WeChat for the follower's unionid. No failure of that
// call costs the follower their answer: the member is then registered by
// openid alone and joined by unionid on a later event or arrival (a merge if
// they registered elsewhere meanwhile). A slow, busy or refusing WeChat is
// logged as a warning; anything else (a rejected secret) as an error, for
// the operator to fix.
func (h *Handler) unionID(ctx context.Context, openid string) string {
	lctx, cancel := context.WithTimeout(ctx, LookupTimeout)
	defer cancel()
	u, err := h.Followers.UserInfo(lctx, openid)
	switch {
	case err == nil && u.OpenID == openid:
		return u.UnionID
	case err == nil:
		return "" // Another openid's answer: trust nothing in it.
	}
	level := slog.LevelWarn
	if errs.Is(errs.Internal, err) {
		level = slog.LevelError
	}
	reqlog.From(ctx).Log(ctx, level, "user/info failed; registering without unionid",
		slog.String("kind", errs.KindOf(err).String()), slog.Int64("errcode", wxuser.ErrCode(err)))
	return ""
}

// unsubscribe ends the follow and, under the unlink rule, drops the
// Official Account openid from the member.
func (h *Handler) unsubscribe(ctx context.Context, msg *wxoa.Message) (*web.Response, error) {
	const op = "oacallback.unsubscribe"
	id := member.Identity{Kind: member.OpenID, Scope: h.AppID, Value: msg.OpenID()}
	m, err := h.Members.Resolve(ctx, id)
	if errs.Is(errs.NotExist, err) {
		return success(), nil // Never a member, or already unlinked.
	}
	if err != nil {
		return nil, errs.E(op, err)
	}
	if _, err := h.Channels.SetFollow(ctx, m.ID, h.via(), false, ""); err != nil {
		return nil, errs.E(op, err)
	}
	rules, err := h.Members.Rules(ctx)
	if err != nil {
		return nil, errs.E(op, err)
	}
	if rules.Unsubscribe == member.UnsubscribeUnlink {
		if err := h.Members.Unlink(ctx, id); err != nil {
			return nil, errs.E(op, err)
		}
	}
	return success(), nil
}

// token redeems the code of a text token (口令) a follower sent, for the
// follower's member, and answers the outcome. A follower who is no member
// yet is admitted as a follow would admit them: that is their registration.
func (h *Handler) token(ctx context.Context, msg *wxoa.Message, code string) (*web.Response, error) {
	const op = "oacallback.token"
	id := member.Identity{Kind: member.OpenID, Scope: h.AppID, Value: msg.OpenID()}
	m, err := h.Members.Resolve(ctx, id)
	created := false
	if errs.Is(errs.NotExist, err) {
		var f onboard.Followed
		f, err = h.Onboard.Follow(ctx, onboard.Entry{Identities: []member.Identity{id},
			Plain: member.Channel{Kind: SourceFollow}, Via: h.via()})
		m, created = f.Member, f.Created
	}
	if err != nil {
		return nil, errs.E(op, err)
	}
	note := h.redeem(ctx, m.ID, channels.Attribution{Code: code, Channel: member.Channel{Kind: ViaToken}}, ViaToken, created)
	return h.reply(ctx, msg, note), nil
}

// keyword answers a text message that matches a keyword, with the
// keyword's member reply when the follower is already a member.
func (h *Handler) keyword(ctx context.Context, msg *wxoa.Message) (*web.Response, error) {
	const op = "oacallback.keyword"
	replies, err := h.Channels.Replies(ctx)
	if err != nil {
		return nil, errs.E(op, err)
	}
	k, ok := replies.Match(msg.Content)
	if !ok {
		return success(), nil
	}
	isMember := false
	if k.MemberReply != "" {
		_, err := h.Members.Resolve(ctx, member.Identity{Kind: member.OpenID, Scope: h.AppID, Value: msg.OpenID()})
		if err != nil && !errs.Is(errs.NotExist, err) {
			return nil, errs.E(op, err)
		}
		isMember = err == nil
	}
	return h.reply(ctx, msg, k.Text(h.RegisterURL, isMember)), nil
}

// reply is the passive text reply to msg, encrypted when msg was. An empty
// or unsendable text (too long after the link is filled in) is answered
// "success": WeChat then shows nothing rather than an error.
func (h *Handler) reply(ctx context.Context, msg *wxoa.Message, text string) *web.Response {
	if text == "" {
		return success()
	}
	b, err := h.Server.ReplyText(msg, text)
	if err != nil {
		reqlog.From(ctx).Warn("passive reply not sent", slog.String("kind", errs.KindOf(err).String()))
		return success()
	}
	return web.XML(http.StatusOK, b)
}

func (h *Handler) via() string { return "oa:" + h.AppID }

// success acknowledges a push without a reply.
func success() *web.Response { return web.Text(http.StatusOK, wxoa.Success) }

// New makes the function's handler for the Official Account appID: pushes
// verified and decrypted by srv, followers looked up through followers and
// admitted by ob, each push handled once under guard; registerURL is filled
// into the replies; the codes scenes and text tokens carry are redeemed by
// invites (nil: none is).
func New(srv *wxoa.Server, appID string, followers Followers, m *member.Service, ch *channels.Service,
	ob *onboard.Service, guard *idem.Guard, registerURL string, invites Redeemer) web.Handler {
	h := &Handler{Server: srv, AppID: appID, Followers: followers, Members: m, Channels: ch, Onboard: ob,
		Guard: guard, RegisterURL: registerURL, Invites: invites}
	return h.Mux().Serve
}
