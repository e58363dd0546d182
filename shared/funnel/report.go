package funnel

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/parallel"
	"github.com/wemember/wemember/shared/store"
)

// DateLayout is how a report's dates are written: a Shanghai calendar day.
const DateLayout = "2006-01-02"

// MaxDays is the longest range a report covers, in days (both ends
// included): a quarter.
const MaxDays = 92

// DefaultRows and MaxRows bound the rows of a report broken down by a
// dimension.
const (
	DefaultRows = 100
	MaxRows     = 1000
)

// Report is the funnel over a date range, in total or broken down by a
// dimension.
type Report struct {
	From string    `json:"from"` // First day, YYYY-MM-DD (Shanghai).
	To   string    `json:"to"`   // Last day, included.
	By   Dimension `json:"by"`   // "" for the total.
	// Rows are the total (one row, Value "") or one row per value of the
	// dimension, the most registrations first.
	Rows []Row `json:"rows"`
	// More says rows were left out beyond the limit.
	More bool `json:"more"`
}

// Row is the funnel of one value of a dimension (or of everything).
type Row struct {
	Value  string `json:"value"`
	Counts Counts `json:"counts"`
	Rates  Rates  `json:"rates"`
	// MeanSeconds is the mean time to each step from the previous one,
	// over the events whose time was known; 0 when none was.
	MeanSeconds MeanTimes `json:"mean_seconds"`
}

// Counts counts the events of each step.
type Counts struct {
	Share      int64 `json:"share"`
	Open       int64 `json:"open"`
	Register   int64 `json:"register"`
	FirstOrder int64 `json:"first_order"`
}

// Rates are the conversions between steps; 0 when the earlier step has no
// events.
type Rates struct {
	OpenPerShare          float64 `json:"open_per_share"`
	RegisterPerOpen       float64 `json:"register_per_open"`
	FirstOrderPerRegister float64 `json:"first_order_per_register"`
	RegisterPerShare      float64 `json:"register_per_share"`
}

// MeanTimes are the mean times to a step, in seconds.
type MeanTimes struct {
	Open       float64 `json:"open"`
	Register   float64 `json:"register"`
	FirstOrder float64 `json:"first_order"`
}

// tally sums one row's items.
type tally struct {
	count, timed, seconds [4]int64 // Per step, in Steps order.
}

func stepIndex(st Step) int { return slices.Index(Steps(), st) }

func (t *tally) add(st Step, timed bool, n int64) {
	i := stepIndex(st)
	if i < 0 {
		return
	}
	c, secs := unpack(n)
	t.count[i] += c
	if timed {
		t.timed[i] += c
		t.seconds[i] += secs
	}
}

func (t *tally) row(v string) Row {
	r := Row{Value: v, Counts: Counts{Share: t.count[0], Open: t.count[1], Register: t.count[2], FirstOrder: t.count[3]}}
	r.Rates = Rates{OpenPerShare: ratio(t.count[1], t.count[0]), RegisterPerOpen: ratio(t.count[2], t.count[1]),
		FirstOrderPerRegister: ratio(t.count[3], t.count[2]), RegisterPerShare: ratio(t.count[2], t.count[0])}
	r.MeanSeconds = MeanTimes{Open: ratio(t.seconds[1], t.timed[1]), Register: ratio(t.seconds[2], t.timed[2]),
		FirstOrder: ratio(t.seconds[3], t.timed[3])}
	return r
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Report answers the funnel from the day from to the day to (YYYY-MM-DD,
// Shanghai, both included), in total (by ByTotal) or per value of by, at
// most limit rows (DefaultRows when 0). It reads, per day, the day's
// aggregate items (the total by key, a dimension by querying each shard of
// the day), eventually consistent: a report is only shown. A malformed or
// reversed range, one over MaxDays, an unknown dimension or a limit out of
// 0…MaxRows is errs.Invalid.
func (s *Service) Report(ctx context.Context, from, to string, by Dimension, limit int) (Report, error) {
	const op = "funnel.Report"
	days, err := span(from, to)
	if err != nil {
		return Report{}, errs.E(op, err)
	}
	if by != ByTotal && !slices.Contains(Dimensions(), by) {
		return Report{}, errs.E(op, errs.Invalid, "by must be empty or one of trigger, channel, code, inviter")
	}
	if limit < 0 || limit > MaxRows {
		return Report{}, errs.E(op, errs.Invalid, "limit must be between 0 and "+strconv.Itoa(MaxRows))
	}
	if limit == 0 {
		limit = DefaultRows
	}
	var (
		mu    sync.Mutex
		rows  = map[string]*tally{}
		count = func(v string, st Step, timed bool, n int64) {
			mu.Lock()
			defer mu.Unlock()
			t := rows[v]
			if t == nil {
				t = &tally{}
				rows[v] = t
			}
			t.add(st, timed, n)
		}
	)
	if by == ByTotal {
		err = parallel.Each(ctx, 8, len(days), func(ctx context.Context, i int) error {
			return s.readTotal(ctx, days[i], count)
		})
	} else {
		err = parallel.Each(ctx, 32, len(days)*store.Shards, func(ctx context.Context, i int) error {
			pk := store.ShardPK(dayPartition(days[i/store.Shards]), i%store.Shards)
			return s.readDimension(ctx, pk, by, count)
		})
	}
	if err != nil {
		return Report{}, errs.E(op, err)
	}
	rep := Report{From: from, To: to, By: by, Rows: []Row{}}
	if by == ByTotal {
		t := rows[""]
		if t == nil {
			t = &tally{}
		}
		rep.Rows = append(rep.Rows, t.row(""))
		return rep, nil
	}
	for v, t := range rows {
		rep.Rows = append(rep.Rows, t.row(v))
	}
	slices.SortFunc(rep.Rows, func(a, b Row) int {
		return cmp.Or(cmp.Compare(b.Counts.Register, a.Counts.Register), cmp.Compare(b.Counts.FirstOrder, a.Counts.FirstOrder),
			cmp.Compare(b.Counts.Open, a.Counts.Open), cmp.Compare(b.Counts.Share, a.Counts.Share), strings.Compare(a.Value, b.Value))
	})
	if len(rep.Rows) > limit {
		rep.Rows, rep.More = rep.Rows[:limit], true
	}
	return rep, nil
}

// span lists the days (yyyymmdd) from from to to, checking the range.
func span(from, to string) ([]string, error) {
	const op = "funnel.span"
	a, errA := time.ParseInLocation(DateLayout, from, calendar.Zone())
	b, errB := time.ParseInLocation(DateLayout, to, calendar.Zone())
	if errA != nil || errB != nil {
		return nil, errs.E(op, errs.Invalid, "from and to must be dates as YYYY-MM-DD")
	}
	if b.Before(a) {
		return nil, errs.E(op, errs.Invalid, "to must not be before from")
	}
	n := int(calendar.Date(b).Sub(calendar.Date(a))/(24*time.Hour)) + 1
	if n > MaxDays {
		return nil, errs.E(op, errs.Invalid, "a report covers at most "+strconv.Itoa(MaxDays)+" days")
	}
	days := make([]string, n)
	for i := range days {
		days[i] = calendar.Day(a.AddDate(0, 0, i))
	}
	return days, nil
}

// readTotal reads a day's total items by key: every shard, step and mark.
func (s *Service) readTotal(ctx context.Context, day string, count func(string, Step, bool, int64)) error {
	type slot struct {
		st    Step
		timed bool
	}
	var (
		keys  []store.Key
		slots []slot
	)
	for _, pk := range store.ShardPKs(dayPartition(day)) {
		for _, st := range Steps() {
			for _, timed := range []bool{false, true} {
				keys = append(keys, store.K(pk, itemSK(ByTotal, st, timed, "")))
				slots = append(slots, slot{st, timed})
			}
		}
	}
	items, err := s.st.GetMany(ctx, keys, store.Eventual)
	if err != nil {
		return err
	}
	for i, it := range items {
		if it.Found() {
			count("", slots[i].st, slots[i].timed, it.N)
		}
	}
	return nil
}

// readDimension reads one shard partition's items of dimension by, a page
// at a time.
func (s *Service) readDimension(ctx context.Context, pk string, by Dimension, count func(string, Step, bool, int64)) error {
	q := store.Query{PK: pk, Prefix: string(by) + "#", Consistency: store.Eventual}
	for {
		page, err := s.st.Query(ctx, q)
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			parts := strings.SplitN(it.SK, "#", 4)
			if len(parts) != 4 {
				continue
			}
			count(parts[3], Step(parts[1]), parts[2] == "t", it.N)
		}
		if page.Next == "" {
			return nil
		}
		q.After = page.Next
	}
}
