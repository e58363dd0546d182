// Package wecomcallback is the wecom-callback function: the WeCom
// customer-contact callback URL. It answers WeCom's URL check, verifies
// msg_signature before decrypting any callback (package wxwork), and turns
// external-contact changes into members: a customer who adds a sales rep is
// registered or found by external_userid and unionid, attributed to the
// contact way's state, recorded as following that rep, given the
// registration rewards and sent the welcome message exactly once, and has
// the invitation code the state names (registered, or "inv_<code>")
// redeemed; an edit refreshes the unionid link; a removal ends the follow.
//
// WeCom retries an unanswered callback and may deliver it concurrently:
// every event runs under an idempotency guard keyed by its dedup key, the
// welcome message is claimed per welcome code in the store before it is
// sent, and every other effect is idempotent. An add commits its member,
// coupon, attribution, follow, welcome-code claim and the event's record in
// one atomic write; with a welcome message to send, the record holds the
// event until the message is sent and its answer is written after, a second
// commit.
package wecomcallback

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/idem"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/onboard"
	"github.com/wemember/wemember/shared/reqlog"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/web"
	"github.com/wemember/wemember/shared/wxuser"
	"github.com/wemember/wemember/shared/wxwork"
)

// Contacts is what wecom-callback needs of WeCom's customer-contact API.
type Contacts interface {
	ExternalContact(ctx context.Context, externalUserID string) (wxuser.Contact, error)
	SendWelcome(ctx context.Context, welcomeCode, text string) error
}

// Timing: WeCom waits 5 s for an answer; a welcome code lives 20 s.
const (
	// Budget bounds the work on one callback.
	Budget = 4 * time.Second
	// LookupTimeout bounds the externalcontact/get call; past it the
	// customer is registered without a unionid.
	LookupTimeout = 1500 * time.Millisecond
	// welcomeKeep is how long a welcome code's claim is kept: far longer
	// than the code lives.
	welcomeKeep = 24 * time.Hour
)

// Source is the channel kind of an arrival through WeCom.
const Source = "wecom"

// Handler serves the WeCom callback URL.
type Handler struct {
	Server      *wxwork.Server
	CorpID      string // The scope of external_userids.
	Contacts    Contacts
	Members     *member.Service
	Channels    *channels.Service
	Onboard     *onboard.Service // Admits customers.
	Guard       *idem.Guard
	Store       store.Store // Holds the welcome-code claims.
	RegisterURL string      // Filled into the welcome message.
	Now         func() time.Time
	// Invites redeems the codes contact-way states carry; optional: without
	// it a state's code stays a pending attribution.
	Invites Redeemer
}

// Mux routes the function's requests.
func (h *Handler) Mux() *web.Mux {
	mux := web.NewMux("/wecom-callback")
	mux.Handle(http.MethodGet, "/", h.Verify)
	mux.Handle(http.MethodPost, "/", h.Receive)
	return mux
}

// Verify answers the URL check: the decrypted echostr, byte-exact.
func (h *Handler) Verify(_ context.Context, r *web.Request) (*web.Response, error) {
	echo, err := h.Server.VerifyURL(r.Query)
	if err != nil {
		return nil, errs.E("wecomcallback.Verify", err)
	}
	return &web.Response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"text/plain"}}, Body: echo}, nil
}

// Receive verifies, decrypts and handles one callback. A callback that does
// not verify or parse is refused with a 4xx and nothing is stored.
func (h *Handler) Receive(ctx context.Context, r *web.Request) (*web.Response, error) {
	const op = "wecomcallback.Receive"
	ev, err := h.Server.Parse(r.Query, r.Body)
	if err != nil {
		return nil, errs.E(op, err)
	}
	if !ev.IsExternalContact() {
		return success(), nil
	}
	ctx, cancel := context.WithTimeout(ctx, Budget)
	defer cancel()
	resp, err := h.Guard.Run(ctx, ev.ToUserName+":"+ev.DedupKey(), func(ctx context.Context, rec *idem.Record) (*web.Response, error) {
		return h.handle(ctx, ev, rec)
	})
	if err != nil {
		return nil, errs.E(op, err)
	}
	return resp, nil
}

// handle runs the event's command; it is called once per dedup key. An add
// writes the event's record rec with its effects; the guard writes it after
// the others.
func (h *Handler) handle(ctx context.Context, ev *wxwork.Event, rec *idem.Record) (*web.Response, error) {
	var err error
	switch ev.ChangeType {
	case wxwork.ChangeAdd, wxwork.ChangeAddHalf:
		err = h.add(ctx, ev, rec)
	case wxwork.ChangeEdit:
		err = h.edit(ctx, ev)
	case wxwork.ChangeDel, wxwork.ChangeDelFollow:
		err = h.remove(ctx, ev)
	}
	if err != nil {
		return nil, err
	}
	return success(), nil
}

// add registers or finds the customer's member, attributes it to the
// state, records the follow, welcomes a new member and claims the welcome
// code, in one atomic write with the event's record, then sends the welcome
// message and redeems the code the state names. Without a message to send
// or a code to redeem the record carries the answer; otherwise it holds the
// event while the message goes out and the code is redeemed, so that a
// duplicate waits for their outcome rather than being told "success"
// before it is known (a failed send is retried by WeCom's retry of the
// event; a failed redemption waits as the pending attribution).
func (h *Handler) add(ctx context.Context, ev *wxwork.Event, rec *idem.Record) error {
	const op = "wecomcallback.add"
	c := h.contact(ctx, ev.ExternalUserID)
	w, err := h.welcome(ctx, ev.WelcomeCode)
	if err != nil {
		return errs.E(op, err)
	}
	e, err := h.Onboard.Resolve(ctx, onboard.Entry{Identities: h.identities(ev.ExternalUserID, c.UnionID),
		Source: Source, Scene: ev.State, Plain: member.Channel{Kind: Source}, Via: h.via(ev.UserID)})
	if err != nil {
		return errs.E(op, err)
	}
	redeem := h.Invites != nil && names(e.Attribution())
	riders := []onboard.Rider{rec}
	if w != nil {
		riders = append(riders, w)
	}
	if w == nil && !redeem {
		rec.Answer(success())
	}
	f, err := h.Onboard.Follow(ctx, e, riders...)
	if err != nil {
		return errs.E(op, err)
	}
	if w != nil && w.claimed {
		if err := h.sendWelcome(ctx, w); err != nil {
			return errs.E(op, err)
		}
	}
	if redeem {
		h.redeem(ctx, f)
	}
	return nil
}

// edit refreshes the link: the unionid may be known now.
func (h *Handler) edit(ctx context.Context, ev *wxwork.Event) error {
	const op = "wecomcallback.edit"
	c := h.contact(ctx, ev.ExternalUserID)
	ch := member.Channel{Kind: Source}
	for _, f := range c.FollowUsers {
		if f.UserID == ev.UserID && channels.Valid(f.State) {
			ch.Value = f.State
		}
	}
	if _, err := h.Members.Arrive(ctx, member.Arrival{Identities: h.identities(ev.ExternalUserID, c.UnionID), Channel: ch}); err != nil {
		return errs.E(op, err)
	}
	return nil
}

// remove ends the customer's follow of the rep.
func (h *Handler) remove(ctx context.Context, ev *wxwork.Event) error {
	const op = "wecomcallback.remove"
	m, err := h.Members.Resolve(ctx, member.Identity{Kind: member.External, Scope: h.CorpID, Value: ev.ExternalUserID})
	if errs.Is(errs.NotExist, err) {
		return nil
	}
	if err != nil {
		return errs.E(op, err)
	}
	if _, err := h.Channels.SetFollow(ctx, m.ID, h.via(ev.UserID), false, ""); err != nil {
		return errs.E(op, err)
	}
	return nil
}

// contact asks WeCom who the customer is. No failure of that call costs
// the event: the customer is then known by external_userid alone and joined
// by unionid on a later edit or arrival. A slow, busy or refusing WeCom, or
// a customer already gone, is logged as a warning; anything else (a rejected
// secret) as an error, for the operator to fix.
func (h *Handler) contact(ctx context.Context, externalUserID string) wxuser.Contact {
	lctx, cancel := context.WithTimeout(ctx, LookupTimeout)
	defer cancel()
	c, err := h.Contacts.ExternalContact(lctx, externalUserID)
	switch {
	case err == nil && c.ExternalUserID == externalUserID:
		return c
	case err == nil:
		return wxuser.Contact{} // Another contact's answer: trust nothing in it.
	}
	level := slog.LevelWarn
	if errs.Is(errs.Internal, err) {
		level = slog.LevelError
	}
	reqlog.From(ctx).Log(ctx, level, "externalcontact/get failed; going on without unionid",
		slog.String("kind", errs.KindOf(err).String()), slog.Int64("errcode", wxuser.ErrCode(err)))
	return wxuser.Contact{}
}

func (h *Handler) identities(externalUserID, unionID string) []member.Identity {
	ids := []member.Identity{{Kind: member.External, Scope: h.CorpID, Value: externalUserID}}
	if unionID != "" {
		ids = append(ids, member.Identity{Kind: member.UnionID, Value: unionID})
	}
	return ids
}

func welcomeKey(corpID, code string) store.Key {
	sum := sha256.Sum256([]byte(corpID + "\x00" + code))
	return store.K("wecom-welcome#"+hex.EncodeToString(sum[:16]), "welcome")
}

// welcomeClaim claims a welcome code in the add's atomic write, so that
// overlapping deliveries, and other events carrying the same code, send the
// welcome message once.
type welcomeClaim struct {
	key     store.Key
	code    string
	text    string
	expires time.Time
	taken   bool // Sent, or being sent, by another delivery.
	claimed bool // The add's write claimed the code.
}

// welcome is the claim of the welcome message for code, nil when there is
// nothing to send (no code, or no welcome text configured).
func (h *Handler) welcome(ctx context.Context, code string) (*welcomeClaim, error) {
	if code == "" {
		return nil, nil
	}
	w, err := h.Channels.WeComWelcome(ctx)
	if err != nil {
		return nil, err
	}
	text := w.TextFor(h.RegisterURL)
	if text == "" {
		return nil, nil
	}
	return &welcomeClaim{key: welcomeKey(h.CorpID, code), code: code, text: text, expires: h.Now().Add(welcomeKeep)}, nil
}

func (w *welcomeClaim) Mutations() []store.Mutation {
	if w.taken {
		return nil
	}
	return []store.Mutation{store.Put(w.key, []byte(`{}`)).IfAbsent().ExpiresAt(w.expires)}
}

func (w *welcomeClaim) Lost(k store.Key) (bool, error) {
	if k != w.key {
		return false, nil
	}
	w.taken = true
	return true, nil
}

func (w *welcomeClaim) Written() { w.claimed = !w.taken }

// sendWelcome sends the welcome message of a claimed code. A failed send
// gives the claim back so a retry can send (a second send of a code WeCom
// already took is answered 41051, which counts as sent). A code that
// expired or a text WeCom refuses is logged, not retried: no retry could
// succeed.
func (h *Handler) sendWelcome(ctx context.Context, w *welcomeClaim) error {
	const op = "wecomcallback.sendWelcome"
	err := h.Contacts.SendWelcome(ctx, w.code, w.text)
	switch {
	case err == nil:
		return nil
	case errs.Is(errs.Expired, err), errs.Is(errs.Invalid, err), errs.Is(errs.TooLarge, err):
		reqlog.From(ctx).Warn("welcome message not sent", slog.String("kind", errs.KindOf(err).String()))
		return nil
	}
	cctx, cancel := store.Detach(ctx)
	defer cancel()
	_ = h.Store.Write(cctx, store.Delete(w.key))
	return errs.E(op, err)
}

func (h *Handler) via(userID string) string { return "wecom:" + h.CorpID + ":" + userID }

// success acknowledges a callback.
func success() *web.Response { return web.Text(http.StatusOK, "success") }

// New makes the function's handler for the corp corpID: callbacks
// verified and decrypted by srv, contacts looked up and welcomed through
// contacts and admitted by ob, each callback handled once under guard,
// welcome-code claims kept in st on the clock now; registerURL is filled
// into the welcome message; the codes states carry are redeemed by invites
// (nil: none is).
func New(srv *wxwork.Server, corpID string, contacts Contacts, m *member.Service, ch *channels.Service,
	ob *onboard.Service, guard *idem.Guard, st store.Store, registerURL string, now func() time.Time, invites Redeemer) web.Handler {
	h := &Handler{Server: srv, CorpID: corpID, Contacts: contacts, Members: m, Channels: ch, Onboard: ob,
		Guard: guard, Store: st, RegisterURL: registerURL, Now: now, Invites: invites}
	return h.Mux().Serve
}
