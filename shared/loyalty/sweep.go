package loyalty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/once"
	"github.com/wemember/wemember/shared/parallel"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
)

// SweepResult is the progress of one sweep run. A run stopped by its limit
// or its context reports More; the next run continues where it stopped,
// because settled index items are deleted in the same write as their effect.
type SweepResult struct {
	Items   int   `json:"items"`   // Items this run settled.
	Points  int64 `json:"points"`  // Points this run expired or released.
	Skipped int   `json:"skipped"` // Items already settled elsewhere, or stale.
	Failed  int   `json:"failed"`  // Items left for the next run after an error.
	More    bool  `json:"more"`    // Due items may remain.
}

func cursorKey(kind string) store.Key { return store.K("due#cursor#loyalty", kind) }

type dueCursor struct {
	Day string `json:"day"`
}

// settleFunc settles one due item; it reports whether this call settled it
// and how many points it moved.
type settleFunc func(ctx context.Context, it store.Item, ref dueRef) (bool, int64, error)

// walkDue visits the due items of kind with At ≤ now, day partition by day
// partition from the stored cursor day (or the day the rules were
// installed) up to today, at most limit items. It never scans the table.
// When a past day is left empty the cursor moves past it (a lost race on
// the cursor is harmless). Item errors are counted, the item is left for
// the next run, and the first error is returned with the progress.
func (s *Service) walkDue(ctx context.Context, op, kind string, now time.Time, limit int, settle settleFunc) (SweepResult, error) {
	var res SweepResult
	if limit <= 0 {
		return res, errs.E(op, errs.Invalid, "limit must be positive")
	}
	if ctx.Err() != nil {
		res.More = true // Out of time before starting: the next run does it.
		return res, nil
	}
	r, err := s.Rules(ctx)
	if err != nil {
		return stopped(ctx, op, res, err)
	}
	var cur dueCursor
	cit, err := store.GetJSON(ctx, s.st, cursorKey(kind), &cur)
	if err != nil && !errs.Is(errs.NotExist, err) {
		return stopped(ctx, op, res, err)
	}
	if cur.Day == "" {
		cur.Day = calendar.Day(r.InstalledAt)
		if r.InstalledAt.IsZero() { // Rules stored without an install time.
			cur.Day = calendar.Day(now.AddDate(-1, 0, 0))
		}
	}
	today, seen, from, prefix := calendar.Day(now), 0, cur.Day, true
	var first error
	// The cursor moves once, past the first run of emptied past days. It
	// is saved even when the run's context has ended: a run cut off by its
	// deadline is the usual way a backlog is worked through, and without
	// its cursor the next run would read the same empty days again. Saving
	// is best effort: a lost race or a failure only means the next run
	// reads a few empty partitions again.
	defer func() {
		if cur.Day != from {
			sctx, cancel := store.Detach(ctx)
			defer cancel()
			_ = s.st.Write(sctx, store.PutJSON(cursorKey(kind), cur).IfVersion(cit.Version))
		}
	}()
	for day := from; day <= today; {
		clean := true
		q := store.Query{PK: "due#" + kind + "#" + day, Limit: min(limit+1, 200)}
		for {
			if ctx.Err() != nil {
				res.More = true
				return res, first
			}
			page, err := s.st.Query(ctx, q)
			if err != nil {
				// Cut off by the deadline: More and no error; else the error.
				if res, err = stopped(ctx, op, res, err); err != nil {
					return res, err
				}
				return res, first
			}
			var batch []dueItem
			later, full := false, false
			for _, it := range page.Items {
				var ref dueRef
				if err := json.Unmarshal(it.Data, &ref); err != nil {
					res.Failed, clean = res.Failed+1, false
					if first == nil {
						first = errs.E(op, errs.Internal, fmt.Errorf("due item %s: %w", it.Key, err))
					}
					continue
				}
				if ref.At.After(now) {
					clean, later = false, true
					break
				}
				if seen >= limit {
					full = true
					break
				}
				seen++
				batch = append(batch, dueItem{it, ref})
			}
			if cut := s.settleAll(ctx, batch, settle, &res, &clean, &first); cut || full {
				res.More = true
				return res, first
			}
			if later || page.Next == "" {
				break
			}
			q.After = page.Next
		}
		next, err := calendar.NextDay(day)
		if err != nil {
			return res, errs.E(op, errs.Internal, fmt.Errorf("sweep cursor: %w", err))
		}
		if prefix = prefix && clean && day < today; prefix {
			cur.Day = next
		}
		day = next
	}
	return res, first
}

// dueItem is a due index item and its decoded reference.
type dueItem struct {
	it  store.Item
	ref dueRef
}

// settleAll settles items, the items of one member in order and up to
// s.workers members at a time (members are independent; items of one
// member would only collide on its summary version), and adds the outcomes
// to res. It reports whether the context ended first, leaving items for
// the next run.
func (s *Service) settleAll(ctx context.Context, items []dueItem, settle settleFunc, res *SweepResult, clean *bool, first *error) bool {
	var groups [][]dueItem
	at := map[string]int{}
	for _, d := range items {
		i, ok := at[d.ref.MemberID]
		if !ok {
			i = len(groups)
			at[d.ref.MemberID] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], d)
	}
	var mu sync.Mutex
	cut := false
	err := parallel.Each(ctx, s.workers, len(groups), func(ctx context.Context, i int) error {
		for _, d := range groups[i] {
			if ctx.Err() != nil {
				return ctx.Err() // Cut: the rest waits for the next run.
			}
			done, pts, err := settle(ctx, d.it, d.ref)
			mu.Lock()
			switch {
			case err != nil && ctx.Err() != nil:
				cut = true
			case err != nil:
				res.Failed, *clean = res.Failed+1, false
				if *first == nil {
					*first = err
				}
			case done:
				res.Items++
				res.Points += pts
			default:
				res.Skipped++
			}
			mu.Unlock()
		}
		return nil
	})
	return cut || err != nil
}

// stopped is a sweep's answer to err: when the context ended (the run's
// deadline), progress so far with More and no error; otherwise the error.
func stopped(ctx context.Context, op string, res SweepResult, err error) (SweepResult, error) {
	if ctx.Err() != nil {
		res.More = true
		return res, nil
	}
	return res, errs.E(op, err)
}

// retrySettle runs one settle attempt with bounded retries on version
// conflicts; a conflict on a guard key (the index item or the idempotency
// record) means another run settled the item.
func (s *Service) retrySettle(ctx context.Context, op string, attempt func(now time.Time) ([]store.Mutation, int64, []store.Key, error)) (bool, int64, error) {
	for try := 0; try < s.maxTries; try++ {
		if try > 0 {
			if err := retry.Pause(ctx, try); err != nil {
				return false, 0, errs.E(op, errs.Transient, err)
			}
		}
		ms, pts, guards, err := attempt(s.now())
		if err != nil || ms == nil {
			return false, 0, err
		}
		err = s.st.Write(ctx, ms...)
		if err == nil {
			return true, pts, nil
		}
		if k, ok := store.FailedKey(err); ok {
			for _, g := range guards {
				if k == g {
					return false, 0, nil
				}
			}
		}
		if !errs.Is(errs.Conflict, err) {
			return false, 0, errs.E(op, err)
		}
	}
	return false, 0, errs.E(op, errs.Transient, "account busy")
}

// dropIndex removes a stale index item; nothing to settle.
func (s *Service) dropIndex(ctx context.Context, op string, k store.Key) (bool, int64, error) {
	if err := s.st.Write(ctx, store.Delete(k)); err != nil {
		return false, 0, errs.E(op, err)
	}
	return false, 0, nil
}

// ExpireDue expires the lots whose expiry is at or before now, at most
// limit index items, through the due-date index (never a table scan). Each
// lot is settled once, even by overlapping runs: the expiry, its ledger
// entry, the removal of the lot and of its index item and an idempotency
// record (lot id + due day) are one atomic write.
func (s *Service) ExpireDue(ctx context.Context, now time.Time, limit int) (SweepResult, error) {
	const op = "loyalty.ExpireDue"
	return s.walkDue(ctx, op, dueExpiry, now, limit, func(ctx context.Context, it store.Item, ref dueRef) (bool, int64, error) {
		lk := store.K(memberPK(ref.MemberID), ref.LotSK)
		done, pts, err := s.retrySettle(ctx, op, func(now time.Time) ([]store.Mutation, int64, []store.Key, error) {
			sm, l, err := s.dueLot(ctx, op, ref.MemberID, lk)
			if err != nil {
				return nil, 0, nil, err
			}
			if l.ID != ref.LotID || !l.ExpiresAt.Equal(ref.At) {
				return nil, 0, nil, errStale
			}
			rem := l.Remaining
			if l.Pending {
				sm.Pending -= rem
			} else {
				sm.Available -= rem
			}
			sm.Expired += rem
			l.Expired, l.Remaining = rem, 0
			e := Entry{ID: s.newID(), MemberID: ref.MemberID, Kind: KindExpire, Points: -rem, Reason: "points expired",
				Key: "expire#" + l.ID + "#" + calendar.Day(ref.At), At: now, LotID: l.ID, LotSK: l.sk,
				Lots: []LotUse{{LotID: l.ID, Points: rem}}, After: sm.after()}
			claim, err := once.Claim(idemKey("sweep", e.Key), "expire", now, struct{}{}, 0)
			if err != nil {
				return nil, 0, nil, err
			}
			ms := []store.Mutation{
				store.Delete(it.Key).IfExists(),
				claim,
				putSummary(ref.MemberID, sm),
				store.Delete(lk),
				store.PutJSON(lotDoneKey(ref.MemberID, l.ID), l),
				store.PutJSON(ledgerKey(ref.MemberID, now, e.ID), e).IfAbsent(),
			}
			return ms, rem, []store.Key{it.Key, idemKey("sweep", e.Key)}, nil
		})
		if errors.Is(err, errStale) {
			return s.dropIndex(ctx, op, it.Key)
		}
		return done, pts, err
	})
}

// errStale marks an index item whose lot or member moved on.
var errStale = errors.New("stale due item")

// ReleaseDue makes pending lots whose period ended at or before now count
// as available, at most limit index items. (Spend and Balance already treat
// such lots as available; this keeps the summary exact.)
func (s *Service) ReleaseDue(ctx context.Context, now time.Time, limit int) (SweepResult, error) {
	const op = "loyalty.ReleaseDue"
	return s.walkDue(ctx, op, duePending, now, limit, func(ctx context.Context, it store.Item, ref dueRef) (bool, int64, error) {
		lk := store.K(memberPK(ref.MemberID), ref.LotSK)
		done, pts, err := s.retrySettle(ctx, op, func(now time.Time) ([]store.Mutation, int64, []store.Key, error) {
			sm, l, err := s.dueLot(ctx, op, ref.MemberID, lk)
			if err != nil {
				return nil, 0, nil, err
			}
			if l.ID != ref.LotID || !l.Pending {
				return nil, 0, nil, errStale
			}
			sm.Pending -= l.Remaining
			sm.Available += l.Remaining
			l.Pending = false
			return []store.Mutation{store.Delete(it.Key).IfExists(), putSummary(ref.MemberID, sm), store.PutJSON(lk, l)},
				l.Remaining, []store.Key{it.Key}, nil
		})
		if errors.Is(err, errStale) {
			return s.dropIndex(ctx, op, it.Key)
		}
		return done, pts, err
	})
}

// ReviewLevels runs the level reviews due at or before now, at most limit,
// through the review-date index: a member still qualified keeps the level
// until the next review; one below it is downgraded per the rules (never,
// at once, or when still below after the grace period). Each review is
// settled once, even by overlapping runs.
func (s *Service) ReviewLevels(ctx context.Context, now time.Time, limit int) (SweepResult, error) {
	const op = "loyalty.ReviewLevels"
	return s.walkDue(ctx, op, dueReview, now, limit, func(ctx context.Context, it store.Item, ref dueRef) (bool, int64, error) {
		done, _, err := s.retrySettle(ctx, op, func(now time.Time) ([]store.Mutation, int64, []store.Key, error) {
			r, err := s.Rules(ctx)
			if err != nil {
				return nil, 0, nil, errs.E(op, err)
			}
			st, err := s.readLevel(ctx, ref.MemberID, r)
			if err != nil {
				return nil, 0, nil, errs.E(op, err)
			}
			if st.ReviewPK != it.Key.PK || st.ReviewSK != it.Key.SK {
				return nil, 0, nil, errStale
			}
			ver := st.version
			st.ReviewPK, st.ReviewSK = "", "" // Deleted below, guarded.
			e := GrowthEntry{ID: s.newID(), MemberID: ref.MemberID, Kind: "review", From: st.Level,
				Reason: "level review", Key: "review#" + it.Key.SK, At: now}
			claim, err := once.Claim(idemKey("sweep", e.Key), "review", now, struct{}{}, 0)
			if err != nil {
				return nil, 0, nil, err
			}
			ms := []store.Mutation{store.Delete(it.Key).IfExists(), claim}
			ms = append(ms, review(r, &st, ref.MemberID, now)...)
			e.To, e.GrowthAfter, e.SpendAfter = st.Level, st.Growth, st.SpendFen
			ms = append(ms, st.indexEnds(ref.MemberID)...)
			ms = append(ms, store.PutJSON(levelKey(ref.MemberID), st).IfVersion(ver),
				store.PutJSON(growthKey(ref.MemberID, now, e.ID), e).IfAbsent())
			return ms, 0, []store.Key{it.Key, idemKey("sweep", e.Key)}, nil
		})
		if errors.Is(err, errStale) {
			return s.dropIndex(ctx, op, it.Key)
		}
		return done, 0, err
	})
}

// dueLot reads the balance summary and the lot a due index item names. A
// lot that is gone is errStale: its index item is left over.
func (s *Service) dueLot(ctx context.Context, op, member string, lk store.Key) (summary, Lot, error) {
	sm, err := s.readSummary(ctx, member)
	if err != nil {
		return summary{}, Lot{}, errs.E(op, err)
	}
	lit, err := s.st.Get(ctx, lk)
	if errs.Is(errs.NotExist, err) {
		return summary{}, Lot{}, errStale
	}
	if err != nil {
		return summary{}, Lot{}, errs.E(op, err)
	}
	l, err := decodeLot(lit)
	if err != nil {
		return summary{}, Lot{}, errs.E(op, errs.Internal, err)
	}
	return sm, l, nil
}
