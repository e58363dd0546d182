// Package fraudtest is the anti-fraud rules' test suite, written against
// the store port so it runs on every adapter: bbolt in package fraud's own
// tests, DynamoDB Local in tests/domain.
package fraudtest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/fraud"
	"github.com/wemember/wemember/shared/store"
)

// Opener returns a fresh, empty store for one test that decides expiry by
// now, the test's clock; the test closes it.
type Opener func(t testing.TB, now func() time.Time) store.Store

// Option tunes a suite run.
type Option func(*config)

type config struct{ racers int }

// WithRacers sets how many redemptions race in the concurrency tests
// (default 64; at least 40, so that the hourly rate of 30 is crossed).
func WithRacers(n int) Option { return func(c *config) { c.racers = max(n, 40) } }

// RunSuite runs every anti-fraud test against the stores open returns.
func RunSuite(t *testing.T, open Opener, opts ...Option) {
	cfg := config{racers: 64}
	for _, o := range opts {
		o(&cfg)
	}
	tests := []struct {
		name string
		run  func(*testing.T, Opener)
	}{
		{"RulesDefaults", testRulesDefaults},
		{"RulesValidation", testRulesValidation},
		{"RulesVersioned", testRulesVersioned},
		{"AttemptValidation", testAttemptValidation},
		{"InviterDailyEdge", testInviterDailyEdge},
		{"InviterDayIsChinaDay", testInviterDayIsChinaDay},
		{"CountsOnlyInTheRedemptionsWrite", testCountsOnlyInWrite},
		{"IPRateEdgeAndFreeze", testIPRateEdge},
		{"IPRateConcurrent", func(t *testing.T, open Opener) { testIPRateConcurrent(t, open, cfg.racers) }},
		{"InviterDailyConcurrent", func(t *testing.T, open Opener) { testInviterDailyConcurrent(t, open, cfg.racers) }},
		{"DeviceFlag", testDeviceFlag},
		{"EmulatorFlag", testEmulatorFlag},
		{"WhitelistLiftsCaps", testWhitelist},
		{"SpikeAlertOnce", func(t *testing.T, open Opener) { testSpikeAlertOnce(t, open, cfg.racers) }},
		{"SpikeReadsStopAfterAlert", testSpikeReadsStopAfterAlert},
		{"AlertsNewestFirst", testAlertsNewestFirst},
		{"OperatorFreeze", testOperatorFreeze},
		{"FreezesList", testFreezesList},
		{"ReleaseFreezes", testReleaseFreezes},
		{"ReleaseFreezesKeepsARefreeze", testReleaseKeepsRefreeze},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open) })
	}
}

// t0 is the suite's starting time: 10:00 in Shanghai on 10 March 2031,
// after the real clock, so that no store removes the suite's items early.
func t0() time.Time { return time.Date(2031, 3, 10, 2, 0, 0, 0, time.UTC) }

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
	t   testing.TB
	ctx context.Context
	st  store.Store
	clk *clock
	svc *fraud.Service
	// retries counts the redemptions assessed again after a lost race or a
	// busy store.
	retries atomic.Int64
}

func newEnv(t testing.TB, open Opener, opts ...fraud.Option) *env {
	clk := &clock{t: t0()}
	st := open(t, clk.Now)
	t.Cleanup(func() { st.Close() })
	return &env{t: t, ctx: context.Background(), st: st, clk: clk, svc: fraud.New(st, clk.Now, opts...)}
}

// assess assesses a, failing the test on an error.
func (e *env) assess(a fraud.Attempt) fraud.Verdict {
	e.t.Helper()
	v, err := e.svc.Assess(e.ctx, a)
	if err != nil {
		e.t.Fatalf("Assess(%+v): %v", a, err)
	}
	return v
}

// redeem plays a redemption command: it assesses a and, unless refused,
// writes the invitee's binding (once per invitee) with the verdict's
// mutations in one write, retrying as the redemption would: after a lost
// race it assesses again, and a write over the address's rate freezes it.
func (e *env) redeem(a fraud.Attempt) (fraud.Verdict, error) {
	v, err := e.svc.Assess(e.ctx, a)
	if err != nil {
		return v, err
	}
	return e.complete(a, v)
}

// complete finishes a redemption assessed as v, maybe a while ago, as
// redeem does.
func (e *env) complete(a fraud.Attempt, v fraud.Verdict) (fraud.Verdict, error) {
	for range 50 {
		if v.Refuse {
			return v, nil
		}
		ms := append([]store.Mutation{store.Put(store.K("test#bound", a.Invitee), nil).IfAbsent()}, v.Mutations...)
		err := e.st.Write(e.ctx, ms...)
		if err == nil {
			return v, nil
		}
		k, lost := store.FailedKey(err)
		switch {
		case lost && fraud.IsRateKey(k):
			return e.svc.FreezeAfter(e.ctx, a)
		case lost && fraud.Owns(k), errs.Is(errs.Transient, err):
		default:
			return v, err
		}
		e.retries.Add(1)
		if v, err = e.svc.Assess(e.ctx, a); err != nil {
			return v, err
		}
	}
	return fraud.Verdict{}, fmt.Errorf("redeem %s: still losing races after 50 tries", a.Invitee)
}

// mustRedeem redeems a, failing the test on an error.
func (e *env) mustRedeem(a fraud.Attempt) fraud.Verdict {
	e.t.Helper()
	v, err := e.redeem(a)
	if err != nil {
		e.t.Fatalf("redeem(%+v): %v", a, err)
	}
	return v
}

// setRules changes the rules in force with change, failing on an error.
func (e *env) setRules(change func(*fraud.Rules)) fraud.Rules {
	e.t.Helper()
	r, err := e.svc.Rules(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	change(&r)
	r, err = e.svc.SetRules(e.ctx, r, "op")
	if err != nil {
		e.t.Fatalf("SetRules: %v", err)
	}
	return r
}

// want checks a verdict's outcome: refused for reason (or not, when
// reason is ""), held with stepUp and flags.
func want(t testing.TB, what string, v fraud.Verdict, reason string, stepUp bool, flags ...string) {
	t.Helper()
	if v.Refuse != (reason != "") || v.Reason != reason {
		t.Errorf("%s: refuse %v reason %q, want refuse %v reason %q", what, v.Refuse, v.Reason, reason != "", reason)
	}
	if v.Refuse && len(v.Mutations) > 0 {
		t.Errorf("%s: a refusal carries %d mutations, want none", what, len(v.Mutations))
	}
	if !v.Refuse && len(v.Mutations) == 0 {
		t.Errorf("%s: no mutations to count the redemption", what)
	}
	if v.StepUp != stepUp {
		t.Errorf("%s: step-up %v, want %v", what, v.StepUp, stepUp)
	}
	if !slices.Equal(v.Flags, flags) {
		t.Errorf("%s: flags %v, want %v", what, v.Flags, flags)
	}
	if hold := stepUp || len(flags) > 0; v.Hold != hold {
		t.Errorf("%s: hold %v, want %v", what, v.Hold, hold)
	}
	review := slices.ContainsFunc(flags, func(f string) bool { return f != fraud.FlagInviterDaily })
	if v.Review() != review {
		t.Errorf("%s: review %v, want %v", what, v.Review(), review)
	}
	if len(v.Mutations) > fraud.MaxMutations {
		t.Errorf("%s: %d mutations, over MaxMutations", what, len(v.Mutations))
	}
	for _, m := range v.Mutations {
		if !fraud.Owns(m.Key) {
			t.Errorf("%s: mutation of %v, a key anti-fraud does not own", what, m.Key)
		}
	}
}

// wantKind checks that err has kind k.
func wantKind(t testing.TB, what string, err error, k errs.Kind) {
	t.Helper()
	if !errs.Is(k, err) {
		t.Errorf("%s: error %v, want kind %v", what, err, k)
	}
}

// invitee names the n-th invitee of a test.
func invitee(n int) string { return fmt.Sprintf("m-%04d", n) }
