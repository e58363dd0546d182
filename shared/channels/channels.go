// Package channels resolves where a member came from: QR scenes of the
// Official Account and WeCom contact-way states are registered as data, each
// naming a channel and, optionally, an inviter or an invitation code. A
// scan or add that names an inviter leaves a pending attribution on the
// member, which a later registration or redemption turns into a referral.
package channels

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/text"
)

// Scene is a registered QR scene or contact-way state.
type Scene struct {
	ID        string         `json:"id"` // Normalised: no qrscene_ prefix.
	Channel   member.Channel `json:"channel"`
	Inviter   string         `json:"inviter,omitempty"` // A member id.
	Code      string         `json:"code,omitempty"`    // An invitation code.
	CreatedAt time.Time      `json:"created_at"`
	CreatedBy string         `json:"created_by"`
}

// Attribution is what an arrival through a scene means.
type Attribution struct {
	Channel member.Channel
	Inviter string
	Code    string // An invitation code's text…
	CodeID  string // …or its id (keyed hash), the only form a pending attribution keeps when known.
}

// InvitePrefix starts a scene or contact-way state that carries an
// invitation code itself ("inv_<code>"), without being registered.
const InvitePrefix = "inv_"

// InviteScene is the channel value of an arrival through an "inv_<code>"
// scene: the code stays out of the member's attribution.
const InviteScene = "invite"

// InviteCode is the invitation code an "inv_<code>" scene or state carries;
// ok is false for any other scene.
func InviteCode(scene string) (code string, ok bool) {
	code, ok = strings.CutPrefix(scene, InvitePrefix)
	if !ok || code == "" {
		return "", false
	}
	return code, true
}

// Pending is an attribution waiting for a registration or redemption to turn
// it into a referral.
type Pending struct {
	Scene   string    `json:"scene"`
	Inviter string    `json:"inviter,omitempty"`
	Code    string    `json:"code,omitempty"`    // A registered scene's code text (older records).
	CodeID  string    `json:"code_id,omitempty"` // The code's id (keyed hash).
	Source  string    `json:"source"`            // "oa-qr", "wecom", …
	At      time.Time `json:"at"`
}

// Service keeps the scene registry and pending attributions.
type Service struct {
	st  store.Store
	now func() time.Time
}

// New returns a channel service.
func New(st store.Store, now func() time.Time) *Service { return &Service{st: st, now: now} }

// MaxSceneLen is the longest scene: WeChat's scene_str limit.
const MaxSceneLen = 64

func sceneKey(id string) store.Key { return store.K("scene#"+id, "scene") }

func pendingKey(memberID string) store.Key {
	return store.K(member.Partition(memberID), "attr#pending")
}

// Valid reports whether a normalised scene can be used: not empty, not "0",
// at most MaxSceneLen characters of [A-Za-z0-9_-:.], and a numeric scene a
// 32-bit scene_id.
func Valid(id string) bool {
	if id == "" || id == "0" || len(id) > MaxSceneLen {
		return false
	}
	numeric := true
	for _, c := range id {
		switch {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '-', c == ':', c == '.':
			numeric = false
		default:
			return false
		}
	}
	if numeric {
		n, err := strconv.ParseUint(id, 10, 32)
		return err == nil && n > 0
	}
	return true
}

// Save registers or replaces a scene. It fails with errs.Invalid for an
// unusable id or channel.
func (s *Service) Save(ctx context.Context, sc Scene, operator string) (Scene, error) {
	const op = "channels.Save"
	if !Valid(sc.ID) {
		return Scene{}, errs.E(op, errs.Invalid, "scene must be 1–64 characters of letters, digits, _-:. (a number must be a 32-bit scene id)")
	}
	if sc.Channel.Kind == "" || len(sc.Channel.Kind) > 32 {
		return Scene{}, errs.E(op, errs.Invalid, "scene needs a channel kind")
	}
	if p := sc.Channel.Problem(); p != "" {
		return Scene{}, errs.E(op, errs.Invalid, p)
	}
	if !validRef(sc.Inviter) || !validRef(sc.Code) {
		return Scene{}, errs.E(op, errs.Invalid, "scene inviter and code must be at most 64 bytes of plain text")
	}
	if operator == "" {
		return Scene{}, errs.E(op, errs.Invalid, "operator is required")
	}
	sc.CreatedAt, sc.CreatedBy = s.now().UTC(), operator
	if err := s.st.Write(ctx, store.PutJSON(sceneKey(sc.ID), sc)); err != nil {
		return Scene{}, errs.E(op, err)
	}
	return sc, nil
}

// validRef reports whether a scene's inviter or code is short plain text
// (or empty).
func validRef(s string) bool { return text.Problem(s, 64) == "" }

// Resolve tells what an arrival through a scene means. A registered scene
// gives its channel, inviter and code; an unregistered "inv_<code>" scene
// gives the source channel (value InviteScene) and the code; any other
// unregistered but valid one gives the source channel with the scene as
// value; an invalid one (empty, "0", oversized, malformed) gives ok false:
// no attribution.
func (s *Service) Resolve(ctx context.Context, source, id string) (Attribution, bool, error) {
	if !Valid(id) {
		return Attribution{}, false, nil
	}
	var sc Scene
	_, err := store.GetJSON(ctx, s.st, sceneKey(id), &sc)
	switch {
	case errs.Is(errs.NotExist, err):
		if code, ok := InviteCode(id); ok {
			return Attribution{Channel: member.Channel{Kind: source, Value: InviteScene}, Code: code}, true, nil
		}
		return Attribution{Channel: member.Channel{Kind: source, Value: id}}, true, nil
	case err != nil:
		return Attribution{}, false, errs.E("channels.Resolve", err)
	}
	return Attribution{Channel: sc.Channel, Inviter: sc.Inviter, Code: sc.Code}, true, nil
}

// PendingMutation leaves a pending attribution on a member, as a mutation
// for a caller's atomic write, when the attribution names an inviter or a
// code; ok is false when it names nobody (or the member itself). A code
// known by its id is kept by its id alone, never as text. The first
// one stays (first touch wins): the mutation requires that the member has
// no pending attribution, so a write that fails on its key found the first
// touch recorded already.
func (s *Service) PendingMutation(memberID, source, scene string, a Attribution) (m store.Mutation, ok bool) {
	if a.Inviter == "" && a.Code == "" && a.CodeID == "" {
		return store.Mutation{}, false
	}
	if a.Inviter == memberID {
		return store.Mutation{}, false // Nobody invites themself.
	}
	p := Pending{Scene: scene, Inviter: a.Inviter, Code: a.Code, CodeID: a.CodeID, Source: source, At: s.now().UTC()}
	if p.CodeID != "" {
		p.Code = ""
	}
	return store.PutJSON(pendingKey(memberID), p).IfAbsent(), true
}

// PendingOf returns a member's pending attribution; errs.NotExist if none.
func (s *Service) PendingOf(ctx context.Context, memberID string) (Pending, error) {
	var p Pending
	if _, err := store.GetJSON(ctx, s.st, pendingKey(memberID), &p); err != nil {
		return Pending{}, errs.E("channels.PendingOf", err)
	}
	return p, nil
}
