package fraudtest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/fraud"
	"github.com/wemember/wemember/shared/store"
)

// race redeems n attempts at once, each made by mk from its number, and
// returns their verdicts.
func (e *env) race(n int, mk func(i int) fraud.Attempt) []fraud.Verdict {
	e.t.Helper()
	vs := make([]fraud.Verdict, n)
	errc := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := e.redeem(mk(i))
			vs[i] = v
			errc <- err
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			e.t.Fatalf("a racing redemption failed: %v", err)
		}
	}
	return vs
}

// bound counts the invitees whose redemption was written.
func (e *env) bound() int {
	e.t.Helper()
	n, after := 0, ""
	for {
		p, err := e.st.Query(e.ctx, store.Query{PK: "test#bound", After: after})
		if err != nil {
			e.t.Fatal(err)
		}
		n += len(p.Items)
		if after = p.Next; after == "" {
			return n
		}
	}
}

func testIPRateConcurrent(t *testing.T, open Opener, racers int) {
	e := newEnv(t, open)
	vs := e.race(racers, func(i int) fraud.Attempt { return fraud.Attempt{Invitee: invitee(i), Client: "ip-1"} })
	passed, refused := 0, 0
	for _, v := range vs {
		switch {
		case !v.Refuse:
			passed++
		case v.Reason == fraud.ReasonIPRate || v.Reason == fraud.ReasonIPFrozen:
			refused++
			if !v.FrozenUntil.After(e.clk.Now()) {
				t.Errorf("refused with frozen until %v, want a freeze in force", v.FrozenUntil)
			}
		default:
			t.Errorf("refused for %q", v.Reason)
		}
	}
	if passed != 30 || refused != racers-30 || e.bound() != 30 {
		t.Errorf("%d racers from one address: %d passed, %d refused, %d written; want exactly 30 passed and written",
			racers, passed, refused, e.bound())
	}
	if _, frozen, err := e.svc.Frozen(e.ctx, "ip-1"); !frozen || err != nil {
		t.Errorf("Frozen(ip-1) = %v, %v; want frozen", frozen, err)
	}
	freezes, _, err := e.svc.Freezes(e.ctx, "", 10)
	if err != nil || len(freezes) != 1 {
		t.Errorf("Freezes = %+v, %v; want the one freeze of the race", freezes, err)
	}
}

func testInviterDailyConcurrent(t *testing.T, open Opener, racers int) {
	e := newEnv(t, open)
	vs := e.race(racers, func(i int) fraud.Attempt { return fraud.Attempt{Inviter: "alice", Invitee: invitee(i)} })
	free, held := 0, 0
	for _, v := range vs {
		switch {
		case v.Refuse:
			t.Errorf("refused for %q", v.Reason)
		case v.StepUp && v.Hold:
			held++
		case !v.Hold:
			free++
		}
	}
	if free != 5 || held != racers-5 || e.bound() != racers {
		t.Errorf("%d racing invites by one inviter: %d clear, %d held for step-up, %d written; want exactly 5 clear, all written",
			racers, free, held, e.bound())
	}
}

func testSpikeAlertOnce(t *testing.T, open Opener, racers int) {
	e := newEnv(t, open)
	e.setRules(func(r *fraud.Rules) { r.SpikeHourly = 20 })
	for i := range 20 {
		e.mustRedeem(fraud.Attempt{Invitee: fmt.Sprint("early-", i)})
	}
	// Eight redemptions assessed before any of them is written all find
	// the count over the threshold and no alert: written at once, one
	// records the alert and the others, losing the race, assess again.
	const stale = 8
	vs := make([]fraud.Verdict, stale)
	for i := range vs {
		vs[i] = e.assess(fraud.Attempt{Invitee: fmt.Sprint("stale-", i)})
		if n := len(vs[i].Mutations); n != 2 {
			t.Fatalf("stale %d carries %d mutations, want the alert and the count", i, n)
		}
	}
	var wg sync.WaitGroup
	for i, v := range vs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.complete(fraud.Attempt{Invitee: fmt.Sprint("stale-", i)}, v); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	e.race(racers, func(i int) fraud.Attempt { return fraud.Attempt{Invitee: invitee(i)} })
	// The redemption that reads the count over the threshold writes the
	// alert; the ones after it find it written.
	for i := range 3 {
		e.mustRedeem(fraud.Attempt{Invitee: fmt.Sprint("late-", i)})
	}
	alerts, next, err := e.svc.Alerts(e.ctx, "", 10)
	if err != nil || len(alerts) != 1 || next != "" {
		t.Fatalf("Alerts = %+v, %q, %v; want exactly one", alerts, next, err)
	}
	a := alerts[0]
	if a.Hour != "2031031010" || a.Threshold != 20 || a.Count != 21 || !a.Start.Equal(t0()) {
		t.Errorf("alert %+v; want hour 2031031010 from %v, threshold 20, count 21", a, t0())
	}
	// Written once: the alert item was never replaced.
	if it, err := e.st.Get(e.ctx, store.K("fraud#alert", a.Hour)); err != nil || it.Version != 1 {
		t.Errorf("the alert item is at version %d (%v), want 1: written once", it.Version, err)
	}
	if got, want := e.bound(), 20+stale+racers+3; got != want {
		t.Errorf("%d redemptions written, want %d: a spike holds nothing back", got, want)
	}
	// The next hour starts a new count.
	e.clk.Add(time.Hour)
	for i := range 20 {
		e.mustRedeem(fraud.Attempt{Invitee: fmt.Sprint("next-", i)})
	}
	if alerts, _, _ := e.svc.Alerts(e.ctx, "", 10); len(alerts) != 1 {
		t.Errorf("after 20 in the next hour: %d alerts, want still 1", len(alerts))
	}
}

func testAlertsNewestFirst(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.setRules(func(r *fraud.Rules) { r.SpikeHourly = 1 })
	for h := range 3 {
		e.mustRedeem(fraud.Attempt{Invitee: fmt.Sprint("a-", h)})
		e.mustRedeem(fraud.Attempt{Invitee: fmt.Sprint("b-", h)})
		e.clk.Add(time.Hour)
	}
	first, next, err := e.svc.Alerts(e.ctx, "", 2)
	if err != nil || len(first) != 2 || next == "" {
		t.Fatalf("Alerts page 1 = %+v, %q, %v; want 2 and a cursor", first, next, err)
	}
	rest, last, err := e.svc.Alerts(e.ctx, next, 2)
	if err != nil || len(rest) != 1 || last != "" {
		t.Fatalf("Alerts page 2 = %+v, %q, %v; want 1 and no cursor", rest, last, err)
	}
	var got []string
	for _, a := range append(first, rest...) {
		got = append(got, a.Hour)
		if a.Count != 2 {
			t.Errorf("alert %s counts %d, want 2", a.Hour, a.Count)
		}
	}
	if fmt.Sprint(got) != "[2031031012 2031031011 2031031010]" {
		t.Errorf("alert hours %v, want newest first", got)
	}
	_, _, err = e.svc.Alerts(e.ctx, "not a cursor!", 2)
	wantKind(t, "Alerts with a bad cursor", err, errs.Invalid)
}

// countingStore counts the keys GetMany is asked for.
type countingStore struct {
	store.Store
	keys atomic.Int64
}

func (c *countingStore) GetMany(ctx context.Context, ks []store.Key, cons store.Consistency) ([]store.Item, error) {
	c.keys.Add(int64(len(ks)))
	return c.Store.GetMany(ctx, ks, cons)
}

func testSpikeReadsStopAfterAlert(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.setRules(func(r *fraud.Rules) { r.SpikeHourly = 2 })
	cs := &countingStore{Store: e.st}
	e.svc = fraud.New(cs, e.clk.Now)
	read := func(i int) int64 {
		before := cs.keys.Load()
		e.mustRedeem(fraud.Attempt{Invitee: invitee(i)})
		return cs.keys.Load() - before
	}
	for i := range 3 { // The third writes the alert.
		if n := read(i); n != 1+store.Shards {
			t.Errorf("redemption %d read %d keys, want the alert and %d shards", i, n, store.Shards)
		}
	}
	if n := read(3); n != 1+store.Shards {
		t.Errorf("the first redemption after the alert read %d keys, want %d: it finds the alert", n, 1+store.Shards)
	}
	if n := read(4); n != 0 {
		t.Errorf("a redemption after the alert was found read %d keys, want none", n)
	}
	e.clk.Add(time.Hour)
	if n := read(5); n != 1+store.Shards {
		t.Errorf("the next hour's first redemption read %d keys, want %d", n, 1+store.Shards)
	}
}
