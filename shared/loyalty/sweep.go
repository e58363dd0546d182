package loyalty

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/parallel"
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

// sweepPage is how many index items a sweep reads from a partition at once.
const sweepPage = 200

// sweepRun is the shared state of one sweep run over many partitions.
type sweepRun struct {
	sw     sweeper
	now    time.Time
	budget atomic.Int64 // Items the run may still take.
	mu     sync.Mutex
	res    SweepResult
	first  error
}

// take reserves up to n items of the run's limit and reports how many it
// got.
func (r *sweepRun) take(n int) int {
	for {
		left := r.budget.Load()
		got := min(int64(n), max(left, 0))
		if got == 0 || r.budget.CompareAndSwap(left, left-got) {
			return int(got)
		}
	}
}

// add counts the outcome of a plan or a failure in the run's result.
func (r *sweepRun) add(p duePlan, failed int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Items += p.settled
	r.res.Points += p.points
	r.res.Skipped += p.stale
	r.res.Failed += failed
	if err != nil && r.first == nil {
		r.first = err
	}
}

// walkDue settles the due items of sw.kind with At ≤ now, at most limit,
// from the stored cursor day (or the day the rules were installed) up to
// today. It never scans the table: it reads each day's partitions (its
// shards and the unsharded partition of items indexed before the index was
// sharded), s.workers partitions at a time, and settles what it finds in
// batches (see settleItems). When a prefix of past days is left empty the
// cursor moves past it (a lost race on the cursor is harmless). Item errors
// are counted, the item is left for the next run, and the first error is
// returned with the progress.
func (s *Service) walkDue(ctx context.Context, sw sweeper, now time.Time, limit int) (SweepResult, error) {
	op := sw.op
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
	cit, err := store.GetJSON(ctx, s.st, cursorKey(sw.kind), &cur)
	if err != nil && !errs.Is(errs.NotExist, err) {
		return stopped(ctx, op, res, err)
	}
	if cur.Day == "" {
		cur.Day = calendar.Day(r.InstalledAt)
		if r.InstalledAt.IsZero() { // Rules stored without an install time.
			cur.Day = calendar.Day(now.AddDate(-1, 0, 0))
		}
	}
	today, from := calendar.Day(now), cur.Day
	var days []string
	for day := from; day <= today; {
		days = append(days, day)
		if day, err = calendar.NextDay(day); err != nil {
			return res, errs.E(op, errs.Internal, fmt.Errorf("sweep cursor: %w", err))
		}
	}
	type part struct {
		day int
		pk  string
	}
	var parts []part
	for i, day := range days {
		for _, pk := range duePartitions(sw.kind, day) {
			parts = append(parts, part{i, pk})
		}
	}
	run := &sweepRun{sw: sw, now: now}
	run.budget.Store(int64(limit))
	clean := make([]atomic.Int32, len(days)) // Partitions of each day read to the end, all settled.
	var more atomic.Bool
	err = parallel.Each(ctx, s.workers, len(parts), func(ctx context.Context, i int) error {
		done, cut := s.sweepPartition(ctx, run, parts[i].pk)
		if done {
			clean[parts[i].day].Add(1)
		}
		if cut {
			more.Store(true)
		}
		return nil
	})
	res, first := run.res, run.first
	res.More = more.Load() || err != nil // Each fails only when the context ended first.
	// The cursor moves past the first run of emptied past days. It is saved
	// even when the run's context has ended: a run cut off by its deadline
	// is the usual way a backlog is worked through, and without its cursor
	// the next run would read the same empty days again. Saving is best
	// effort: a lost race or a failure only means the next run reads a few
	// empty partitions again.
	for i, day := range days {
		if day >= today || int(clean[i].Load()) != len(duePartitions(sw.kind, day)) {
			break
		}
		cur.Day = days[i+1]
	}
	if cur.Day != from {
		sctx, cancel := store.Detach(ctx)
		defer cancel()
		_ = s.st.Write(sctx, store.PutJSON(cursorKey(sw.kind), cur).IfVersion(cit.Version))
	}
	return res, first
}

// sweepPartition settles the due items of one index partition, a page at a
// time. It reports done when it read the partition to its end and settled
// or dropped everything due in it (nothing there is due later, nothing
// failed), and cut when it stopped at the run's limit or deadline.
func (s *Service) sweepPartition(ctx context.Context, run *sweepRun, pk string) (done, cut bool) {
	q := store.Query{PK: pk}
	done = true
	for {
		left := run.budget.Load()
		if ctx.Err() != nil || left <= 0 {
			return false, true
		}
		q.Limit = int(min(sweepPage, left)) // Read no more than the run may settle.
		page, err := s.st.Query(ctx, q)
		if err != nil {
			if ctx.Err() != nil {
				return false, true // Cut off by the deadline: More and no error.
			}
			run.add(duePlan{}, 0, errs.E(run.sw.op, err))
			return false, false
		}
		var due []dueItem
		later := false
		for _, it := range page.Items {
			var ref dueRef
			if err := json.Unmarshal(it.Data, &ref); err != nil {
				done = false
				run.add(duePlan{}, 1, errs.E(run.sw.op, errs.Internal, fmt.Errorf("due item %s: %w", it.Key, err)))
				continue
			}
			if ref.At.After(run.now) {
				later = true // Sorted by time: the rest is due later.
				break
			}
			due = append(due, dueItem{it, ref})
		}
		full := false
		if n := run.take(len(due)); n < len(due) {
			due, full = due[:n], true
		}
		ok, stop := s.settleItems(ctx, run, due)
		done = done && ok
		if stop || full {
			return false, true
		}
		if later {
			return false, false
		}
		if page.Next == "" {
			return done, false
		}
		q.After = page.Next
	}
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
