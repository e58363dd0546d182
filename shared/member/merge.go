package member

import (
	"context"
	"errors"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
)

// Absorber moves what another package keeps for a member (points, growth,
// coupons, orders, referrals) from a merged-away member to the survivor. It
// must be idempotent: a merge runs it again after a crash, and once more a
// day later to catch commands that were in flight at the moment of the merge.
type Absorber interface {
	Absorb(ctx context.Context, from, into string) error
}

// AbsorberFunc adapts a function to Absorber.
type AbsorberFunc func(ctx context.Context, from, into string) error

// Absorb calls f.
func (f AbsorberFunc) Absorb(ctx context.Context, from, into string) error { return f(ctx, from, into) }

// AddAbsorber registers an absorber; wiring calls it before serving.
func (s *Service) AddAbsorber(a Absorber) { s.absorbers = append(s.absorbers, a) }

// mergeRecord is the durable trace of one merge.
type mergeRecord struct {
	From   string    `json:"from"`
	Into   string    `json:"into"`
	At     time.Time `json:"at"`
	Passes int       `json:"passes"` // Absorber passes completed.
}

func mergeKey(from string) store.Key { return store.K("merge#"+from, "merge") }

// pendingMergesPK is the partition listing merges whose absorbers have not
// completed both passes.
const pendingMergesPK = "merges#pending"

// recheckAfter is when a merge's second absorber pass runs.
const recheckAfter = 24 * time.Hour

// Merge joins two members who turn out to be one person into the older one
// (by registration time). The merged-away member keeps resolving to the
// survivor; its identities, attribution, phone and profile fill the
// survivor's gaps, and every absorber moves its data across. Merging a
// member with itself, or two already merged, is a no-op returning the
// survivor. Concurrent merges of the same members have one effect. Members
// holding different identities of one app (two openids of the same app:
// two WeChat accounts) are never merged; that fails with errs.Conflict.
func (s *Service) Merge(ctx context.Context, a, b string) (Member, error) {
	const op = "member.Merge"
	for range retry.Tries(ctx, maxTries) {
		ma, err := s.Get(ctx, a)
		if err != nil {
			return Member{}, errs.E(op, err)
		}
		mb, err := s.Get(ctx, b)
		if err != nil {
			return Member{}, errs.E(op, err)
		}
		if ma.ID == mb.ID {
			return ma, nil
		}
		into, from := ma, mb
		if from.CreatedAt.Before(into.CreatedAt) || (from.CreatedAt.Equal(into.CreatedAt) && from.ID < into.ID) {
			into, from = from, into
		}
		err = s.flip(ctx, into.ID, from.ID)
		if errors.Is(err, errTwoAccounts) {
			return Member{}, errs.E(op, err)
		}
		if errs.Is(errs.Conflict, err) {
			continue
		}
		if err != nil {
			return Member{}, errs.E(op, err)
		}
		if err := s.absorb(ctx, from.ID); err != nil {
			return Member{}, errs.E(op, err)
		}
		return s.Get(ctx, into.ID)
	}
	return Member{}, errs.E(op, errs.Transient, "too much contention, retry")
}

// flip is the atomic part of a merge: both profiles, the identity index
// items and the merge record change together. It refuses (errTwoAccounts)
// members holding different identities of one app, judged on the versions
// the write is conditioned on, so an account that joined either member
// since the caller looked can never be merged with another.
func (s *Service) flip(ctx context.Context, intoID, fromID string) error {
	var into, from Member
	iv, err := store.GetJSON(ctx, s.store, profileKey(intoID), &into)
	if err != nil {
		return err
	}
	fv, err := store.GetJSON(ctx, s.store, profileKey(fromID), &from)
	if err != nil {
		return err
	}
	if into.Status == Merged || from.Status == Merged {
		return errs.E(errs.Conflict, "merged meanwhile")
	}
	for _, id := range from.Identities {
		if otherAccount(into, id) {
			return twoAccounts()
		}
	}
	now := s.now().UTC()
	var ms []store.Mutation
	for _, id := range from.Identities {
		if !into.Has(id) {
			into.Identities = append(into.Identities, id)
		}
		ms = append(ms, store.PutJSON(indexKey(id), indexEntry{MemberID: into.ID}))
	}
	into.Attributions = append(into.Attributions, from.Channel)
	into.Attributions = append(into.Attributions, from.Attributions...)
	if into.PhoneSeal == "" {
		into.PhoneSeal, into.PhoneMask = from.PhoneSeal, from.PhoneMask
	}
	if into.NameSeal == "" {
		into.NameSeal = from.NameSeal
	}
	if into.Nickname == "" {
		into.Nickname, into.Avatar = from.Nickname, from.Avatar
	}
	if into.Consent == nil {
		into.Consent = from.Consent
	}
	into.Welcomed = into.Welcomed || from.Welcomed
	if into.Imported && hasPlatformIdentity(into) {
		into.Imported = false // Claimed by the merge.
	}
	if from.ActiveAt.After(into.ActiveAt) {
		into.ActiveAt = from.ActiveAt
	}
	if into.Status == Archived {
		into.Status = Active
	}
	from.Status, from.MergedInto = Merged, into.ID
	rec := mergeRecord{From: from.ID, Into: into.ID, At: now}
	ms = append(ms,
		store.PutJSON(profileKey(into.ID), into).IfVersion(iv.Version),
		store.PutJSON(profileKey(from.ID), from).IfVersion(fv.Version),
		store.PutJSON(mergeKey(from.ID), rec).IfAbsent(),
		store.PutJSON(store.K(pendingMergesPK, from.ID), rec),
	)
	return s.store.Write(ctx, ms...)
}

// absorb runs every absorber for a merge and records the pass; after the
// second pass (a day later, from ResumeMerges) the merge leaves the
// pending list.
func (s *Service) absorb(ctx context.Context, fromID string) error {
	var rec mergeRecord
	it, err := store.GetJSON(ctx, s.store, mergeKey(fromID), &rec)
	if err != nil {
		return err
	}
	for _, a := range s.absorbers {
		if err := a.Absorb(ctx, rec.From, rec.Into); err != nil {
			return err
		}
	}
	rec.Passes++
	ms := []store.Mutation{store.PutJSON(mergeKey(fromID), rec).IfVersion(it.Version)}
	if rec.Passes >= 2 {
		ms = append(ms, store.Delete(store.K(pendingMergesPK, fromID)))
	}
	if err := s.store.Write(ctx, ms...); err != nil && !errs.Is(errs.Conflict, err) {
		return err
	}
	return nil
}

// ResumeMerges finishes merges whose absorbers did not complete (a crash
// mid-merge) and runs the second, catch-up pass of merges older than a day.
// The expiry sweep calls it; it reports how many merges it advanced.
func (s *Service) ResumeMerges(ctx context.Context, limit int) (int, error) {
	const op = "member.ResumeMerges"
	now := s.now()
	n := 0
	for cursor := ""; ; {
		page, err := s.store.Query(ctx, store.Query{PK: pendingMergesPK, After: cursor})
		if err != nil {
			return n, errs.E(op, err)
		}
		for _, it := range page.Items {
			if n >= limit || ctx.Err() != nil {
				return n, nil
			}
			var rec mergeRecord
			if _, err := store.GetJSON(ctx, s.store, mergeKey(it.SK), &rec); err != nil {
				return n, errs.E(op, err)
			}
			if rec.Passes >= 1 && now.Sub(rec.At) < recheckAfter {
				continue // Its catch-up pass is not due yet.
			}
			if err := s.absorb(ctx, it.SK); err != nil {
				return n, errs.E(op, err)
			}
			n++
		}
		if page.Next == "" {
			return n, nil
		}
		cursor = page.Next
	}
}
