package couponstest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/store/storetest"
)

// week is the validity of tpl's coupons.
const week = 7 * 24 * time.Hour

func (e *env) expire(now time.Time, limit int) coupons.Progress {
	e.t.Helper()
	p, err := e.svc.ExpireDue(e.ctx, now, limit)
	if err != nil {
		e.t.Fatalf("ExpireDue: %v", err)
	}
	return p
}

func testExpireDue(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.save(tpl("a"))
	a, b, used := e.issue("a", "m1", "k1"), e.issue("a", "m1", "k2"), e.issue("a", "m1", "k3")
	if _, err := e.svc.Redeem(e.ctx, coupons.RedeemCmd{InstanceID: used.ID, MemberID: "m1", Key: "r"}); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(time.Hour)
	later := e.issue("a", "m1", "k4")

	if p := e.expire(t0().Add(week), 100); p != (coupons.Progress{}) {
		t.Errorf("at the last valid second: %+v, want nothing expired", p)
	}
	now := t0().Add(week + time.Second)
	if got, want := e.expire(now, 100), (coupons.Progress{Expired: 2}); got != want {
		t.Errorf("sweep = %+v, want %+v", got, want)
	}
	for _, id := range []string{a.ID, b.ID} {
		got, err := e.svc.Get(e.ctx, id)
		if err != nil || got.Status != coupons.Expired || !got.ClosedAt.Equal(now) {
			t.Errorf("coupon %s = %+v, %v; want expired at %v", id, got, err, now)
		}
	}
	if got, _ := e.svc.Get(e.ctx, used.ID); got.Status != coupons.Used {
		t.Errorf("used coupon became %s", got.Status)
	}
	if got, _ := e.svc.Get(e.ctx, later.ID); got.Status != coupons.Available {
		t.Errorf("coupon valid an hour longer became %s", got.Status)
	}
	if l := e.list("m1", coupons.Expired); len(l) != 2 {
		t.Errorf("expired list has %d, want 2", len(l))
	}
	if l := e.list("m1", ""); len(l) != 4 {
		t.Errorf("full list has %d, want 4 (no stale copies)", len(l))
	}
	if p := e.expire(now, 100); p != (coupons.Progress{}) {
		t.Errorf("second sweep = %+v, want nothing", p)
	}
	e.clk.Set(now)
	_, err := e.svc.Redeem(e.ctx, coupons.RedeemCmd{InstanceID: a.ID, MemberID: "m1", Key: "r2"})
	wantKind(t, "redeem expired", err, errs.Expired)
	if p := e.expire(now.Add(time.Hour), 100); p.Expired != 1 {
		t.Errorf("an hour later: %+v, want the last coupon expired", p)
	}
}

func (e *env) issueMany(n int, prefix string) []coupons.Instance {
	e.t.Helper()
	out := make([]coupons.Instance, n)
	parallel(n, 8, func(i int) {
		got, err := e.svc.Issue(e.ctx, coupons.IssueCmd{TemplateID: "a", MemberID: fmt.Sprintf("%s%03d", prefix, i),
			Reason: "test", Key: fmt.Sprintf("%s#%d", prefix, i)})
		if err != nil {
			e.t.Errorf("Issue %d: %v", i, err)
		}
		out[i] = got.Instance
	})
	return out
}

func testExpireDueOverlapping(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.save(tpl("a"))
	ins := e.issueMany(60, "m")
	now := t0().Add(week + time.Second)
	var mu sync.Mutex
	var total coupons.Progress
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for range 100 { // Bounded: 60 items at 7 a run need at most 18.
				p, err := e.svc.ExpireDue(e.ctx, now, 7)
				if err != nil {
					t.Errorf("ExpireDue: %v", err)
					return
				}
				mu.Lock()
				total.Expired += p.Expired
				total.Cleaned += p.Cleaned
				mu.Unlock()
				if !p.More {
					return
				}
			}
		})
	}
	wg.Wait()
	if total.Expired != 60 {
		t.Errorf("two overlapping sweeps expired %d, want each of 60 once", total.Expired)
	}
	for _, in := range ins {
		if l := e.list(in.MemberID, ""); len(l) != 1 || l[0].Status != coupons.Expired {
			t.Fatalf("member %s listing = %+v, want one expired coupon", in.MemberID, l)
		}
	}
	if p := e.expire(now, 100); p != (coupons.Progress{}) {
		t.Errorf("after both: %+v, want an empty index", p)
	}
}

func testExpireDueResumable(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.save(tpl("a"))
	e.issueMany(25, "m")
	now := t0().Add(week + time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p, err := e.svc.ExpireDue(ctx, now, 100)
	if err != nil || p != (coupons.Progress{More: true}) {
		t.Errorf("cancelled run = %+v, %v; want no work and More", p, err)
	}
	runs := []coupons.Progress{{Expired: 10, More: true}, {Expired: 10, More: true}, {Expired: 5}, {}}
	for i, want := range runs {
		if got := e.expire(now, 10); got != want {
			t.Errorf("run %d = %+v, want %+v", i, got, want)
		}
	}
	_, err = e.svc.ExpireDue(e.ctx, now, 0)
	wantKind(t, "zero limit", err, errs.Invalid)
}

// testExpireDueCursorSavedAtDeadline cuts a sweep off by its deadline after
// it read empty past days: it still saves its cursor past them, and the next
// run starts reading there instead of a whole lookback ago.
func testExpireDueCursorSavedAtDeadline(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.save(tpl("a"))
	c := e.issue("a", "m1", "k1") // Due on 17 March (UTC).
	f := &storetest.Faults{Store: e.st}
	svc := coupons.New(f, coupons.Config{Now: e.clk.Now, Lookback: 10 * 24 * time.Hour})
	now := t0().Add(week + time.Second)
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	f.BeforeQuery = func(_ context.Context, q store.Query) {
		if q.PK == "due#coupon#20260312" {
			cancel() // The deadline passes while the run reads the 12th.
		}
	}
	p, err := svc.ExpireDue(ctx, now, 100)
	if err != nil || p != (coupons.Progress{More: true}) {
		t.Fatalf("cut run = %+v, %v; want More and nothing expired", p, err)
	}
	var cur struct {
		Day string `json:"day"`
	}
	if _, err := store.GetJSON(e.ctx, e.st, store.K("due#coupon#cursor", "cursor"), &cur); err != nil {
		t.Fatalf("cursor after the cut run: %v; want it saved past the empty days", err)
	}
	if cur.Day != "20260312" {
		t.Fatalf("cursor after the cut run: got day %q, want 20260312, the day it was reading", cur.Day)
	}
	f.Reset()
	if p, err := svc.ExpireDue(e.ctx, now, 100); err != nil || p != (coupons.Progress{Expired: 1}) {
		t.Errorf("next run = %+v, %v; want the one coupon expired and done", p, err)
	}
	q := f.Queried()
	if len(q) == 0 || !slices.Contains(q, "due#coupon#"+cur.Day) {
		t.Errorf("next run read %v; want it to read due#coupon#%s", q, cur.Day)
	}
	for _, pk := range q {
		if pk < "due#coupon#"+cur.Day {
			t.Errorf("next run read %s, before its cursor's day %s", pk, cur.Day)
		}
	}
	if got, _ := e.svc.Get(e.ctx, c.ID); got.Status != coupons.Expired {
		t.Errorf("coupon is %s, want expired", got.Status)
	}
}

func testExpireDueAcrossDays(t *testing.T, open Opener) {
	e := newEnv(t, open)
	if err := e.svc.InstallDefaults(e.ctx); err != nil {
		t.Fatal(err)
	}
	x := tpl("a")
	x.Validity.Days = 1
	e.save(x)
	var ids []string
	for d := range 5 {
		e.clk.Set(t0().Add(time.Duration(d) * 24 * time.Hour))
		ids = append(ids, e.issue("a", fmt.Sprintf("m%d", d), fmt.Sprintf("k%d", d)).ID)
	}
	// Three days in, the first two have ended.
	if got := e.expire(t0().Add(3*24*time.Hour), 100); got.Expired != 2 {
		t.Errorf("day 3 sweep = %+v, want 2 expired", got)
	}
	if got := e.expire(t0().Add(30*24*time.Hour), 100); got.Expired != 3 {
		t.Errorf("day 30 sweep = %+v, want the other 3 expired", got)
	}
	for _, id := range ids {
		if got, _ := e.svc.Get(e.ctx, id); got.Status != coupons.Expired {
			t.Errorf("coupon %s is %s, want expired", id, got.Status)
		}
	}
}

func testExpiringSoon(t *testing.T, open Opener) {
	e := newEnv(t, open)
	for _, days := range []int{1, 2, 5} {
		x := tpl(fmt.Sprintf("d%d", days))
		x.Validity.Days = days
		e.save(x)
	}
	one, two := e.issue("d1", "m1", "k1"), e.issue("d2", "m2", "k2")
	e.issue("d5", "m3", "k3")
	used := e.issue("d2", "m4", "k4")
	if _, err := e.svc.Redeem(e.ctx, coupons.RedeemCmd{InstanceID: used.ID, MemberID: "m4", Key: "r"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	cursor := ""
	for range 10 {
		page, next, err := e.svc.ExpiringSoon(e.ctx, t0(), 3*24*time.Hour, cursor, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range page {
			got = append(got, in.ID)
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	if len(got) != 2 || got[0] != one.ID || got[1] != two.ID {
		t.Errorf("expiring within 3 days = %v, want [%s %s]", got, one.ID, two.ID)
	}
}

func testTriggers(t *testing.T, open Opener) {
	e := newEnv(t, open)
	if err := e.svc.InstallDefaults(e.ctx); err != nil {
		t.Fatal(err)
	}
	reg, err := e.svc.OnRegistration(e.ctx, "m1")
	if err != nil || reg.Instance.AmountOff != 1000 || reg.Instance.Reason != coupons.ReasonRegistration {
		t.Fatalf("OnRegistration = %+v, %v; want the 10 yuan coupon", reg, err)
	}
	if again, err := e.svc.OnRegistration(e.ctx, "m1"); err != nil || !again.Duplicate || again.Instance.ID != reg.Instance.ID {
		t.Errorf("second registration = %+v, %v; want the first coupon", again, err)
	}

	// t0 is 10 March in Shanghai: a 12 March birthday is due, 20 March not yet.
	bday := []struct {
		member, birthday string
		at               time.Time
		wantDue          bool
		wantNew          bool
	}{
		{"m1", "03-12", t0(), true, true},
		{"m1", "03-12", t0().Add(24 * time.Hour), true, false},
		{"m1", "03-12", t0().AddDate(1, 0, 0), true, true},
		{"m2", "03-20", t0(), false, false},
	}
	for i, tc := range bday {
		got, due, err := e.svc.IssueBirthday(e.ctx, tc.member, tc.birthday, tc.at)
		if err != nil || due != tc.wantDue || (due && got.Duplicate == tc.wantNew) {
			t.Errorf("birthday %d = %+v, due %v, %v; want due %v, new %v", i, got, due, err, tc.wantDue, tc.wantNew)
		}
	}
	_, _, err = e.svc.IssueBirthday(e.ctx, "m1", "13-40", t0())
	wantKind(t, "bad birthday", err, errs.Invalid)

	level := []struct {
		level   string
		at      time.Time
		wantNew bool
	}{
		{"silver", t0(), true},
		{"silver", t0().AddDate(0, 0, 10), false},
		{"gold", t0(), true},
		{"silver", t0().AddDate(0, 1, 0), true},
	}
	for i, tc := range level {
		got, err := e.svc.IssueMonthlyLevel(e.ctx, "m5", tc.level, "level-silver", tc.at)
		if err != nil || got.Duplicate == tc.wantNew {
			t.Errorf("level %d = %+v, %v; want new %v", i, got, err, tc.wantNew)
		}
		if in := got.Instance; in.Kind != coupons.AmountOff || in.Threshold == 0 {
			t.Errorf("level %d coupon = %s off %d over %d; want a 满减 (amount off over a threshold)", i, in.Kind, in.AmountOff, in.Threshold)
		}
	}
	_, err = e.svc.IssueMonthlyLevel(e.ctx, "m5", "normal", "", t0())
	wantKind(t, "level without coupon", err, errs.NotExist)
	if l := e.list("m5", ""); len(l) != 3 {
		t.Errorf("m5 has %d level coupons, want 3", len(l))
	}

	s1, err := e.svc.OnSignInStreak(e.ctx, "m6", "20260310")
	if err != nil || s1.Instance.TemplateID != "signin-streak" || s1.Instance.Kind != coupons.Discount {
		t.Fatalf("streak = %+v, %v; want the signin-streak discount coupon", s1, err)
	}
	if s2, err := e.svc.OnSignInStreak(e.ctx, "m6", "20260310"); err != nil || !s2.Duplicate {
		t.Errorf("same streak day again = %+v, %v; want duplicate", s2, err)
	}
	_, err = e.svc.OnSignInStreak(e.ctx, "m6", "2026-03-10")
	wantKind(t, "bad day", err, errs.Invalid)
}

// testTriggersFromRules reads the trigger templates and the birthday lead
// from the rules on every trigger, so an operator's change applies at once.
func testTriggersFromRules(t *testing.T, open Opener) {
	e := newEnv(t, open)
	trig := coupons.Triggers{Registration: "welcome-2", Birthday: "bday-2", Streak: "streak-2", BirthdayLead: 0}
	e.svc = coupons.New(e.st, coupons.Config{Now: e.clk.Now,
		Rules: func(context.Context) (coupons.Triggers, error) { return trig, nil }})
	for _, id := range []string{"welcome-2", "bday-2", "streak-2"} {
		e.save(tpl(id))
	}
	if got, err := e.svc.OnRegistration(e.ctx, "m1"); err != nil || got.Instance.TemplateID != "welcome-2" {
		t.Errorf("registration = %+v, %v; want welcome-2", got, err)
	}
	if got, err := e.svc.OnSignInStreak(e.ctx, "m1", "20260310"); err != nil || got.Instance.TemplateID != "streak-2" {
		t.Errorf("streak = %+v, %v; want streak-2", got, err)
	}
	// Lead 0: a 12 March birthday is not due on 10 March, a 10 March one is.
	if _, due, err := e.svc.IssueBirthday(e.ctx, "m1", "03-12", t0()); err != nil || due {
		t.Errorf("birthday in two days with lead 0: due %v, %v; want not due", due, err)
	}
	if got, due, err := e.svc.IssueBirthday(e.ctx, "m1", "03-10", t0()); err != nil || !due || got.Instance.TemplateID != "bday-2" {
		t.Errorf("birthday today = %+v, due %v, %v; want bday-2", got, due, err)
	}
	if lead, err := e.svc.BirthdayLead(e.ctx); err != nil || lead != 0 {
		t.Errorf("BirthdayLead = %d, %v; want 0", lead, err)
	}
	trig.Streak = "welcome-2"
	if got, err := e.svc.OnSignInStreak(e.ctx, "m2", "20260310"); err != nil || got.Instance.TemplateID != "welcome-2" {
		t.Errorf("streak after a rules change = %+v, %v; want welcome-2", got, err)
	}
}
