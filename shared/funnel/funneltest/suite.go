// Package funneltest is the funnel's test suite, written against the store
// port so it runs on every adapter: bbolt in package funnel's own tests,
// DynamoDB Local in tests/domain.
package funneltest

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/funnel"
	"github.com/wemember/wemember/shared/parallel"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
)

// Opener returns a fresh, empty store for one test; the test closes it.
type Opener func(t *testing.T) store.Store

// Option tunes a suite run.
type Option func(*suiteConfig)

type suiteConfig struct {
	registrations, workers int
}

// WithRegistrations sets how many registrations race, over how many
// goroutines, in the concurrency test (default 1000 over 32). A remote
// store keeps the suite short with fewer.
func WithRegistrations(n, workers int) Option {
	return func(c *suiteConfig) { c.registrations, c.workers = n, workers }
}

// Noon is the suite's clock: 2026-12-01 12:00 in Shanghai.
func Noon() time.Time { return time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC) }

// RunSuite runs every funnel test against the stores open returns.
func RunSuite(t *testing.T, open Opener, opts ...Option) {
	cfg := suiteConfig{registrations: 1000, workers: 32}
	for _, o := range opts {
		o(&cfg)
	}
	tests := []struct {
		name string
		run  func(*testing.T, Opener)
	}{
		{"CountsPerDimension", testCountsPerDimension},
		{"RatesAndMeanTimes", testRatesAndMeanTimes},
		{"ShanghaiDays", testShanghaiDays},
		{"RangeValidation", testRangeValidation},
		{"EventValidation", testEventValidation},
		{"MutationsComposeIntoOneWrite", testMutationsCompose},
		{"RowLimit", testRowLimit},
		{"ElapsedCeiling", testElapsedCeiling},
		{"ConcurrentRegistrations", func(t *testing.T, open Opener) {
			testConcurrentRegistrations(t, open, cfg.registrations, cfg.workers)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open) })
	}
}

type env struct {
	t   *testing.T
	ctx context.Context
	st  store.Store
	svc *funnel.Service
}

func newEnv(t *testing.T, open Opener) *env {
	st := open(t)
	return &env{t: t, ctx: context.Background(), st: st, svc: funnel.New(st, Noon)}
}

func (e *env) record(ev funnel.Event) {
	e.t.Helper()
	if err := e.svc.Record(e.ctx, ev); err != nil {
		e.t.Fatalf("Record(%+v): %v", ev, err)
	}
}

func (e *env) report(from, to string, by funnel.Dimension, limit int) funnel.Report {
	e.t.Helper()
	r, err := e.svc.Report(e.ctx, from, to, by, limit)
	if err != nil {
		e.t.Fatalf("Report(%s, %s, %q): %v", from, to, by, err)
	}
	return r
}

// rows maps a report's rows by value.
func rows(r funnel.Report) map[string]funnel.Row {
	m := map[string]funnel.Row{}
	for _, row := range r.Rows {
		m[row.Value] = row
	}
	return m
}

func (e *env) wantCounts(what string, got, want funnel.Counts) {
	e.t.Helper()
	if got != want {
		e.t.Errorf("%s counts = %+v, want %+v", what, got, want)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// testCountsPerDimension records a small funnel and finds every event
// counted in the total and under each value it carries, and nowhere else.
func testCountsPerDimension(t *testing.T, open Opener) {
	e := newEnv(t, open)
	share := funnel.Event{Step: funnel.StepShare, Trigger: "benefits", Channel: "mp-share", Code: "c1", Inviter: "alice", Subject: "alice"}
	e.record(share)
	e.record(share)
	share2 := funnel.Event{Step: funnel.StepShare, Trigger: "order_complete", Channel: "oa-qr", Code: "c2", Inviter: "bob", Subject: "bob"}
	e.record(share2)
	e.record(funnel.Event{Step: funnel.StepOpen, Trigger: "benefits", Channel: "mp-share", Code: "c1", Inviter: "alice", Subject: "v1"})
	e.record(funnel.Event{Step: funnel.StepOpen, Channel: "short-link", Subject: "v2"}) // No code, trigger or inviter known.
	e.record(funnel.Event{Step: funnel.StepRegister, Trigger: "benefits", Channel: "mp-share", Code: "c1", Inviter: "alice", Subject: "carol"})
	e.record(funnel.Event{Step: funnel.StepFirstOrder, Code: "c1", Inviter: "alice", Subject: "carol"})

	total := e.report("2026-12-01", "2026-12-01", funnel.ByTotal, 0)
	if len(total.Rows) != 1 || total.Rows[0].Value != "" {
		t.Fatalf("total rows = %+v, want one row", total.Rows)
	}
	e.wantCounts("total", total.Rows[0].Counts, funnel.Counts{Share: 3, Open: 2, Register: 1, FirstOrder: 1})
	if total.From != "2026-12-01" || total.To != "2026-12-01" || total.By != funnel.ByTotal || total.More {
		t.Errorf("total report header = %+v", total)
	}

	want := map[funnel.Dimension]map[string]funnel.Counts{
		funnel.ByTrigger: {"benefits": {Share: 2, Open: 1, Register: 1}, "order_complete": {Share: 1}},
		funnel.ByChannel: {"mp-share": {Share: 2, Open: 1, Register: 1}, "oa-qr": {Share: 1}, "short-link": {Open: 1}},
		funnel.ByCode:    {"c1": {Share: 2, Open: 1, Register: 1, FirstOrder: 1}, "c2": {Share: 1}},
		funnel.ByInviter: {"alice": {Share: 2, Open: 1, Register: 1, FirstOrder: 1}, "bob": {Share: 1}},
	}
	for by, values := range want {
		r := e.report("2026-12-01", "2026-12-01", by, 0)
		got := rows(r)
		if len(got) != len(values) {
			t.Errorf("by %s: rows %+v, want values %v", by, r.Rows, values)
		}
		for v, c := range values {
			e.wantCounts(fmt.Sprintf("by %s %q", by, v), got[v].Counts, c)
		}
	}
	// The next day is empty: the total is one row of zeros, a dimension none.
	if r := e.report("2026-12-02", "2026-12-02", funnel.ByTotal, 0); len(r.Rows) != 1 || r.Rows[0].Counts != (funnel.Counts{}) {
		t.Errorf("empty day total = %+v", r.Rows)
	}
	if r := e.report("2026-12-02", "2026-12-02", funnel.ByCode, 0); len(r.Rows) != 0 {
		t.Errorf("empty day by code = %+v, want no rows", r.Rows)
	}
}

// testRatesAndMeanTimes checks the conversions and that mean times average
// only the events whose time was known.
func testRatesAndMeanTimes(t *testing.T, open Opener) {
	e := newEnv(t, open)
	for i := range 4 {
		e.record(funnel.Event{Step: funnel.StepShare, Channel: "mp-share", Subject: fmt.Sprint("s", i)})
	}
	e.record(funnel.Event{Step: funnel.StepOpen, Channel: "mp-share", Subject: "o1", Elapsed: 60 * time.Second})
	e.record(funnel.Event{Step: funnel.StepOpen, Channel: "mp-share", Subject: "o2", Elapsed: 120 * time.Second})
	e.record(funnel.Event{Step: funnel.StepOpen, Channel: "mp-share", Subject: "o3"}) // Time unknown.
	e.record(funnel.Event{Step: funnel.StepRegister, Channel: "mp-share", Subject: "o1", Elapsed: time.Hour})
	e.record(funnel.Event{Step: funnel.StepRegister, Channel: "mp-share", Subject: "o2", Elapsed: 3 * time.Hour})
	e.record(funnel.Event{Step: funnel.StepFirstOrder, Channel: "mp-share", Subject: "o1", Elapsed: 1500 * time.Millisecond})

	for _, by := range []funnel.Dimension{funnel.ByTotal, funnel.ByChannel} {
		r := e.report("2026-12-01", "2026-12-01", by, 0)
		if len(r.Rows) != 1 {
			t.Fatalf("by %q rows = %+v, want one", by, r.Rows)
		}
		row := r.Rows[0]
		e.wantCounts(string(by), row.Counts, funnel.Counts{Share: 4, Open: 3, Register: 2, FirstOrder: 1})
		wantRates := funnel.Rates{OpenPerShare: 0.75, RegisterPerOpen: 2.0 / 3, FirstOrderPerRegister: 0.5, RegisterPerShare: 0.5}
		got := row.Rates
		if !near(got.OpenPerShare, wantRates.OpenPerShare) || !near(got.RegisterPerOpen, wantRates.RegisterPerOpen) ||
			!near(got.FirstOrderPerRegister, wantRates.FirstOrderPerRegister) || !near(got.RegisterPerShare, wantRates.RegisterPerShare) {
			t.Errorf("by %q rates = %+v, want %+v", by, got, wantRates)
		}
		// Elapsed is counted in whole seconds: 1.5 s is 1 s.
		if m := row.MeanSeconds; m != (funnel.MeanTimes{Open: 90, Register: 7200, FirstOrder: 1}) {
			t.Errorf("by %q mean seconds = %+v, want open 90, register 7200, first order 1", by, m)
		}
	}
}

// testShanghaiDays: an event is counted on its Shanghai day, and a range
// includes both its ends.
func testShanghaiDays(t *testing.T, open Opener) {
	e := newEnv(t, open)
	late := time.Date(2026, 12, 1, 15, 59, 59, 0, time.UTC) // 23:59:59 on the 1st in Shanghai.
	early := late.Add(time.Second)                          // 00:00:00 on the 2nd.
	e.record(funnel.Event{Step: funnel.StepShare, At: late, Subject: "a"})
	e.record(funnel.Event{Step: funnel.StepShare, At: early, Subject: "b"})
	e.record(funnel.Event{Step: funnel.StepShare, At: early.AddDate(0, 0, 1), Subject: "c"}) // The 3rd.
	for _, c := range []struct {
		from, to string
		want     int64
	}{{"2026-12-01", "2026-12-01", 1}, {"2026-12-02", "2026-12-02", 1}, {"2026-12-01", "2026-12-02", 2},
		{"2026-12-01", "2026-12-03", 3}, {"2026-11-30", "2026-11-30", 0}} {
		if got := e.report(c.from, c.to, funnel.ByTotal, 0).Rows[0].Counts.Share; got != c.want {
			t.Errorf("shares %s…%s = %d, want %d", c.from, c.to, got, c.want)
		}
	}
}

// testRangeValidation: malformed, reversed and too long ranges, unknown
// dimensions and limits out of bounds are refused as invalid; a range of
// exactly MaxDays is served.
func testRangeValidation(t *testing.T, open Opener) {
	e := newEnv(t, open)
	bad := []struct {
		from, to string
		by       funnel.Dimension
		limit    int
	}{
		{"2026-12-1", "2026-12-02", "", 0},
		{"20261201", "20261202", "", 0},
		{"2026-02-30", "2026-03-01", "", 0},
		{"", "2026-12-01", "", 0},
		{"2026-12-02", "2026-12-01", "", 0},
		{"2026-08-31", "2026-12-01", "", 0}, // MaxDays + 1.
		{"2026-12-01", "2026-12-01", "phone", 0},
		{"2026-12-01", "2026-12-01", "code", -1},
		{"2026-12-01", "2026-12-01", "code", funnel.MaxRows + 1},
	}
	for _, c := range bad {
		if _, err := e.svc.Report(e.ctx, c.from, c.to, c.by, c.limit); !errs.Is(errs.Invalid, err) {
			t.Errorf("Report(%q, %q, %q, %d) = %v; want invalid", c.from, c.to, c.by, c.limit, err)
		}
	}
	e.record(funnel.Event{Step: funnel.StepShare, Code: "c", Subject: "a", At: time.Date(2026, 9, 1, 4, 0, 0, 0, time.UTC)})
	e.record(funnel.Event{Step: funnel.StepShare, Code: "c", Subject: "b"}) // 2026-12-01.
	// A report by a dimension queries every shard of every day, so the
	// longest range is read in total (by key) and a short one by code.
	for _, c := range []struct {
		from string
		by   funnel.Dimension
		want int64
	}{{"2026-09-01", funnel.ByTotal, 2}, {"2026-09-02", funnel.ByTotal, 1}, {"2026-11-30", funnel.ByCode, 1}} {
		r := e.report(c.from, "2026-12-01", c.by, 0)
		if len(r.Rows) != 1 || r.Rows[0].Counts.Share != c.want {
			t.Errorf("by %q from %s to 2026-12-01 = %+v; want %d shares", c.by, c.from, r.Rows, c.want)
		}
	}
}

// testEventValidation: refused events store nothing.
func testEventValidation(t *testing.T, open Opener) {
	e := newEnv(t, open)
	bad := []funnel.Event{
		{Step: "click"},
		{},
		{Step: funnel.StepShare, Trigger: "homepage"},
		{Step: funnel.StepShare, Channel: "email"},
		{Step: funnel.StepShare, Code: "a#b"},
		{Step: funnel.StepShare, Inviter: "a\nb"},
		{Step: funnel.StepShare, Code: string(make([]byte, funnel.MaxValueLen+1))},
		{Step: funnel.StepOpen, Elapsed: -time.Second},
	}
	for _, ev := range bad {
		if err := e.svc.Record(e.ctx, ev); !errs.Is(errs.Invalid, err) {
			t.Errorf("Record(%+v) = %v; want invalid", ev, err)
		}
		if ms, err := e.svc.Mutations(ev); !errs.Is(errs.Invalid, err) || ms != nil {
			t.Errorf("Mutations(%+v) = %d mutations, %v; want none, invalid", ev, len(ms), err)
		}
	}
	if c := e.report("2026-12-01", "2026-12-01", funnel.ByTotal, 0).Rows[0].Counts; c != (funnel.Counts{}) {
		t.Errorf("after refused events: %+v, want nothing counted", c)
	}
	other := funnel.New(e.st, Noon, funnel.WithTriggers("homepage"), funnel.WithChannels("email"))
	if err := other.Record(e.ctx, funnel.Event{Step: funnel.StepShare, Trigger: "homepage", Channel: "email"}); err != nil {
		t.Errorf("a trigger and channel configured as data: %v", err)
	}
	if err := other.Record(e.ctx, funnel.Event{Step: funnel.StepShare, Trigger: "benefits"}); !errs.Is(errs.Invalid, err) {
		t.Errorf("a default trigger not configured: %v; want invalid", err)
	}
}

// testMutationsCompose: Mutations are a handful of atomic adds that a
// command writes with its own items; a write that fails counts nothing.
func testMutationsCompose(t *testing.T, open Opener) {
	e := newEnv(t, open)
	ev := funnel.Event{Step: funnel.StepRegister, Trigger: "benefits", Channel: "mp-share", Code: "c1", Inviter: "alice",
		Subject: "bob", Elapsed: time.Minute}
	ms, err := e.svc.Mutations(ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 5 {
		t.Errorf("Mutations of a full event = %d, want 5", len(ms))
	}
	for _, m := range ms {
		if m.Op != store.OpAdd || m.Key.PK != ms[0].Key.PK {
			t.Errorf("mutation %+v: want adds in one partition", m)
		}
	}
	if ms, _ := e.svc.Mutations(funnel.Event{Step: funnel.StepOpen}); len(ms) != 1 {
		t.Errorf("Mutations of a bare event = %d, want 1 (the total)", len(ms))
	}
	bind := store.K("test#bind", "bob")
	if err := e.st.Write(e.ctx, append(ms, store.Put(bind, []byte(`{}`)).IfAbsent())...); err != nil {
		t.Fatal(err)
	}
	// The same command again loses its condition: nothing more is counted.
	if err := e.st.Write(e.ctx, append(ms, store.Put(bind, []byte(`{}`)).IfAbsent())...); !errs.Is(errs.Conflict, err) {
		t.Fatalf("repeated write = %v, want conflict", err)
	}
	for _, by := range append(funnel.Dimensions(), funnel.ByTotal) {
		r := e.report("2026-12-01", "2026-12-01", by, 0)
		if len(r.Rows) != 1 || r.Rows[0].Counts != (funnel.Counts{Register: 1}) || r.Rows[0].MeanSeconds.Register != 60 {
			t.Errorf("by %q = %+v; want one registration after 60 s", by, r.Rows)
		}
	}
}

// testRowLimit: rows come the most registrations first, cut at the limit.
func testRowLimit(t *testing.T, open Opener) {
	e := newEnv(t, open)
	for i := range 5 {
		for j := range i + 1 {
			e.record(funnel.Event{Step: funnel.StepRegister, Inviter: fmt.Sprint("m", i), Subject: fmt.Sprint(i, "-", j)})
		}
	}
	r := e.report("2026-12-01", "2026-12-01", funnel.ByInviter, 2)
	if !r.More || len(r.Rows) != 2 || r.Rows[0].Value != "m4" || r.Rows[0].Counts.Register != 5 || r.Rows[1].Value != "m3" {
		t.Errorf("limit 2 = %+v (more %v); want m4 (5), m3 (4) and more", r.Rows, r.More)
	}
	if r := e.report("2026-12-01", "2026-12-01", funnel.ByInviter, 0); r.More || len(r.Rows) != 5 {
		t.Errorf("default limit = %d rows (more %v), want 5", len(r.Rows), r.More)
	}
}

// testElapsedCeiling: a time beyond MaxElapsed counts as MaxElapsed and
// never disturbs the count.
func testElapsedCeiling(t *testing.T, open Opener) {
	e := newEnv(t, open)
	for i := range 3 {
		e.record(funnel.Event{Step: funnel.StepFirstOrder, Subject: fmt.Sprint(i), Elapsed: 10 * funnel.MaxElapsed})
	}
	row := e.report("2026-12-01", "2026-12-01", funnel.ByTotal, 0).Rows[0]
	if row.Counts.FirstOrder != 3 || row.MeanSeconds.FirstOrder != funnel.MaxElapsed.Seconds() {
		t.Errorf("counts %+v, mean %v s; want 3 first orders, mean %v s", row.Counts, row.MeanSeconds.FirstOrder, funnel.MaxElapsed.Seconds())
	}
}

// testConcurrentRegistrations: n registrations through one code, trigger
// and channel, written concurrently as a redemption writes them, are all
// counted — in total and under each value.
func testConcurrentRegistrations(t *testing.T, open Opener, n, workers int) {
	e := newEnv(t, open)
	ctx, cancel := context.WithTimeout(e.ctx, 2*time.Minute)
	defer cancel()
	err := parallel.Each(ctx, workers, n, func(ctx context.Context, i int) error {
		ms, err := e.svc.Mutations(funnel.Event{Step: funnel.StepRegister, Trigger: "benefits", Channel: "mp-share",
			Code: "hot", Inviter: "alice", Subject: fmt.Sprint("invitee-", i), Elapsed: time.Duration(i%10+1) * time.Second})
		if err != nil {
			return err
		}
		ms = append(ms, store.Put(store.K("test#invitee", fmt.Sprint(i)), []byte(`{}`)).IfAbsent())
		// A store too busy for the write is retried, as the redemption does.
		for range retry.Tries(ctx, 5) {
			if err = e.st.Write(ctx, ms...); !errs.Is(errs.Transient, err) {
				break
			}
		}
		return err
	})
	if err != nil {
		t.Fatalf("concurrent registrations: %v", err)
	}
	for _, by := range append(funnel.Dimensions(), funnel.ByTotal) {
		r := e.report("2026-12-01", "2026-12-01", by, 0)
		if len(r.Rows) != 1 || r.Rows[0].Counts != (funnel.Counts{Register: int64(n)}) || !near(r.Rows[0].MeanSeconds.Register, 5.5) {
			t.Errorf("by %q = %+v; want %d registrations, mean 5.5 s", by, r.Rows, n)
		}
	}
}
