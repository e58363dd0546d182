package coupons

import (
	"context"
	"sync"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/parallel"
	"github.com/wemember/wemember/shared/store"
)

// Progress reports what one ExpireDue run did.
type Progress struct {
	Expired int  // Coupons this run moved from available to expired.
	Cleaned int  // Due items dropped: their coupon was used, revoked or expired already.
	More    bool // Stopped at the limit or the context; run again to continue.
}

// dueCursor is the first UTC day whose due partitions may still hold items.
type dueCursor struct {
	Day string `json:"day"`
}

// sweeper is the actor recorded on coupons the sweep expires.
const sweeper = "sweep"

// The sweep's shape: how many due partitions it reads at once, and how many
// due items it asks for per query page.
const (
	sweepWorkers = 8
	duePage      = 100
)

// ExpireDue expires available coupons whose validity ended before now. It
// reads only the due index (each UTC day's shards and the day's own
// partition, from the stored cursor to today, several at a time), never the
// table. Due items are settled store.MaxWrite/4 to an atomic write, items of
// different partitions together; each expiry is conditioned on the coupon's
// version, so two overlapping runs, or a redemption racing the sweep,
// expire a coupon at most once: a batch that loses such a race is settled
// item by item instead. It stops after limit due items or when ctx is done,
// reporting More, and the next run continues where it stopped: settled items
// are removed from the index, and the cursor moves past a day only when
// every partition of it is done. Store failures are returned with the
// progress made so far; a store call cut short by ctx is a normal stop.
func (s *Service) ExpireDue(ctx context.Context, now time.Time, limit int) (Progress, error) {
	const op = "coupons.ExpireDue"
	if limit <= 0 {
		return Progress{}, errs.E(op, errs.Invalid, "limit must be positive")
	}
	p, err := s.expireDue(ctx, now, limit)
	if err != nil && ctx.Err() != nil {
		// The deadline cut a store call short: a normal stop, not a failure.
		p.More = true
		return p, nil
	}
	return p, err
}

func (s *Service) expireDue(ctx context.Context, now time.Time, limit int) (Progress, error) {
	const op = "coupons.ExpireDue"
	now = now.UTC().Truncate(time.Second)
	cur, ver, err := s.cursor(ctx, now)
	if err != nil {
		return Progress{}, errs.E(op, err)
	}
	today := dueDay(now)
	var days []string
	for d := cur; d <= today; d = nextDay(d) {
		days = append(days, d)
	}
	w := &dueWalk{s: s, now: now, limit: limit, left: make([]int, len(days))}
	// Days are walked in order, so that a run cut short has finished the
	// days before the one it was reading; a day's partitions are read in
	// parallel.
	for i, d := range days {
		if ctx.Err() != nil || w.room() == 0 {
			w.left[i] = 1 // Not read.
			continue
		}
		pks := duePartitions(d)
		w.left[i] = len(pks)
		err = parallel.Each(ctx, sweepWorkers, len(pks), func(ctx context.Context, j int) error {
			return w.walk(ctx, duePart{day: i, pk: pks[j]})
		})
		if err != nil {
			break
		}
	}
	if err == nil {
		err = w.settle(ctx, w.rest())
	}
	// However the run ends, even cut off by its deadline, the cursor moves
	// past the days it finished, so the next run does not read them again.
	open := cur
	for i, d := range days {
		if d == today || w.left[i] > 0 {
			break
		}
		open = nextDay(d)
	}
	if aerr := store.AdvanceDay(ctx, s.st, cursorKey(), cur, open, ver); err == nil {
		err = aerr
	}
	p := w.p
	p.More = w.more()
	if err != nil {
		return p, errs.E(op, err)
	}
	return p, nil
}

// duePart is one due partition of the walk and the index of its day.
type duePart struct {
	day int
	pk  string
}

// dueWalk is one run's shared state: how many items it took on, what it
// did, and the due items read but not yet settled, which are settled a full
// batch at a time whichever partitions they came from.
type dueWalk struct {
	s     *Service
	now   time.Time
	limit int

	mu      sync.Mutex
	taken   int
	p       Progress
	pending []dueItem
	// left counts per day the partitions not yet read to their end and the
	// items taken on but not settled: a day is done when it reaches 0.
	left []int
}

// walk reads one due partition a page at a time and settles its items,
// until the partition is empty of due items or the run's limit is reached.
func (w *dueWalk) walk(ctx context.Context, part duePart) error {
	after := ""
	for {
		room := w.room()
		if room == 0 {
			return nil
		}
		pg, err := w.s.st.Query(ctx, store.Query{PK: part.pk, Before: dueSK(w.now, ""), After: after,
			Limit: min(duePage, room)})
		if err != nil {
			return err
		}
		full, took := w.take(part.day, pg.Items)
		err = parallel.Each(ctx, len(full), len(full), func(ctx context.Context, i int) error {
			return w.settle(ctx, full[i])
		})
		if err != nil {
			return err
		}
		if took < len(pg.Items) {
			return nil // The limit cut the page: the partition stays open.
		}
		if pg.Next == "" {
			w.mu.Lock()
			w.left[part.day]--
			w.mu.Unlock()
			return nil
		}
		after = pg.Next
	}
}

// room is how many more due items the run may take on.
func (w *dueWalk) room() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.limit - w.taken
}

// take takes on as many of a page's items as the limit allows and returns
// the full batches now pending, for the caller to settle, and how many
// items it took.
func (w *dueWalk) take(day int, items []store.Item) (full [][]dueItem, took int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	took = min(len(items), w.limit-w.taken)
	w.taken += took
	w.left[day] += took
	for _, it := range items[:took] {
		w.pending = append(w.pending, readDue(it, day))
	}
	for len(w.pending) >= batch {
		full = append(full, w.pending[:batch:batch])
		w.pending = w.pending[batch:]
	}
	return full, took
}

// rest returns the items still pending once every partition was read.
func (w *dueWalk) rest() []dueItem {
	w.mu.Lock()
	defer w.mu.Unlock()
	rest := w.pending
	w.pending = nil
	return rest
}

// settle settles a batch and books the outcome.
func (w *dueWalk) settle(ctx context.Context, items []dueItem) error {
	if len(items) == 0 {
		return nil
	}
	expired, cleaned, err := w.s.expireBatch(ctx, w.now, items)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.p.Expired += expired
	w.p.Cleaned += cleaned
	if err != nil {
		return err // The batch's days stay open.
	}
	for _, d := range items {
		w.left[d.day]--
	}
	return nil
}

// more reports whether any day has work left.
func (w *dueWalk) more() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range w.left {
		if n > 0 {
			return true
		}
	}
	return false
}

// cursor loads the sweep cursor; without one it starts Lookback ago.
func (s *Service) cursor(ctx context.Context, now time.Time) (string, int64, error) {
	var c dueCursor
	it, err := store.GetJSON(ctx, s.st, cursorKey(), &c)
	if errs.Is(errs.NotExist, err) {
		return dueDay(now.Add(-s.lookback)), 0, nil
	}
	if err != nil {
		return "", 0, err
	}
	return c.Day, it.Version, nil
}

// nextDay returns the UTC day after day (yyyymmdd).
func nextDay(day string) string {
	t, err := time.Parse(dayLayout, day)
	if err != nil {
		return "99991231" // Unreachable for cursors we wrote; ends the walk.
	}
	return t.AddDate(0, 0, 1).Format(dayLayout)
}
