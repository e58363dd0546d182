package onboard

import (
	"context"

	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/store"
)

// Entry is a person arriving through a channel push: an Official Account
// follow or scan, a WeCom contact added through a contact way.
type Entry struct {
	Identities []member.Identity // Platform-verified.
	Source     string            // The channel kind of an unregistered scene: "oa-qr", "wecom".
	Scene      string            // The QR scene or contact-way state; may be empty or unusable.
	Plain      member.Channel    // The channel when the scene gives no attribution.
	Via        string            // The follow this arrival starts: "oa:<appid>", "wecom:<corp>:<user>".

	resolved bool                 // Resolve has run: attr and recorded hold its outcome.
	attr     channels.Attribution // What the scene means.
	recorded string               // The scene as the follow and the pending attribution keep it.
}

// Attribution is what the entry's scene means, once resolved (Resolve):
// the channel, and an inviter or a code for the caller to redeem.
func (e Entry) Attribution() channels.Attribution { return e.attr }

// Resolve works out what the entry's scene means, as Follow does, so that a
// caller can decide its answer before the follow's one write (a scene that
// names a code is answered after its redemption); Follow then reads the
// scene no more. A code an "inv_<code>" scene carries is recorded by its id
// only (CodeID), neither in the follow nor in the pending attribution.
func (s *Service) Resolve(ctx context.Context, e Entry) (Entry, error) {
	if e.resolved {
		return e, nil
	}
	attr, scene := channels.Attribution{Channel: e.Plain}, ""
	got, ok, err := s.Channels.Resolve(ctx, e.Source, e.Scene)
	if err != nil {
		return Entry{}, errs.E("onboard.Resolve", err)
	}
	if ok {
		attr, scene = got, e.Scene
	}
	if attr.Code != "" && s.CodeID != nil {
		attr.CodeID, _ = s.CodeID(attr.Code)
	}
	if _, carries := channels.InviteCode(scene); carries {
		scene = channels.InvitePrefix + attr.CodeID // The code's id, or nothing, in place of its text.
	}
	e.resolved, e.attr, e.recorded = true, attr, scene
	return e, nil
}

// Followed is what a follow did: the member, whether the follow
// registered it (an explicit registration event: the follow created the
// member), and what its scene means (an inviter or a code for the caller
// to redeem).
type Followed struct {
	member.Member
	Created     bool
	Attribution channels.Attribution
}

// Follow registers or finds the member, attributes a new member to the
// scene (or the plain channel), records the follow, leaves a pending
// attribution when the scene names an inviter or a code (the first touch
// stays), and welcomes a member not welcomed yet: one atomic write, with
// the riders' mutations. A redelivered push has one effect: what is there
// already is not written again.
func (s *Service) Follow(ctx context.Context, e Entry, riders ...Rider) (Followed, error) {
	const op = "onboard.Follow"
	e, err := s.Resolve(ctx, e)
	if err != nil {
		return Followed{}, errs.E(op, err)
	}
	attr, scene := e.attr, e.recorded
	parts := []part{&follow{channels: s.Channels, via: e.Via, scene: scene}}
	if scene != "" {
		parts = append(parts, &pending{channels: s.Channels, source: e.Source, scene: scene, attr: attr})
	}
	res, err := s.admit(ctx, member.Arrival{Identities: e.Identities, Channel: attr.Channel}, parts, riders)
	if err != nil {
		return Followed{}, errs.E(op, err)
	}
	return Followed{Member: res.Member, Created: res.Created, Attribution: attr}, nil
}

// follow records the member's follow via the push's channel.
type follow struct {
	channels   *channels.Service
	via, scene string
	key        store.Key
}

func (f *follow) build(ctx context.Context, res member.Result) ([]store.Mutation, error) {
	m, err := f.channels.FollowMutation(ctx, res.Member.ID, f.via, f.scene, res.Created)
	if err != nil {
		return nil, err
	}
	f.key = m.Key
	return []store.Mutation{m}, nil
}

func (f *follow) lost(k store.Key) (bool, error) {
	return k == f.key, nil // Changed meanwhile: read it again.
}

// pending leaves the scene's pending attribution on the member, unless one
// is there: the first touch stays.
type pending struct {
	channels      *channels.Service
	source, scene string
	attr          channels.Attribution
	key           store.Key // The mutation built for member (none: zero).
	member        string
	there         string // The member known to have a pending attribution.
}

func (p *pending) build(ctx context.Context, res member.Result) ([]store.Mutation, error) {
	p.key = store.Key{}
	if p.there == res.Member.ID {
		return nil, nil
	}
	m, ok := p.channels.PendingMutation(res.Member.ID, p.source, p.scene, p.attr)
	if !ok {
		return nil, nil
	}
	if !res.Created {
		// A known member may have one: look, rather than fail the write.
		_, err := p.channels.PendingOf(ctx, res.Member.ID)
		if err == nil {
			p.there = res.Member.ID
			return nil, nil
		}
		if !errs.Is(errs.NotExist, err) {
			return nil, err
		}
	}
	p.key, p.member = m.Key, res.Member.ID
	return []store.Mutation{m}, nil
}

func (p *pending) lost(k store.Key) (bool, error) {
	if k != p.key || k == (store.Key{}) {
		return false, nil
	}
	p.there = p.member // Recorded meanwhile by another arrival: the first touch stays.
	return true, nil
}
