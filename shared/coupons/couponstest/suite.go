// Package couponstest is the coupon rules' test suite, written against the
// store port so it runs on every adapter: bbolt in package coupons' own
// tests, DynamoDB Local in tests/domain.
package couponstest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// Opener returns a fresh, empty store for one test; the test closes it.
type Opener func(t *testing.T) store.Store

// Option tunes a suite run.
type Option func(*suiteConfig)

type suiteConfig struct {
	contenders, workers int
}

// WithContenders sets how many members race, over how many goroutines, for
// the 100 coupons of the stock concurrency test (default 1000 over 32). A
// remote store (DynamoDB Local, a few milliseconds a round trip) keeps the
// suite short with fewer; more contenders than stock still prove the cap.
func WithContenders(members, workers int) Option {
	return func(c *suiteConfig) { c.contenders, c.workers = members, workers }
}

// RunSuite runs every coupon rule test against the stores open returns.
func RunSuite(t *testing.T, open Opener, opts ...Option) {
	cfg := suiteConfig{contenders: 1000, workers: 32}
	for _, o := range opts {
		o(&cfg)
	}
	tests := []struct {
		name string
		run  func(*testing.T, Opener)
	}{
		{"TemplateSave", testTemplateSave},
		{"TemplateValidation", testTemplateValidation},
		{"ShardedStockOnlyGrows", testShardedStockOnlyGrows},
		{"InstallDefaults", testInstallDefaults},
		{"IssueRecordsEverything", testIssueRecordsEverything},
		{"IssueRefusals", testIssueRefusals},
		{"IssueKeyOnce", testIssueKeyOnce},
		{"IssueKeyConcurrent", testIssueKeyConcurrent},
		{"IssueKeyRecord", testIssueKeyRecord},
		{"IssueReordered", testIssueReordered},
		{"PrepareIssue", testPrepareIssue},
		{"StockUnderConcurrency", func(t *testing.T, open Opener) {
			testStockUnderConcurrency(t, open, cfg.contenders, cfg.workers)
		}},
		{"TakeLimitUnderConcurrency", testTakeLimitUnderConcurrency},
		{"ShardedStockGrows", testShardedStockGrows},
		{"RedeemOnce", testRedeemOnce},
		{"RedeemRescan", testRedeemRescan},
		{"RedeemFields", testRedeemFields},
		{"RedeemConcurrent", testRedeemConcurrent},
		{"RedeemValidity", testRedeemValidity},
		{"Revoke", testRevoke},
		{"ListPaging", testListPaging},
		{"ExpireDue", testExpireDue},
		{"ExpireDueOverlapping", testExpireDueOverlapping},
		{"ExpireDueResumable", testExpireDueResumable},
		{"ExpireDueAcrossDays", testExpireDueAcrossDays},
		{"ExpireDueCursorSavedAtDeadline", testExpireDueCursorSavedAtDeadline},
		{"ExpireDueSharded", testExpireDueSharded},
		{"ExpireDueBatched", testExpireDueBatched},
		{"ExpireDueContendedBatch", testExpireDueContendedBatch},
		{"ExpireDueOverlappingBatch", testExpireDueOverlappingBatch},
		{"ExpireDueEarlierIndex", testExpireDueEarlierIndex},
		{"ExpiringSoon", testExpiringSoon},
		{"Triggers", testTriggers},
		{"TriggersFromRules", testTriggersFromRules},
		{"Absorb", testAbsorb},
		{"AbsorbAgain", testAbsorbAgain},
		{"AbsorbConcurrent", testAbsorbConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open) })
	}
}

// t0 is the suite's starting time: 10:00 in Shanghai on 10 March 2026.
func t0() time.Time { return time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC) }

// clock is a settable clock safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// env is one test's service over a fresh store.
type env struct {
	t   *testing.T
	ctx context.Context
	st  store.Store
	clk *clock
	svc *coupons.Service
}

func newEnv(t *testing.T, open Opener) *env {
	t.Helper()
	st := open(t)
	t.Cleanup(func() { _ = st.Close() })
	clk := &clock{t: t0()}
	return &env{t: t, ctx: context.Background(), st: st, clk: clk,
		svc: coupons.New(st, coupons.Config{Now: clk.Now})}
}

// tpl returns a valid active amount-off template to adjust.
func tpl(id string) coupons.Template {
	return coupons.Template{ID: id, Name: "test " + id, Kind: coupons.AmountOff, AmountOff: 500,
		Scope: coupons.Scope{Kind: coupons.ScopeAll}, Validity: coupons.Validity{Kind: coupons.Relative, Days: 7},
		Status: coupons.Active}
}

// save stores a new template or fails the test.
func (e *env) save(t coupons.Template) coupons.Template {
	e.t.Helper()
	got, err := e.svc.SaveTemplate(e.ctx, t, "op-alice")
	if err != nil {
		e.t.Fatalf("SaveTemplate(%s): %v", t.ID, err)
	}
	return got
}

// issue issues a coupon or fails the test.
func (e *env) issue(tplID, member, key string) coupons.Instance {
	e.t.Helper()
	got, err := e.svc.Issue(e.ctx, coupons.IssueCmd{TemplateID: tplID, MemberID: member, Reason: "test", Key: key})
	if err != nil {
		e.t.Fatalf("Issue(%s, %s, %s): %v", tplID, member, key, err)
	}
	return got.Instance
}

// list returns all of a member's coupons with the given status filter.
func (e *env) list(member string, st coupons.Status) []coupons.Instance {
	e.t.Helper()
	var out []coupons.Instance
	q := coupons.ListQuery{MemberID: member, Status: st, Limit: 100}
	for {
		pg, err := e.svc.List(e.ctx, q)
		if err != nil {
			e.t.Fatalf("List(%s, %q): %v", member, st, err)
		}
		out = append(out, pg.Items...)
		if pg.Next == "" {
			return out
		}
		q.Cursor = pg.Next
	}
}

// taken returns a template's issued count.
func (e *env) taken(id string) int64 {
	e.t.Helper()
	n, err := e.svc.Taken(e.ctx, id)
	if err != nil {
		e.t.Fatalf("Taken(%s): %v", id, err)
	}
	return n
}

// wantKind fails the test unless err has the kind.
func wantKind(t *testing.T, what string, err error, kind errs.Kind) {
	t.Helper()
	if got := errs.KindOf(err); got != kind || err == nil {
		t.Fatalf("%s: got error %v (kind %v), want kind %v", what, err, got, kind)
	}
}

// parallel runs f(i) for i in [0, n) on at most workers goroutines.
func parallel(n, workers int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
