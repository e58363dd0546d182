package loyalty

import (
	"context"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/once"
	"github.com/wemember/wemember/shared/parallel"
	"github.com/wemember/wemember/shared/store"
)

// ExpireDue expires the lots whose expiry is at or before now, at most
// limit index items, through the due-date index (never a table scan). Each
// lot is settled once, even by overlapping runs: the expiry, its ledger
// entry, the removal of the lot and of its index item and an idempotency
// record (lot id + due day) are written together, the lots of many members
// in one atomic write.
func (s *Service) ExpireDue(ctx context.Context, now time.Time, limit int) (SweepResult, error) {
	// A lot takes five mutations and its member's summary one: 19 lots of
	// one member fit in a write.
	return s.walkDue(ctx, sweeper{op: "loyalty.ExpireDue", kind: dueExpiry, perMember: 19, plan: s.planExpiry}, now, limit)
}

// planExpiry plans the expiry of lots of member: one summary update for
// all of them, and per lot its ledger entry, its closing, the deletion of
// its index item and its guard record.
func (s *Service) planExpiry(ctx context.Context, now time.Time, member string, items []dueItem) (duePlan, error) {
	const op = "loyalty.ExpireDue"
	due := func(l Lot, ref dueRef) bool { return l.ExpiresAt.Equal(ref.At) }
	return s.planLots(ctx, op, member, items, due, func(sm *summary, d dueItem, l Lot, lk store.Key, p *duePlan) error {
		rem := l.Remaining
		if l.Pending {
			sm.Pending -= rem
		} else {
			sm.Available -= rem
		}
		sm.Expired += rem
		l.Expired, l.Remaining = rem, 0
		e := Entry{ID: s.newID(), MemberID: member, Kind: KindExpire, Points: -rem, Reason: "points expired",
			Key: "expire#" + l.ID + "#" + calendar.Day(d.ref.At), At: now, LotID: l.ID, LotSK: l.sk,
			Lots: []LotUse{{LotID: l.ID, Points: rem}}, After: sm.after()}
		guard := idemKey("sweep", e.Key)
		claim, err := once.Claim(guard, "expire", now, struct{}{}, 0)
		if err != nil {
			return err
		}
		p.ms = append(p.ms,
			store.Delete(d.it.Key).IfExists(),
			claim,
			store.Delete(lk),
			store.PutJSON(lotDoneKey(member, l.ID), l),
			store.PutJSON(ledgerKey(member, now, e.ID), e).IfAbsent())
		p.guards = append(p.guards, d.it.Key, guard)
		p.points += rem
		return nil
	})
}

// planLots plans settling due items of member that name its lots: it reads
// the summary once and each lot, drops an item whose lot is gone, does not
// match it (due) or was already planned, and lets settle add the mutations
// of each other lot and change the summary, which is written once, at the
// version read.
func (s *Service) planLots(ctx context.Context, op, member string, items []dueItem, due func(Lot, dueRef) bool,
	settle func(sm *summary, d dueItem, l Lot, lk store.Key, p *duePlan) error) (duePlan, error) {
	var p duePlan
	sm, err := s.readSummary(ctx, member)
	if err != nil {
		return p, errs.E(op, err)
	}
	// The lots are read side by side: on a remote store each read is a
	// round trip, and a member may have many lots due at once.
	lots := make([]Lot, len(items))
	found := make([]bool, len(items))
	if err := parallel.Each(ctx, s.workers, len(items), func(ctx context.Context, i int) error {
		var err error
		lots[i], found[i], err = s.dueLot(ctx, op, store.K(memberPK(member), items[i].ref.LotSK))
		return err
	}); err != nil {
		return duePlan{}, err
	}
	seen := map[string]bool{}
	for i, d := range items {
		l, lk := lots[i], store.K(memberPK(member), d.ref.LotSK)
		if !found[i] || l.ID != d.ref.LotID || !due(l, d.ref) || seen[l.ID] {
			p.drop(d.it.Key)
			continue
		}
		seen[l.ID] = true
		if err := settle(&sm, d, l, lk, &p); err != nil {
			return duePlan{}, err
		}
		p.settled++
	}
	if p.settled > 0 {
		p.ms = append(p.ms, putSummary(member, sm))
	}
	return p, nil
}

// ReleaseDue makes pending lots whose period ended at or before now count
// as available, at most limit index items. (Spend and Balance already treat
// such lots as available; this keeps the summary exact.)
func (s *Service) ReleaseDue(ctx context.Context, now time.Time, limit int) (SweepResult, error) {
	// A lot takes two mutations and its member's summary one.
	return s.walkDue(ctx, sweeper{op: "loyalty.ReleaseDue", kind: duePending, perMember: 49, plan: s.planRelease}, now, limit)
}

// planRelease plans the release of pending lots of member: one summary
// update, and per lot its change and the deletion of its index item.
func (s *Service) planRelease(ctx context.Context, _ time.Time, member string, items []dueItem) (duePlan, error) {
	pending := func(l Lot, _ dueRef) bool { return l.Pending }
	return s.planLots(ctx, "loyalty.ReleaseDue", member, items, pending, func(sm *summary, d dueItem, l Lot, lk store.Key, p *duePlan) error {
		sm.Pending -= l.Remaining
		sm.Available += l.Remaining
		l.Pending = false
		p.ms = append(p.ms, store.Delete(d.it.Key).IfExists(), store.PutJSON(lk, l))
		p.guards = append(p.guards, d.it.Key)
		p.points += l.Remaining
		return nil
	})
}

// ReviewLevels runs the level reviews due at or before now, at most limit,
// through the review-date index: a member still qualified keeps the level
// until the next review; one below it is downgraded per the rules (never,
// at once, or when still below after the grace period). Each review is
// settled once, even by overlapping runs.
func (s *Service) ReviewLevels(ctx context.Context, now time.Time, limit int) (SweepResult, error) {
	// A member has one review scheduled: a second index item of the same
	// member is stale, and is dropped in a later round.
	return s.walkDue(ctx, sweeper{op: "loyalty.ReviewLevels", kind: dueReview, perMember: 1, plan: s.planReview}, now, limit)
}

// planReview plans one member's due review (items holds one index item).
func (s *Service) planReview(ctx context.Context, now time.Time, member string, items []dueItem) (duePlan, error) {
	const op = "loyalty.ReviewLevels"
	var p duePlan
	r, err := s.Rules(ctx)
	if err != nil {
		return p, errs.E(op, err)
	}
	st, err := s.readLevel(ctx, member, r)
	if err != nil {
		return p, errs.E(op, err)
	}
	for _, d := range items {
		it := d.it
		if st.ReviewPK != it.Key.PK || st.ReviewSK != it.Key.SK {
			p.drop(it.Key)
			continue
		}
		ver := st.version
		st.ReviewPK, st.ReviewSK = "", "" // Deleted below, guarded.
		e := GrowthEntry{ID: s.newID(), MemberID: member, Kind: "review", From: st.Level,
			Reason: "level review", Key: "review#" + it.Key.SK, At: now}
		guard := idemKey("sweep", e.Key)
		claim, err := once.Claim(guard, "review", now, struct{}{}, 0)
		if err != nil {
			return duePlan{}, err
		}
		p.ms = append(p.ms, store.Delete(it.Key).IfExists(), claim)
		p.ms = append(p.ms, review(r, &st, member, now)...)
		e.To, e.GrowthAfter, e.SpendAfter = st.Level, st.Growth, st.SpendFen
		p.ms = append(p.ms, st.indexEnds(member)...)
		p.ms = append(p.ms, store.PutJSON(levelKey(member), st).IfVersion(ver),
			store.PutJSON(growthKey(member, now, e.ID), e).IfAbsent())
		p.guards = append(p.guards, it.Key, guard)
		p.settled++
	}
	return p, nil
}

// dueLot reads the lot a due index item names; ok is false when it is
// gone (the index item is left over).
func (s *Service) dueLot(ctx context.Context, op string, lk store.Key) (Lot, bool, error) {
	lit, err := s.st.Get(ctx, lk)
	if errs.Is(errs.NotExist, err) {
		return Lot{}, false, nil
	}
	if err != nil {
		return Lot{}, false, errs.E(op, err)
	}
	l, err := decodeLot(lit)
	if err != nil {
		return Lot{}, false, errs.E(op, errs.Internal, err)
	}
	return l, true, nil
}
