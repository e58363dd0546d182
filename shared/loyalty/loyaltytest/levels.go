package loyaltytest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/loyalty"
)

func (e *env) review() loyalty.SweepResult {
	e.t.Helper()
	res, err := e.svc.ReviewLevels(e.ctx, e.clk.Now(), 100)
	if err != nil {
		e.t.Fatalf("ReviewLevels: %v", err)
	}
	return res
}

func (e *env) wantLevel(member, want string) loyalty.LevelView {
	e.t.Helper()
	v := e.level(member)
	if v.Level.ID != want {
		e.t.Fatalf("%s level: got %s (earned %s, growth %d), want %s", member, v.Level.ID, v.Earned, v.Growth, want)
	}
	return v
}

func testLevelUpgrade(t *testing.T, e *env) {
	v := e.wantLevel("new", "normal")
	if v.Next == nil || v.Next.ID != "silver" || v.ToNext != 1000 {
		t.Errorf("new member: got next %v to next %d, want silver, 1000", v.Next, v.ToNext)
	}
	e.growth("m1", 999, "g1")
	if v := e.wantLevel("m1", "normal"); v.ToNext != 1 || !v.ReviewAt.IsZero() {
		t.Errorf("at 999: got to next %d review %v, want 1 and none", v.ToNext, v.ReviewAt)
	}
	e.growth("m1", 1, "g2")
	v = e.wantLevel("m1", "silver")
	if !v.ReviewAt.Equal(Start.AddDate(0, 12, 0)) || v.Level.Benefits.DiscountPercent != 95 || v.ToNext != 4000 {
		t.Errorf("silver: got review %v discount %d to next %d, want %v, 95, 4000", v.ReviewAt, v.Level.Benefits.DiscountPercent, v.ToNext, Start.AddDate(0, 12, 0))
	}
	e.clk.Add(days(10))
	e.growth("m1", 4000, "g3")
	v = e.wantLevel("m1", "gold")
	if !v.ReviewAt.Equal(e.clk.Now().AddDate(0, 3, 0)) || v.Next != nil || !v.Level.Benefits.FreeDelivery {
		t.Errorf("gold: got review %v next %v benefits %+v, want quarterly review, no next, free delivery", v.ReviewAt, v.Next, v.Level.Benefits)
	}
	hist, _, err := e.svc.GrowthHistory(e.ctx, "m1", "", 10)
	if err != nil || len(hist) != 3 || hist[0].From != "silver" || hist[0].To != "gold" || hist[0].GrowthAfter != 5000 {
		t.Errorf("history: got %+v, %v; want 3 entries, newest silver→gold at 5000", hist, err)
	}
	// Only the newest review is scheduled: the silver one moved.
	e.clk.Add(days(365))
	if res := e.review(); res.Items != 1 || res.Skipped != 0 {
		t.Errorf("review: got %+v, want exactly the gold review", res)
	}
}

func testLevelBySpend(t *testing.T, e *env) {
	e.setRules(func(r *loyalty.Rules) { r.Levels.Basis = loyalty.BasisSpend })
	add := func(fen int64, key string) {
		if _, err := e.svc.AddGrowth(e.ctx, loyalty.GrowthCmd{MemberID: "m1", SpendFen: fen, Key: key}); err != nil {
			t.Fatalf("AddGrowth: %v", err)
		}
	}
	add(9999, "o1")
	e.wantLevel("m1", "normal")
	add(1, "o2")
	if v := e.wantLevel("m1", "silver"); v.ToNext != 40000 {
		t.Errorf("to gold: got %d fen, want 40000", v.ToNext)
	}
	add(40000, "o3")
	e.wantLevel("m1", "gold")
}

// silverBelow makes member silver now and then drops its growth below 1000.
func (e *env) silverBelow(member string) {
	e.growth(member, 1200, member+":pay")
	e.growth(member, -500, member+":refund")
	e.wantLevel(member, "silver") // No downgrade before the review.
}

func testDowngradeGrace(t *testing.T, e *env) {
	e.silverBelow("m1")
	e.silverBelow("m2")
	reviewAt := Start.AddDate(0, 12, 0)
	e.clk.Add(reviewAt.Sub(e.clk.Now()) - time.Second)
	if res := e.review(); res.Items != 0 {
		t.Errorf("before the review date: got %+v, want nothing", res)
	}
	e.clk.Add(time.Second)
	if res := e.review(); res.Items != 2 {
		t.Errorf("at the review date: got %+v, want 2 items", res)
	}
	v := e.wantLevel("m1", "silver")
	if want := reviewAt.AddDate(0, 0, 30); !v.GraceUntil.Equal(want) {
		t.Errorf("grace: got %v, want %v", v.GraceUntil, want)
	}
	e.growth("m2", 300, "m2:comeback") // m2 is back at 1000 during grace.
	e.clk.Add(days(30) - time.Second)
	if res := e.review(); res.Items != 0 {
		t.Errorf("within grace: got %+v, want nothing", res)
	}
	e.wantLevel("m1", "silver")
	e.clk.Add(time.Second)
	if res := e.review(); res.Items != 2 {
		t.Errorf("after grace: got %+v, want 2 items", res)
	}
	if v := e.wantLevel("m1", "normal"); !v.ReviewAt.IsZero() || !v.GraceUntil.IsZero() {
		t.Errorf("downgraded: got review %v grace %v, want none", v.ReviewAt, v.GraceUntil)
	}
	if v := e.wantLevel("m2", "silver"); !v.GraceUntil.IsZero() || !v.ReviewAt.Equal(e.clk.Now().AddDate(0, 12, 0)) {
		t.Errorf("recovered: got grace %v review %v, want none and a year on", v.GraceUntil, v.ReviewAt)
	}
}

func testDowngradeModes(t *testing.T, e *env) {
	cases := []struct {
		mode        loyalty.DowngradeMode
		grace       int
		atReview    string
		afterGrace  string
		reviewItems int
	}{
		{loyalty.DowngradeNever, 30, "silver", "silver", 0},
		{loyalty.DowngradeAutomatic, 30, "normal", "normal", 0},
		{loyalty.DowngradeAfterDays, 10, "silver", "normal", 1},
		{loyalty.DowngradeAfterDays, 0, "normal", "normal", 0},
	}
	for i, c := range cases {
		e.setRules(func(r *loyalty.Rules) { r.Levels.Downgrade, r.Levels.GraceDays = c.mode, c.grace })
		m := fmt.Sprintf("mode%d", i)
		start := e.clk.Now()
		e.silverBelow(m)
		e.clk.Add(start.AddDate(0, 12, 0).Sub(start))
		e.review()
		if got := e.level(m).Level.ID; got != c.atReview {
			t.Errorf("%s/%d at review: got %s, want %s", c.mode, c.grace, got, c.atReview)
		}
		e.clk.Add(days(c.grace))
		if res := e.review(); res.Items != c.reviewItems {
			t.Errorf("%s/%d after grace: got %d items, want %d", c.mode, c.grace, res.Items, c.reviewItems)
		}
		if got := e.level(m).Level.ID; got != c.afterGrace {
			t.Errorf("%s/%d after grace: got %s, want %s", c.mode, c.grace, got, c.afterGrace)
		}
	}
}

func testReviewOverlapping(t *testing.T, e *env) {
	const n = 10
	for i := 0; i < n; i++ {
		e.silverBelow(fmt.Sprintf("r%d", i))
	}
	e.clk.Add(days(366))
	var wg sync.WaitGroup
	results := make([]loyalty.SweepResult, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.svc.ReviewLevels(e.ctx, e.clk.Now(), 100)
			if err != nil {
				t.Errorf("run %d: %v", i, err)
			}
			results[i] = res
		}()
	}
	wg.Wait()
	if got := results[0].Items + results[1].Items; got != n {
		t.Errorf("two runs reviewed %d members, want %d (%+v)", got, n, results)
	}
	for i := 0; i < n; i++ {
		m := fmt.Sprintf("r%d", i)
		hist, _, err := e.svc.GrowthHistory(e.ctx, m, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		reviews := 0
		for _, h := range hist {
			if h.Kind == "review" {
				reviews++
			}
		}
		if v := e.level(m); reviews != 1 || v.GraceUntil.IsZero() {
			t.Errorf("%s: got %d review entries, grace %v; want 1 and a grace period", m, reviews, v.GraceUntil)
		}
	}
}

func testSetLevel(t *testing.T, e *env) {
	e.growth("m1", 1200, "g1")
	set := func(level string, until time.Time, key string) error {
		_, err := e.svc.SetLevel(e.ctx, loyalty.SetLevelCmd{MemberID: "m1", Level: level, Until: until, Operator: "op:a", Reason: "paid", Key: key})
		return err
	}
	if err := set("gold", Start.Add(days(30)), "paid1"); err != nil {
		t.Fatalf("SetLevel: %v", err)
	}
	if v := e.wantLevel("m1", "gold"); v.Earned != "silver" || v.Set == nil {
		t.Errorf("paid gold: got earned %s set %+v, want silver and the set level", v.Earned, v.Set)
	}
	e.clk.Add(days(30))
	e.wantLevel("m1", "silver")
	if err := set("normal", time.Time{}, "worse"); err != nil {
		t.Fatalf("SetLevel normal: %v", err)
	}
	e.wantLevel("m1", "silver") // A worse set level does not apply.
	wantKind(t, "unknown level", set("platinum", time.Time{}, "bad"), errs.Invalid)
	_, err := e.svc.SetLevel(e.ctx, loyalty.SetLevelCmd{MemberID: "m1", Level: "gold", Key: "noop"})
	wantKind(t, "no operator", err, errs.Invalid)
}
