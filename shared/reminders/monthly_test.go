package reminders_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/reminders"
	"github.com/wemember/wemember/shared/reqlog"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/store/storetest"
)

// levelCoupons counts a member's monthly level coupons.
func (e *env) levelCoupons(id string) int {
	e.t.Helper()
	pg, err := e.coupons.List(e.ctx, coupons.ListQuery{MemberID: id, Limit: 100})
	if err != nil {
		e.t.Fatalf("List: %v", err)
	}
	n := 0
	for _, in := range pg.Items {
		if in.Reason == coupons.ReasonLevel+":silver" || in.Reason == coupons.ReasonLevel+":gold" {
			n++
		}
	}
	return n
}

func (e *env) grow(id string, growth int64) {
	e.t.Helper()
	if _, err := e.points.AddGrowth(e.ctx, loyalty.GrowthCmd{MemberID: id, Growth: growth, Key: "g#" + id}); err != nil {
		e.t.Fatalf("AddGrowth: %v", err)
	}
}

// TestMonthlyLevelCoupons: on the first of the month every silver member
// (the default level with a monthly coupon) gets exactly one, across runs
// stopped by their limit, and nothing more that month.
func TestMonthlyLevelCoupons(t *testing.T) {
	e := newEnv(t, cstAt(2026, 3, 20, 9))
	var silver []string
	for range 5 {
		id := e.member("", "")
		e.grow(id, 1000)
		silver = append(silver, id)
	}
	gold, normal := e.member("", ""), e.member("", "")
	e.grow(gold, 5000)
	e.clk.Set(cstAt(2026, 3, 25, 9)) // Active on another day.
	late := e.member("", "")
	e.grow(late, 2000)
	silver = append(silver, late)

	first := cstAt(2026, 4, 1, 0)
	e.clk.Set(first)
	var total reminders.Result
	for runs := 0; ; runs++ {
		if runs > 20 {
			t.Fatalf("not done after 20 runs: %+v", total)
		}
		r, err := e.jobs.MonthlyLevelCoupons(e.ctx, first, 3)
		if err != nil {
			t.Fatalf("MonthlyLevelCoupons: %v", err)
		}
		total.Items, total.Skipped, total.Failed = total.Items+r.Items, total.Skipped+r.Skipped, total.Failed+r.Failed
		if !r.More {
			break
		}
	}
	if want := (reminders.Result{Items: 6, Skipped: 2}); total != want {
		t.Errorf("runs on 1 April = %+v, want %+v", total, want)
	}
	for _, id := range silver {
		if n := e.levelCoupons(id); n != 1 {
			t.Errorf("silver member %s: %d level coupons, want 1", id, n)
		}
	}
	if g, n := e.levelCoupons(gold), e.levelCoupons(normal); g != 0 || n != 0 {
		t.Errorf("gold and normal members: %d and %d level coupons, want 0 (no monthly coupon)", g, n)
	}
	if r, err := e.jobs.MonthlyLevelCoupons(e.ctx, first.Add(2*time.Hour), 100); err != nil || r != (reminders.Result{}) {
		t.Errorf("second run on 1 April = %+v, %v; want nothing", r, err)
	}
	if r, _ := e.jobs.MonthlyLevelCoupons(e.ctx, cstAt(2026, 5, 1, 0), 100); r.Items != 6 {
		t.Errorf("run on 1 May = %+v, want 6 issued", r)
	}
	if _, err := e.jobs.MonthlyLevelCoupons(e.ctx, first, 0); !errs.Is(errs.Invalid, err) {
		t.Errorf("limit 0: %v, want errs.Invalid", err)
	}
}

// TestReminderLeadFromRules reminds as many days ahead as the loyalty rules
// say, read on every run.
func TestReminderLeadFromRules(t *testing.T) {
	now := cstAt(2026, 3, 10, 9)
	e := newEnv(t, now)
	jobs := reminders.New(e.st, e.members, e.coupons, e.points, e.points, e.send,
		reminders.Config{MiniProgramAppID: mpApp, TemplateID: "expiry-reminder", Rules: e.points.Rules})
	id := e.member("o-ann", "")
	if _, err := e.points.Earn(e.ctx, loyalty.EarnCmd{MemberID: id, Points: 50, Key: "e1",
		Expiry: &loyalty.ExpiryRule{Mode: loyalty.ExpireRolling, Days: 6}}); err != nil {
		t.Fatal(err)
	}
	if r, err := jobs.Reminders(e.ctx, now, 100); err != nil || r.Items != 0 {
		t.Fatalf("3 days ahead, lot expiring in 6: %+v, %v; want nothing sent", r, err)
	}
	r, _ := e.points.Rules(e.ctx)
	r.Reminders.AheadDays = 7
	if _, err := e.points.SetRules(e.ctx, r, "op"); err != nil {
		t.Fatal(err)
	}
	next := now.Add(24 * time.Hour)
	if r, err := jobs.Reminders(e.ctx, next, 100); err != nil || r.Items != 1 {
		t.Errorf("7 days ahead = %+v, %v; want the lot reminded", r, err)
	}
}

// TestMonthlyCouponOfAMissingTemplateIsLogged: a level whose benefit names
// a template that does not exist issues nothing, counts as failed and says
// so in the request's log, with its request id (an operator has a rule to
// fix).
func TestMonthlyCouponOfAMissingTemplateIsLogged(t *testing.T) {
	e := newEnv(t, cstAt(2026, 3, 20, 9))
	rules, err := e.points.Rules(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rules.Levels.Table {
		if rules.Levels.Table[i].Benefits.MonthlyCouponTemplate != "" {
			rules.Levels.Table[i].Benefits.MonthlyCouponTemplate = "level-monthly-typo"
		}
	}
	if _, err := e.points.SetRules(e.ctx, rules, "op"); err != nil {
		t.Fatalf("SetRules: %v", err)
	}
	id := e.member("", "")
	e.grow(id, 1000)
	var buf bytes.Buffer
	ctx := reqlog.With(e.ctx, slog.New(slog.NewJSONHandler(&buf, nil)).With(slog.String("request_id", "req-3")))
	first := cstAt(2026, 4, 1, 0)
	e.clk.Set(first)
	r, err := e.jobs.MonthlyLevelCoupons(ctx, first, 10)
	if err != nil || r.Items != 0 || r.Failed != 1 {
		t.Errorf("MonthlyLevelCoupons = %+v, %v; want 1 failed, none issued", r, err)
	}
	if n := e.levelCoupons(id); n != 0 {
		t.Errorf("%d level coupons issued, want 0", n)
	}
	log := buf.String()
	for _, want := range []string{"level-monthly-typo", `"request_id":"req-3"`, `"level":"ERROR"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log %q lacks %s", log, want)
		}
	}
}

// TestMonthlyLevelCouponsEarlierIndex: a member whose activity index item
// an earlier release put in the day's own partition, not in a shard, still
// gets the month's level coupon, and once.
func TestMonthlyLevelCouponsEarlierIndex(t *testing.T) {
	e := newEnv(t, cstAt(2026, 3, 20, 9))
	old, sharded := e.member("", ""), e.member("", "")
	e.grow(old, 1000)
	e.grow(sharded, 1000)
	day := calendar.Day(e.clk.Now())
	if err := e.st.Write(e.ctx, store.Delete(store.K(store.Sharded("active#"+day, old), old)),
		store.Put(store.K("active#"+day, old), nil)); err != nil {
		t.Fatal(err)
	}
	first := cstAt(2026, 4, 1, 0)
	e.clk.Set(first)
	r, err := e.jobs.MonthlyLevelCoupons(e.ctx, first, 100)
	if err != nil || r != (reminders.Result{Items: 2}) {
		t.Fatalf("MonthlyLevelCoupons = %+v, %v; want both members' coupons", r, err)
	}
	for _, id := range []string{old, sharded} {
		if n := e.levelCoupons(id); n != 1 {
			t.Errorf("member %s: %d level coupons, want 1", id, n)
		}
	}
}

// TestMonthlyLevelCouponsQuietDays: the month's first run reads every
// partition of every day a member may still be active on, but writes its
// cursor only after handling members and once at the end, not after each
// of the thousands of empty pages.
func TestMonthlyLevelCouponsQuietDays(t *testing.T) {
	e := newEnv(t, cstAt(2026, 3, 20, 9))
	id := e.member("", "")
	e.grow(id, 1000)
	f := &storetest.Faults{Store: e.st}
	jobs := reminders.New(f, e.members, e.coupons, e.points, e.points, e.send,
		reminders.Config{MiniProgramAppID: mpApp, TemplateID: "expiry-reminder"})
	r, err := jobs.MonthlyLevelCoupons(e.ctx, cstAt(2026, 4, 1, 0), 100)
	if err != nil || r.Items != 1 || r.More {
		t.Fatalf("MonthlyLevelCoupons = %+v, %v; want the one silver member issued", r, err)
	}
	if got := e.levelCoupons(id); got != 1 {
		t.Errorf("silver member has %d monthly coupons, want 1", got)
	}
	c := f.Counts()
	if c.Writes > 2 {
		t.Errorf("the run wrote its cursor %d times over %d query pages; want at most 2 (after the member, then done)", c.Writes, c.Queries)
	}
	if c.Queries < 181*store.Shards {
		t.Errorf("the run read %d pages; want every partition of the 181 days (at least %d)", c.Queries, 181*store.Shards)
	}
}
