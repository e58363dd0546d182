package loyaltytest

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/store/storetest"
)

// streakEnv is a sign-in service that issues streak coupons (streak_days
// 2), over the env's store seen through a storetest.Faults.
type streakEnv struct {
	*env
	f       *storetest.Faults
	svc     *loyalty.Service
	coupons *coupons.Service
}

func (e *env) withStreakCoupons() *streakEnv {
	e.t.Helper()
	e.setRules(func(r *loyalty.Rules) { r.Coupons.StreakDays = 2 })
	f := &storetest.Faults{Store: e.st}
	cs := coupons.New(f, coupons.Config{Now: e.clk.Now})
	if err := cs.InstallDefaults(e.ctx); err != nil {
		e.t.Fatalf("coupons.InstallDefaults: %v", err)
	}
	return &streakEnv{env: e, f: f, coupons: cs, svc: loyalty.New(f, e.clk.Now, e.ids, loyalty.WithCoupons(cs))}
}

// streakCoupons lists the member's streak coupons.
func (e *streakEnv) streakCoupons(member string) []coupons.Instance {
	e.t.Helper()
	pg, err := e.coupons.List(e.ctx, coupons.ListQuery{MemberID: member, Limit: 100})
	if err != nil {
		e.t.Fatalf("coupons.List: %v", err)
	}
	var out []coupons.Instance
	for _, c := range pg.Items {
		if c.Reason == coupons.ReasonStreak {
			out = append(out, c)
		}
	}
	return out
}

// signInDays signs each member in once, then moves the clock to the next
// day.
func (e *streakEnv) signInDays(members ...string) {
	e.t.Helper()
	for _, m := range members {
		if _, err := e.svc.SignIn(e.ctx, m); err != nil {
			e.t.Fatalf("SignIn of %s: %v", m, err)
		}
	}
	e.clk.Add(days(1))
}

// testSignInStreakCoupon: the streak day's sign-in issues the streak coupon
// in its one write, after reading also the coupon's idempotency record and
// template; a repeat reads one record and answers the first answer, coupon
// included, without writing.
func testSignInStreakCoupon(t *testing.T, e *env) {
	s := e.withStreakCoupons()
	s.signInDays("s1")
	if _, err := s.svc.Rules(e.ctx); err != nil { // The rules as a busy instance keeps them.
		t.Fatalf("Rules: %v", err)
	}
	before := s.f.Counts()
	first, err := s.svc.SignIn(e.ctx, "s1")
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	if got, want := s.f.Since(before), (storetest.Counts{Writes: 1, Mutations: 14, Gets: 6}); got != want {
		t.Errorf("sign-in of a streak day: got %+v, want %+v", got, want)
	}
	cs := s.streakCoupons("s1")
	if first.Streak != 2 || first.Coupon == nil || first.CouponMissed || len(cs) != 1 || cs[0].ID != first.Coupon.ID ||
		cs[0].TemplateID != "signin-streak" {
		t.Fatalf("sign-in of a streak day = %+v with streak coupons %+v; want streak 2 and its one coupon", first, cs)
	}
	before = s.f.Counts()
	again, err := s.svc.SignIn(e.ctx, "s1")
	if err != nil || !again.Repeat || !bytes.Equal(mustJSON(t, again), mustJSON(t, first)) {
		t.Errorf("repeat: got %+v, %v; want the first answer %+v", again, err, first)
	}
	if got, want := s.f.Since(before), (storetest.Counts{Gets: 1}); got != want {
		t.Errorf("repeat sign-in of a streak day: got %+v, want %+v", got, want)
	}
}

// testSignInStreakCrash: when the one write of a streak day's sign-in
// fails, neither the day nor its coupon is stored; signing in again stores
// both once.
func testSignInStreakCrash(t *testing.T, e *env) {
	s := e.withStreakCoupons()
	s.signInDays("c1")
	s.f.BeforeWrite = func(context.Context, []store.Mutation) error { return errCrash }
	if _, err := s.svc.SignIn(e.ctx, "c1"); err == nil {
		t.Fatalf("SignIn with the write failing: no error")
	}
	s.f.BeforeWrite = nil
	day1 := signInState{available: 5, growth: 1, earns: 1, growths: 1}
	if got, cs := e.signInState("c1"), s.streakCoupons("c1"); got != day1 || len(cs) != 0 {
		t.Fatalf("after the failed write: stored %+v and coupons %+v; want day 1's %+v and none", got, cs, day1)
	}
	got, err := s.svc.SignIn(e.ctx, "c1")
	cs := s.streakCoupons("c1")
	if err != nil || got.Streak != 2 || got.Coupon == nil || len(cs) != 1 || cs[0].ID != got.Coupon.ID {
		t.Errorf("sign-in again: got %+v, %v with coupons %+v; want streak 2 and its one coupon", got, err, cs)
	}
	if got, want := e.signInState("c1"), (signInState{available: 10, growth: 2, earns: 2, growths: 2}); got != want {
		t.Errorf("stored: got %+v, want %+v", got, want)
	}
}

// testSignInStreakConcurrent: simultaneous sign-ins of one member on a
// streak day all get the first answer, and one coupon is issued.
func testSignInStreakConcurrent(t *testing.T, e *env) {
	s := e.withStreakCoupons()
	const members, tries = 3, 8
	var names []string
	for m := range members {
		names = append(names, fmt.Sprintf("tap%d", m))
	}
	s.signInDays(names...)
	for _, member := range names {
		signInAtOnce(t, s.svc, member, tries)
		if cs := s.streakCoupons(member); len(cs) != 1 {
			t.Errorf("%s: %d streak coupons, want 1", member, len(cs))
		}
	}
}

// testSignInStreakCouponMissed: a streak day whose coupon cannot be had
// (the template paused) counts without it, in one write, and says so.
func testSignInStreakCouponMissed(t *testing.T, e *env) {
	s := e.withStreakCoupons()
	s.signInDays("p1")
	if _, err := s.coupons.SetTemplateStatus(e.ctx, "signin-streak", coupons.Paused, "op:test"); err != nil {
		t.Fatalf("SetTemplateStatus: %v", err)
	}
	before := s.f.Counts()
	got, err := s.svc.SignIn(e.ctx, "p1")
	if err != nil || got.Streak != 2 || got.Coupon != nil || !got.CouponMissed || got.Points != 5 {
		t.Errorf("sign-in with the template paused: got %+v, %v; want streak 2, 5 points, coupon missed", got, err)
	}
	if n := s.f.Since(before).Writes; n != 1 {
		t.Errorf("writes: got %d, want 1", n)
	}
	if cs := s.streakCoupons("p1"); len(cs) != 0 {
		t.Errorf("streak coupons: got %+v, want none", cs)
	}
}
