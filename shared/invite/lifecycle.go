package invite

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/parallel"
	"github.com/wemember/wemember/shared/store"
)

// The sweeps' shape: a first run reads the day indexes from sweepLookback
// ago; a page of due items is settled in one atomic write (two mutations
// an item).
const (
	sweepLookback = 60 * 24 * time.Hour
	sweepPage     = store.MaxWrite / 2
)

func expireCursorKey() store.Key { return store.K("invsweep", "expire") }
func rotateCursorKey() store.Key { return store.K("invsweep", "rotate") }

// settleFunc settles a page of index items due by now and reports how
// many codes it changed; it removes every item it settles.
type settleFunc func(ctx context.Context, items []store.Item, now time.Time) (int, error)

// sweepDays walks a day index (partitions prefix+"#"+yyyymmdd, sharded)
// from the stored cursor to now's day, a day's shards in parallel, handing
// the items due by now to settle a page at a time, until limit items were
// handed. The cursor moves past a day once all its shards are read to the
// end, so a run that stops early (limit, deadline) is continued by the
// next; settled items are removed from the index, so a run repeated
// changes nothing.
func (s *Service) sweepDays(ctx context.Context, op, prefix string, cursor store.Key, now time.Time, limit int, settle settleFunc) (int, bool, error) {
	if limit <= 0 {
		return 0, false, errs.E(op, errs.Invalid, "limit must be positive")
	}
	now = now.UTC().Truncate(time.Second)
	var cur store.DayCursor
	cit, err := store.GetJSON(ctx, s.st, cursor, &cur)
	if errs.Is(errs.NotExist, err) {
		cur.Day, err = utcDay(now.Add(-sweepLookback)), nil
	}
	if err != nil {
		return 0, false, errs.E(op, err)
	}
	today := utcDay(now)
	w := &sweepWalk{s: s, limit: limit, bound: stamp(now.Add(time.Second)), now: now, settle: settle}
	day, more := cur.Day, false
	for ; day <= today; day = nextUTCDay(day) {
		pks := store.ShardPKs(prefix + "#" + day)
		drained := make([]bool, len(pks))
		err = parallel.Each(ctx, sweepWorkers, len(pks), func(ctx context.Context, i int) error {
			var err error
			drained[i], err = w.walk(ctx, pks[i])
			return err
		})
		if err != nil || slices.Contains(drained, false) {
			more = true
			break
		}
		if day == today {
			break
		}
	}
	// However the run ends, the cursor moves past the days it finished.
	if aerr := store.AdvanceDay(ctx, s.st, cursor, cur.Day, day, cit.Version); err == nil {
		err = aerr
	}
	if err != nil {
		if ctx.Err() != nil {
			return w.done, true, nil
		}
		return w.done, more, errs.E(op, err)
	}
	return w.done, more, nil
}

// sweepWorkers is how many partitions of a day a sweep reads at once.
const sweepWorkers = 8

// sweepWalk is one sweep run's shared count.
type sweepWalk struct {
	s      *Service
	limit  int
	bound  string
	now    time.Time
	settle settleFunc

	mu    sync.Mutex
	taken int
	done  int
}

// reserve takes room for up to n items within the run's limit.
func (w *sweepWalk) reserve(n int) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := max(0, min(n, w.limit-w.taken))
	w.taken += k
	return k
}

// walk settles one partition's due items and reports whether it read the
// partition to its end.
func (w *sweepWalk) walk(ctx context.Context, pk string) (bool, error) {
	after := ""
	for {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		page, err := w.s.st.Query(ctx, store.Query{PK: pk, Before: w.bound, After: after, Limit: min(sweepPage, w.limit)})
		if err != nil {
			return false, err
		}
		// Only the items found take room within the limit; those over it
		// wait for the next run.
		k := w.reserve(len(page.Items))
		if k > 0 {
			n, err := w.settle(ctx, page.Items[:k], w.now)
			w.mu.Lock()
			w.done += n
			w.mu.Unlock()
			if err != nil {
				return false, err
			}
		}
		if k < len(page.Items) {
			return false, nil // The limit is reached.
		}
		if page.Next == "" {
			return true, nil
		}
		after = page.Next
	}
}

// nextUTCDay is the day after day (yyyymmdd).
func nextUTCDay(day string) string {
	t, err := time.Parse("20060102", day)
	if err != nil {
		return "99991231" // Unreachable for days we wrote; ends the walk.
	}
	return utcDay(t.AddDate(0, 0, 1))
}

// ExpireCodes marks the codes whose validity ended by now Expired — or
// Archived, for a rotated-out code whose grace ended — reading only the due
// index (by UTC day, sharded), from where the last run stopped. A page of
// due items is settled in one atomic write, each change conditioned on the
// code's version; a page that loses a race (a share extended a code
// meanwhile, or an overlapping run) is settled item by item. It reports
// how many codes it changed and whether work remains (limit reached or ctx
// done); a second run over the same items changes nothing.
func (s *Service) ExpireCodes(ctx context.Context, now time.Time, limit int) (int, bool, error) {
	return s.sweepDays(ctx, "invite.ExpireCodes", "invdue", expireCursorKey(), now, limit, s.settleExpiry)
}

func (s *Service) settleExpiry(ctx context.Context, items []store.Item, now time.Time) (int, error) {
	n, err := s.settlePage(ctx, items, now, expiryMutations)
	if !errs.Is(errs.Conflict, err) {
		return n, err
	}
	n = 0
	for _, it := range items {
		for try := 0; ; try++ {
			m, err := s.settlePage(ctx, []store.Item{it}, now, expiryMutations)
			if err == nil {
				n += m
				break
			}
			if !errs.Is(errs.Conflict, err) || try == changeTries {
				return n, err
			}
		}
	}
	return n, nil
}

// settlePage reads the codes of index items and writes what change makes
// of each, and every item's removal, in one atomic write.
func (s *Service) settlePage(ctx context.Context, items []store.Item, now time.Time,
	change func(it store.Item, c Code, ver int64, now time.Time) []store.Mutation) (int, error) {
	ks := make([]store.Key, len(items))
	for i, it := range items {
		var ref codeRef
		if err := json.Unmarshal(it.Data, &ref); err != nil {
			return 0, errs.E(errs.Internal, err)
		}
		ks[i] = codeKey(ref.ID)
	}
	got, err := s.st.GetMany(ctx, ks, store.Strong)
	if err != nil {
		return 0, err
	}
	var ms []store.Mutation
	n := 0
	seen := map[store.Key]bool{} // A code changes once a write, whatever else names it.
	for i, it := range items {
		var c Code
		var ver int64 // 0: nothing to change, only the item to drop.
		if got[i].Found() && !seen[ks[i]] {
			if err := json.Unmarshal(got[i].Data, &c); err != nil {
				return 0, errs.E(errs.Internal, err)
			}
			ver = got[i].Version
		}
		if cm := change(it, c, ver, now); len(cm) > 0 {
			seen[ks[i]] = true
			ms = append(ms, cm...)
			n++
		}
		ms = append(ms, store.Delete(it.Key))
	}
	if err := s.st.Write(ctx, ms...); err != nil {
		return 0, err
	}
	return n, nil
}

// expiryMutations expire a code whose due item it is; a stale item (the
// code gone, extended or no longer active) changes nothing.
func expiryMutations(it store.Item, c Code, ver int64, now time.Time) []store.Mutation {
	if ver == 0 || c.Status != Active || c.ExpiresAt.IsZero() || now.Before(c.ExpiresAt) ||
		it.Key != dueKey(c.ExpiresAt, c.ID) {
		return nil
	}
	c.Status, c.UpdatedAt = Expired, now
	if c.ReplacedBy != "" {
		c.Status = Archived
	}
	return []store.Mutation{store.PutJSON(codeKey(c.ID), c).IfVersion(ver)}
}
