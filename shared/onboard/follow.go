package onboard

import (
	"context"

	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
)

// Welcomer grants what a newly registered member is due; Service is one.
type Welcomer interface {
	Welcome(ctx context.Context, m member.Member) error
}

// Entry is a person arriving through a channel push: an Official Account
// follow or scan, a WeCom contact added through a contact way.
type Entry struct {
	Identities []member.Identity // Platform-verified.
	Source     string            // The channel kind of an unregistered scene: "oa-qr", "wecom".
	Scene      string            // The QR scene or contact-way state; may be empty or unusable.
	Plain      member.Channel    // The channel when the scene gives no attribution.
	Via        string            // The follow this arrival starts: "oa:<appid>", "wecom:<corp>:<user>".
}

// Arrivals turns channel pushes into members: one sequence for every
// channel, so attribution works the same however a person arrives.
type Arrivals struct {
	Members  *member.Service
	Channels *channels.Service
	Welcomer Welcomer // Optional.
}

// Follow registers or finds the member, attributes a new member to the
// scene (or the plain channel), records the follow, leaves a pending
// attribution when the scene names an inviter or a code, and welcomes a
// member not welcomed yet. Every step is idempotent, so a redelivered push
// has one effect.
func (a Arrivals) Follow(ctx context.Context, e Entry) (member.Member, error) {
	const op = "onboard.Follow"
	attr, scene := channels.Attribution{Channel: e.Plain}, ""
	got, ok, err := a.Channels.Resolve(ctx, e.Source, e.Scene)
	if err != nil {
		return member.Member{}, errs.E(op, err)
	}
	if ok {
		attr, scene = got, e.Scene
	}
	res, err := a.Members.Arrive(ctx, member.Arrival{Identities: e.Identities, Channel: attr.Channel})
	if err != nil {
		return member.Member{}, errs.E(op, err)
	}
	m := res.Member
	if _, err := a.Channels.SetFollow(ctx, m.ID, e.Via, true, scene); err != nil {
		return member.Member{}, errs.E(op, err)
	}
	if scene != "" {
		if _, err := a.Channels.RecordPending(ctx, m.ID, e.Source, scene, attr); err != nil {
			return member.Member{}, errs.E(op, err)
		}
	}
	if a.Welcomer != nil && !m.Welcomed {
		if err := a.Welcomer.Welcome(ctx, m); err != nil {
			return member.Member{}, errs.E(op, err)
		}
	}
	return m, nil
}
