// Package loyaltytest is the loyalty engine's behaviour suite, written
// against the store port so it runs on every adapter (bbolt in the
// package's own tests, DynamoDB Local in tests/domain). Call RunSuite from a
// test and the Bench functions from benchmarks.
package loyaltytest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/store/storetest"
)

// Opener returns a fresh, empty store for one test; it should register its
// own cleanup (t.Cleanup).
type Opener func(t *testing.T) store.Store

// SuiteOption adjusts RunSuite for a backend.
type SuiteOption func(*suiteConfig)

type suiteConfig struct {
	workers int
}

// WithWorkers sets how many goroutines send the ~1,000 commands of the
// concurrent earn/spend test (default 16). A backend with a slower round
// trip (DynamoDB Local) passes fewer, so that contention on the one hot
// member stays within the retry budget and the test within seconds.
func WithWorkers(n int) SuiteOption { return func(c *suiteConfig) { c.workers = max(1, n) } }

// RunSuite runs every loyalty behaviour test against stores from open.
func RunSuite(t *testing.T, open Opener, opts ...SuiteOption) {
	cfg := suiteConfig{workers: 16}
	for _, o := range opts {
		o(&cfg)
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"RulesDefaults", testRulesDefaults},
		{"RulesValidation", testRulesValidation},
		{"RulesVersioning", testRulesVersioning},
		{"RulesKept", testRulesKept},
		{"EarnSpendLedger", testEarnSpendLedger},
		{"IdempotentKey", testIdempotentKey},
		{"KeyReusedForOtherCommand", testKeyReused},
		{"SpendFIFOAcrossExpiries", testSpendFIFO},
		{"PendingNotSpendable", testPending},
		{"NeverNegative", testNeverNegative},
		{"SpendTooManyLots", testTooManyLots},
		{"ReverseClawBackAndDebt", testReverseClawBack},
		{"ReverseDebtMode", testReverseDebtMode},
		{"ReverseAfterExpiry", testReverseAfterExpiry},
		{"Adjust", testAdjust},
		{"ConcurrentEarnSpend", testConcurrentEarnSpend},
		{"ConcurrentSameKey", testConcurrentSameKey},
		{"ExpireDue", testExpireDue},
		{"ExpireDueOverlapping", testExpireOverlapping},
		{"ExpireDueResumes", testExpireResumes},
		{"SweepCancelledMidBatch", testSweepCancelledMidBatch},
		{"SweepCursorSavedAtDeadline", testSweepCursorSavedAtDeadline},
		{"DueIndexSharded", testDueIndexSharded},
		{"SweepBatchWrites", testSweepBatchWrites},
		{"SweepBatchContended", testSweepBatchContended},
		{"SweepOverlappingBatches", testSweepOverlappingBatches},
		{"SweepBatchAnswerLost", testSweepBatchAnswerLost},
		{"SweepUnsharded", testSweepUnsharded},
		{"ReleaseDue", testReleaseDue},
		{"ExpiringWithin", testExpiringWithin},
		{"LevelUpgradeImmediate", testLevelUpgrade},
		{"LevelBySpend", testLevelBySpend},
		{"Standing", testStanding},
		{"LevelDowngradeAfterGrace", testDowngradeGrace},
		{"LevelDowngradeModes", testDowngradeModes},
		{"LevelReviewOverlapping", testReviewOverlapping},
		{"SetLevelKeptWhileBetter", testSetLevel},
		{"LevelEndsSet", testLevelEndsSet},
		{"LevelEndsGrace", testLevelEndsGrace},
		{"LevelEndsStale", testLevelEndsStale},
		{"LevelEndsMerge", testLevelEndsMerge},
		{"LevelEndsUnsharded", testLevelEndsUnsharded},
		{"SignInStreak", testSignIn},
		{"SignInOneWrite", testSignInOneWrite},
		{"SignInCrash", testSignInCrash},
		{"SignInConcurrent", testSignInConcurrent},
		{"SignInStreakCoupon", testSignInStreakCoupon},
		{"SignInStreakCrash", testSignInStreakCrash},
		{"SignInStreakConcurrent", testSignInStreakConcurrent},
		{"SignInStreakCouponMissed", testSignInStreakCouponMissed},
		{"SignInAfterAbsorb", testSignInAfterAbsorb},
		{"SignInAcrossMerge", testSignInAcrossMerge},
		{"Absorb", testAbsorb},
		{"AbsorbConcurrent", testAbsorbConcurrent},
		{"AbsorbManyLots", testAbsorbManyLots},
		{"AbsorbWhileBusy", testAbsorbWhileBusy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, open(t))
			e.cfg = cfg
			tc.fn(t, e)
		})
	}
}

// Start is the suite's starting instant: 10:00 on 10 March 2026, Shanghai.
var Start = time.Date(2026, 3, 10, 10, 0, 0, 0, calendar.Zone())

// Clock is a settable clock safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Add moves the clock forward by d.
func (c *Clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// IDs returns an ID generator of increasing, fixed-width ids.
func IDs() func() string {
	var n atomic.Int64
	return func() string { return fmt.Sprintf("id%010d", n.Add(1)) }
}

type env struct {
	t   *testing.T
	ctx context.Context
	st  store.Store
	clk *Clock
	svc *loyalty.Service
	ids func() string
	cfg suiteConfig
}

func newEnv(t *testing.T, st store.Store) *env {
	clk, ids := NewClock(Start), IDs()
	e := &env{t: t, ctx: context.Background(), st: st, clk: clk, ids: ids, svc: loyalty.New(st, clk.Now, ids)}
	if _, err := e.svc.InstallDefaults(e.ctx); err != nil {
		t.Fatalf("InstallDefaults: %v", err)
	}
	return e
}

// faulty returns a service over the env's store seen through a storetest.Faults,
// sharing the env's clock and ID source.
func (e *env) faulty(opts ...loyalty.Option) (*storetest.Faults, *loyalty.Service) {
	f := &storetest.Faults{Store: e.st}
	return f, loyalty.New(f, e.clk.Now, e.ids, opts...)
}

// days is n days as a duration.
func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func (e *env) setRules(f func(r *loyalty.Rules)) {
	e.t.Helper()
	r, err := e.svc.Rules(e.ctx)
	if err != nil {
		e.t.Fatalf("Rules: %v", err)
	}
	f(&r)
	if _, err := e.svc.SetRules(e.ctx, r, "op:test"); err != nil {
		e.t.Fatalf("SetRules: %v", err)
	}
}

func (e *env) earn(member string, pts int64, key string, exp *loyalty.ExpiryRule, pending int) loyalty.Entry {
	e.t.Helper()
	en, err := e.svc.Earn(e.ctx, loyalty.EarnCmd{MemberID: member, Points: pts, Reason: "test", Key: key,
		Source: loyalty.Source{EventID: key}, Expiry: exp, PendingDays: pending})
	if err != nil {
		e.t.Fatalf("Earn %s: %v", key, err)
	}
	return en
}

func (e *env) spend(member string, pts int64, key string) (loyalty.Entry, error) {
	return e.svc.Spend(e.ctx, loyalty.SpendCmd{MemberID: member, Points: pts, Reason: "exchange", Key: key,
		Source: loyalty.Source{OrderID: key}})
}

func (e *env) balance(member string) loyalty.Balance {
	e.t.Helper()
	b, err := e.svc.Balance(e.ctx, member)
	if err != nil {
		e.t.Fatalf("Balance: %v", err)
	}
	return b
}

// wantBalance checks available, pending and debt.
func (e *env) wantBalance(member string, avail, pending, debt int64) {
	e.t.Helper()
	b := e.balance(member)
	if b.Available != avail || b.Pending != pending || b.Debt != debt {
		e.t.Fatalf("balance of %s: got available %d pending %d debt %d, want %d %d %d",
			member, b.Available, b.Pending, b.Debt, avail, pending, debt)
	}
}

func (e *env) ledger(member string) []loyalty.Entry {
	e.t.Helper()
	var all []loyalty.Entry
	cursor := ""
	for {
		page, next, err := e.svc.Ledger(e.ctx, member, cursor, 50)
		if err != nil {
			e.t.Fatalf("Ledger: %v", err)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		cursor = next
	}
}

func (e *env) level(member string) loyalty.LevelView {
	e.t.Helper()
	v, err := e.svc.Level(e.ctx, member)
	if err != nil {
		e.t.Fatalf("Level: %v", err)
	}
	return v
}

func (e *env) growth(member string, g int64, key string) {
	e.t.Helper()
	if _, err := e.svc.AddGrowth(e.ctx, loyalty.GrowthCmd{MemberID: member, Growth: g, Reason: "test", Key: key}); err != nil {
		e.t.Fatalf("AddGrowth %s: %v", key, err)
	}
}

func wantKind(t *testing.T, what string, err error, kind errs.Kind) {
	t.Helper()
	if got := errs.KindOf(err); err == nil || got != kind {
		t.Fatalf("%s: got error %v (kind %v), want kind %v", what, err, got, kind)
	}
}

func rolling(n int) *loyalty.ExpiryRule {
	return &loyalty.ExpiryRule{Mode: loyalty.ExpireRolling, Days: n}
}
