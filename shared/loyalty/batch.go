package loyalty

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/parallel"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
)

// dueItem is a due index item and its decoded reference.
type dueItem struct {
	it  store.Item
	ref dueRef
}

// sweeper is one kind of due item and how its items are settled.
type sweeper struct {
	op   string
	kind string
	// perMember is the most items of one member that one plan settles: the
	// plan's mutations must fit in one write.
	perMember int
	plan      planFunc
}

// planFunc reads the account of member and plans settling items (all of
// them that member's, at most sweeper.perMember) at now.
type planFunc func(ctx context.Context, now time.Time, member string, items []dueItem) (duePlan, error)

// duePlan is what settling some due items of one member writes: their
// effects, the deletion of their index items and their guard records, or
// for a stale index item (its lot or review moved on) only its deletion.
type duePlan struct {
	ms      []store.Mutation
	guards  []store.Key // A failed condition on one of these: another run settled the item.
	settled int
	stale   int
	points  int64
}

// drop plans the deletion of a stale index item: nothing to settle.
func (p *duePlan) drop(k store.Key) {
	p.ms = append(p.ms, store.Delete(k))
	p.stale++
}

// settleItems settles due items in batches and counts them in run. Each
// member's items (at most perMember at once) are planned from one read of
// its account; plans of different members, read concurrently, are packed
// into atomic writes of up to store.MaxWrite mutations, so that a write
// settles many items, and the writes of a round are sent side by side (on
// bbolt they then share a commit). A member's further items wait for the
// next round, planned once its earlier ones are written. When a batch write
// fails, its items are settled one by one (settleEach): members are
// independent, so one contended member never holds back the others, and an
// item the batch settled after all (an answer lost on the way) is found
// settled and is not settled again. It reports ok when every item was
// settled or skipped, and cut when the run's context ended first, leaving
// items for the next run.
func (s *Service) settleItems(ctx context.Context, run *sweepRun, items []dueItem) (ok, cut bool) {
	var bad, stop atomic.Bool
	for len(items) > 0 {
		var round [][]dueItem
		round, items = splitRound(items, run.sw.perMember)
		plans := make([]duePlan, len(round))
		failed := make([]error, len(round))
		if err := parallel.Each(ctx, s.workers, len(round), func(ctx context.Context, i int) error {
			plans[i], failed[i] = run.sw.plan(ctx, s.now(), round[i][0].ref.MemberID, round[i])
			return nil
		}); err != nil {
			return false, true
		}
		// Pack the plans into batches; a member whose plan could not be
		// made is settled one by one, where each item's own error counts.
		var batches []batch
		var alone [][]dueItem
		for i, p := range plans {
			if failed[i] != nil {
				alone = append(alone, round[i])
				continue
			}
			if len(batches) == 0 || batches[len(batches)-1].size+len(p.ms) > store.MaxWrite {
				batches = append(batches, batch{})
			}
			b := &batches[len(batches)-1]
			b.plans, b.items, b.size = append(b.plans, p), append(b.items, round[i]), b.size+len(p.ms)
		}
		if len(alone) > 0 {
			if ctx.Err() != nil {
				return false, true
			}
			good, cut := s.settleEach(ctx, run, alone)
			if !good {
				bad.Store(true)
			}
			if cut {
				return false, true
			}
		}
		err := parallel.Each(ctx, s.workers, len(batches), func(ctx context.Context, i int) error {
			good, cut := s.writeBatch(ctx, run, batches[i])
			if !good {
				bad.Store(true)
			}
			if cut {
				stop.Store(true)
			}
			return nil
		})
		if err != nil || stop.Load() {
			return false, true
		}
	}
	return !bad.Load(), false
}

// batch is plans of different members to write together, with the items
// each plan settles.
type batch struct {
	plans []duePlan
	items [][]dueItem
	size  int // Mutations.
}

// splitRound takes each member's first perMember items, in the order the
// members first appear, and leaves the rest for a later round.
func splitRound(items []dueItem, perMember int) (round [][]dueItem, rest []dueItem) {
	at := map[string]int{}
	for _, d := range items {
		i, ok := at[d.ref.MemberID]
		if !ok {
			i = len(round)
			at[d.ref.MemberID] = i
			round = append(round, nil)
		}
		if len(round[i]) < perMember {
			round[i] = append(round[i], d)
		} else {
			rest = append(rest, d)
		}
	}
	return round, rest
}

// writeBatch writes the plans of a batch as one atomic write. When it
// fails it settles their items one by one instead. It reports as
// settleItems does.
func (s *Service) writeBatch(ctx context.Context, run *sweepRun, b batch) (ok, cut bool) {
	ms := make([]store.Mutation, 0, b.size)
	for _, p := range b.plans {
		ms = append(ms, p.ms...)
	}
	err := s.st.Write(ctx, ms...)
	if err == nil {
		for _, p := range b.plans {
			run.add(p, 0, nil)
		}
		return true, false
	}
	if ctx.Err() != nil {
		return false, true
	}
	return s.settleEach(ctx, run, b.items)
}

// settleEach settles items one by one, each in its own write with bounded
// retries: the items of one member in order, up to s.workers members at a
// time.
func (s *Service) settleEach(ctx context.Context, run *sweepRun, members [][]dueItem) (ok, cut bool) {
	var bad, stop atomic.Bool
	err := parallel.Each(ctx, s.workers, len(members), func(ctx context.Context, i int) error {
		for _, d := range members[i] {
			if ctx.Err() != nil {
				return ctx.Err() // Cut: the rest waits for the next run.
			}
			p, err := s.settleOne(ctx, run.sw, d)
			switch {
			case err != nil && ctx.Err() != nil:
				stop.Store(true)
			case err != nil:
				bad.Store(true)
				run.add(duePlan{}, 1, err)
			default:
				run.add(p, 0, nil)
			}
		}
		return nil
	})
	cut = stop.Load() || err != nil
	return !bad.Load() && !cut, cut
}

// settleOne settles one due item in its own write, retrying a bounded
// number of times when the member's account changed under it. A failed
// condition on a guard key (the index item or the guard record) means
// another run settled the item: it counts as skipped.
func (s *Service) settleOne(ctx context.Context, sw sweeper, d dueItem) (duePlan, error) {
	for try := 0; try < s.maxTries; try++ {
		if try > 0 {
			if err := retry.Pause(ctx, try); err != nil {
				return duePlan{}, errs.E(sw.op, errs.Transient, err)
			}
		}
		p, err := sw.plan(ctx, s.now(), d.ref.MemberID, []dueItem{d})
		if err != nil {
			return duePlan{}, err
		}
		err = s.st.Write(ctx, p.ms...)
		if err == nil {
			return p, nil
		}
		if k, ok := store.FailedKey(err); ok {
			for _, g := range p.guards {
				if k == g {
					return duePlan{stale: 1}, nil
				}
			}
		}
		if !errs.Is(errs.Conflict, err) {
			return duePlan{}, errs.E(sw.op, err)
		}
	}
	return duePlan{}, errs.E(sw.op, errs.Transient, "account busy")
}
