// Package onboard admits people, whichever entry point they use: it
// registers or finds the member, grants a member not welcomed yet what
// membership alone is due (the registration coupon), and, for a channel
// push, attributes the member and records the follow — all in one atomic
// write, together with what the command itself writes along (a Rider: a
// rate-limit count, a push's idempotency record). The domain services work
// their parts out without writing them (member.Admit, coupons.PlanIssue,
// channels.FollowMutation); this package is the one place that composes
// and writes them, and when the write loses a race it reads everything
// again and rebuilds. A write that fails leaves nothing behind, so a retried
// command starts clean. (The monthly coupon of a level is the expiry
// sweep's: package reminders.)
package onboard

import (
	"context"

	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
)

// Service admits arrivals.
type Service struct {
	Store    store.Store
	Members  *member.Service
	Channels *channels.Service // Needed by Follow.
	// Coupons issues the registration coupon of a welcome; optional:
	// without it nobody is welcomed.
	Coupons *coupons.Service
	// CodeID is the id (keyed hash) of an invitation code's text, so that a
	// pending attribution keeps no code text; optional.
	CodeID func(text string) (id string, ok bool)
}

// Rider is what a command writes along with an arrival, in the arrival's
// atomic write, on keys of its own.
type Rider interface {
	// Mutations are the rider's mutations for the next write.
	Mutations() []store.Mutation
	// Lost is told the key whose condition failed the write. It reports
	// whether the key is the rider's; if so, err nil asks for the arrival
	// to be worked out and written again (the rider has changed its
	// mutations) and an error ends the command with it.
	Lost(k store.Key) (mine bool, err error)
	// Written is told that the write carrying the mutations succeeded.
	Written()
}

// maxTries bounds the writes of one arrival that lose a race.
const maxTries = 16

// Arrive registers or finds the member of an arrival (member.Admit) and
// welcomes a member not welcomed yet, in one atomic write with the riders'
// mutations: an arrival with nothing to change writes only the riders'. It
// fails as member.Arrive does, with a rider's error, and with errs.Transient
// when it loses too many races.
func (s *Service) Arrive(ctx context.Context, a member.Arrival, riders ...Rider) (member.Result, error) {
	res, err := s.admit(ctx, a, nil, riders)
	if err != nil {
		return member.Result{}, errs.E("onboard.Arrive", err)
	}
	return res, nil
}

// part is one piece of an arrival's write, worked out again for every
// attempt from the arrival as admitted.
type part interface {
	build(ctx context.Context, res member.Result) ([]store.Mutation, error)
	// lost is told the key that failed a write: as Rider.Lost.
	lost(k store.Key) (mine bool, err error)
}

// admit is the one write of an arrival: the member's mutations, a
// welcome's registration coupon, the parts' and the riders' mutations,
// riders first so that a duplicate command fails on its own record before
// anything else. A write that fails a condition is handed to the riders and
// parts, then everything is read and built again.
func (s *Service) admit(ctx context.Context, a member.Arrival, parts []part, riders []Rider) (member.Result, error) {
	a.Welcome = s.Coupons != nil
	coupon := &registration{coupons: s.Coupons}
	parts = append(parts, coupon)
	for range retry.Tries(ctx, maxTries) {
		adm, err := s.Members.Admit(ctx, a)
		if err != nil {
			return member.Result{}, err
		}
		var ms []store.Mutation
		for _, r := range riders {
			ms = append(ms, r.Mutations()...)
		}
		ms = append(ms, adm.Mutations...)
		for _, p := range parts {
			more, err := p.build(ctx, adm.Result)
			if err != nil {
				return member.Result{}, err
			}
			ms = append(ms, more...)
		}
		if len(ms) == 0 {
			return adm.Result, nil
		}
		err = s.Store.Write(ctx, ms...)
		if err == nil {
			for _, r := range riders {
				r.Written()
			}
			return adm.Result, nil
		}
		k, ok := store.FailedKey(err)
		if !ok {
			return member.Result{}, err
		}
		if err := lost(k, parts, riders); err != nil {
			return member.Result{}, err
		}
	}
	return member.Result{}, errs.E(errs.Transient, "too much contention, retry")
}

// lost hands the key that failed a write to whoever wrote it.
func lost(k store.Key, parts []part, riders []Rider) error {
	for _, r := range riders {
		if mine, err := r.Lost(k); mine {
			return err
		}
	}
	for _, p := range parts {
		if mine, err := p.lost(k); mine {
			return err
		}
	}
	return nil // The member's: Admit reads it again.
}

// registration is the registration coupon of a welcome. A sold-out or
// paused coupon, or one the member had already, does not stop the welcome.
type registration struct {
	coupons *coupons.Service
	grant   coupons.Grant
	spent   bool // The member had it already, or may not have more.
}

func (r *registration) build(ctx context.Context, res member.Result) ([]store.Mutation, error) {
	r.grant = coupons.Grant{}
	if !res.Welcomes || r.spent {
		return nil, nil
	}
	g, err := r.coupons.PlanRegistration(ctx, res.Member.ID)
	if errs.Is(errs.NotExist, err) {
		// A new deployment: install the default templates, then try again.
		if err := r.coupons.InstallDefaults(ctx); err != nil {
			return nil, err
		}
		g, err = r.coupons.PlanRegistration(ctx, res.Member.ID)
	}
	if coupons.Unavailable(err) {
		return nil, nil // Paused, sold out, ended or gone: the member arrives without it.
	}
	if err != nil {
		return nil, err
	}
	r.grant = g
	return g.Mutations, nil
}

func (r *registration) lost(k store.Key) (bool, error) {
	if r.grant.Spent(k) {
		r.spent = true
		return true, nil
	}
	return false, nil // A stock shard or an instance id: the next plan picks again.
}
