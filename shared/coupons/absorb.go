package coupons

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/parallel"
	"github.com/wemember/wemember/shared/store"
)

// absorbPrefix starts the sort keys of the carry records in a survivor's
// partition: coupon#a#<from>#<template> holds how many of from's takes of
// the template were already added to the survivor's take counter.
const absorbPrefix = "coupon#a#"

func carryKey(into, from, tpl string) store.Key {
	return store.K(memberPK(into), absorbPrefix+from+"#"+tpl)
}

// carried is the data of a carry record.
type carried struct {
	Takes int64 `json:"takes"`
}

// moveBatch is how many coupons one atomic write re-owns: five mutations
// each (the instance, the old and the new listing copy, the due item and
// its copy in the day's unsharded partition, where earlier releases put it).
const moveBatch = store.MaxWrite / 5

// Absorb moves a merged-away member's coupons to the survivor
// (member.Absorber). Every coupon instance of from, whatever its status (its
// history matters), becomes into's: the instance's owner, its listing copy
// (moved from from's partition to into's) and, for an available coupon, its
// due item change in one atomic write per batch, conditioned on each
// instance's version, so a concurrent redemption or expiry either lands
// before (and is moved) or after (on the survivor's coupon). A coupon that
// into already owns is skipped. from's per-template take counters are added
// to into's, so take limits hold for the person; a carry record per template
// (coupon#a#<from>#<template> in into's partition), written in the same
// atomic write as the add and conditioned on its version, holds how much was
// carried, so a re-run adds only what from took since.
//
// Absorb is idempotent and safe to run concurrently for the same pair: a run
// after a crash, a catch-up pass a day later (moving coupons issued to from
// by commands in flight at the merge) and two runs at once converge on one
// effect. from's idempotency records keep naming from, so a late retry of a
// command for from answers with the coupon, now owned by into. Absorbing a
// member into itself is a no-op. Errors: errs.Invalid for a bad member id,
// errs.Transient when the coupons stay too busy, store errors otherwise.
func (s *Service) Absorb(ctx context.Context, from, into string) error {
	const op = "coupons.Absorb"
	if err := memberOf(op, from); err != nil {
		return err
	}
	if err := memberOf(op, into); err != nil {
		return err
	}
	if from == into {
		return nil
	}
	if err := s.moveInstances(ctx, op, from, into); err != nil {
		return err
	}
	return s.carryTakes(ctx, op, from, into)
}

// moveInstances pages through from's listing and re-owns each page's
// coupons; a page whose write lost a race is read again.
func (s *Service) moveInstances(ctx context.Context, op, from, into string) error {
	after := ""
	for lost := 0; ; {
		pg, err := s.st.Query(ctx, store.Query{PK: memberPK(from), Prefix: listPrefix, After: after, Limit: moveBatch})
		if err != nil {
			return errs.E(op, err)
		}
		err = s.movePage(ctx, from, into, pg.Items)
		if errs.Is(errs.Conflict, err) {
			if lost++; lost > 4*s.retries {
				return errs.E(op, errs.Transient, "coupons are changing; retry", err)
			}
			if err := backoff().Pause(ctx, lost); err != nil {
				return errs.E(op, errs.Transient, err)
			}
			continue // The same page again: moved items are gone from it.
		}
		if err != nil {
			return errs.E(op, err)
		}
		if pg.Next == "" {
			return nil
		}
		after = pg.Next
	}
}

// movePage re-owns the coupons behind one page of from's listing copies in
// one atomic write. Copies whose instance is no longer from's (another run
// moved it) are skipped; a failed condition is errs.Conflict.
func (s *Service) movePage(ctx context.Context, from, into string, items []store.Item) error {
	ids := make([]string, 0, len(items))
	for _, it := range items {
		var in Instance
		if err := json.Unmarshal(it.Data, &in); err != nil {
			return errs.E(errs.Internal, fmt.Errorf("decode %s: %w", it.Key, err))
		}
		ids = append(ids, in.ID)
	}
	loaded, err := s.loadIDs(ctx, ids)
	if err != nil {
		return err
	}
	var ms []store.Mutation
	for _, l := range loaded {
		if l.ver == 0 || l.in.MemberID != from {
			continue
		}
		old, in := l.in, l.in
		in.MemberID = into
		ms = append(ms, store.PutJSON(instKey(l.id), in).IfVersion(l.ver),
			store.Delete(listKey(old)), store.PutJSON(listKey(in), in))
		if in.Status == Available {
			ms = append(ms, store.PutJSON(dueKey(in), dueOf(in, l.ver+1)), store.Delete(dayDueKey(in)))
		}
	}
	if len(ms) == 0 {
		return nil
	}
	return s.st.Write(ctx, ms...)
}

// carryTakes adds from's take counters, as far as not carried yet, to
// into's, one template per atomic write with its carry record.
func (s *Service) carryTakes(ctx context.Context, op, from, into string) error {
	q := store.Query{PK: memberPK(from), Prefix: takePrefix, Limit: 100}
	for {
		pg, err := s.st.Query(ctx, q)
		if err != nil {
			return errs.E(op, err)
		}
		for _, it := range pg.Items {
			tpl := strings.TrimPrefix(it.SK, takePrefix)
			if err := s.carryOne(ctx, op, from, into, tpl); err != nil {
				return err
			}
		}
		if pg.Next == "" {
			return nil
		}
		q.After = pg.Next
	}
}

// carryOne carries one template's takes: it adds what from took beyond the
// carry record to into's counter, and moves the record up, conditioned on
// the versions of the record and of from's counter that it read.
func (s *Service) carryOne(ctx context.Context, op, from, into, tpl string) error {
	for try := 0; try < 4*s.retries; try++ {
		if try > 0 {
			if err := backoff().Pause(ctx, try); err != nil {
				return errs.E(op, errs.Transient, err)
			}
		}
		src, err := s.st.Get(ctx, takeKey(from, tpl))
		if err != nil {
			return errs.E(op, err)
		}
		var c carried
		var ver int64
		rec, err := s.st.Get(ctx, carryKey(into, from, tpl))
		switch {
		case err == nil:
			if err := json.Unmarshal(rec.Data, &c); err != nil {
				return errs.E(op, errs.Internal, fmt.Errorf("decode %s: %w", rec.Key, err))
			}
			ver = rec.Version
		case !errs.Is(errs.NotExist, err):
			return errs.E(op, err)
		}
		delta := src.N - c.Takes
		if delta == 0 {
			return nil
		}
		err = s.st.Write(ctx,
			store.PutJSON(carryKey(into, from, tpl), carried{Takes: src.N}).IfVersion(ver),
			store.Check(takeKey(from, tpl)).IfVersion(src.Version),
			store.Add(takeKey(into, tpl), delta))
		if err == nil {
			return nil
		}
		if !errs.Is(errs.Conflict, err) {
			return errs.E(op, err)
		}
	}
	return errs.E(op, errs.Transient, "take counters are changing; retry")
}

// loaded is an instance read by id; ver 0 means it is gone.
type loaded struct {
	id  string
	in  Instance
	ver int64
}

// loadIDs reads instances by id, at most 8 at a time; an
// unknown id yields ver 0.
func (s *Service) loadIDs(ctx context.Context, ids []string) ([]loaded, error) {
	out := make([]loaded, len(ids))
	err := parallel.Each(ctx, 8, len(ids), func(ctx context.Context, i int) error {
		in, ver, err := s.load(ctx, "coupons.Absorb", ids[i])
		if err != nil && !errs.Is(errs.NotExist, err) {
			return err
		}
		out[i] = loaded{id: ids[i], in: in, ver: ver}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
