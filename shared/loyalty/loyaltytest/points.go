package loyaltytest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/loyalty"
)

func testSpendFIFO(t *testing.T, e *env) {
	// Earned first but expiring last, then expiring soonest, then never.
	a := e.earn("m1", 40, "a", &loyalty.ExpiryRule{Mode: loyalty.ExpireEndOfYear}, 0)
	e.clk.Add(1)
	b := e.earn("m1", 40, "b", rolling(5), 0)
	e.clk.Add(1)
	c := e.earn("m1", 40, "c", nil, 0)
	e.clk.Add(1)
	sp, err := e.spend("m1", 60, "s1")
	if err != nil {
		t.Fatalf("Spend: %v", err)
	}
	want := []loyalty.LotUse{{LotID: a.LotID, Points: 40}, {LotID: b.LotID, Points: 20}}
	if fmt.Sprint(sp.Lots) != fmt.Sprint(want) {
		t.Errorf("lots used: got %v, want %v (FIFO by earn time)", sp.Lots, want)
	}
	sp2, err := e.spend("m1", 50, "s2")
	if err != nil {
		t.Fatalf("Spend 2: %v", err)
	}
	want = []loyalty.LotUse{{LotID: b.LotID, Points: 20}, {LotID: c.LotID, Points: 30}}
	if fmt.Sprint(sp2.Lots) != fmt.Sprint(want) {
		t.Errorf("second spend lots: got %v, want %v", sp2.Lots, want)
	}
	e.wantBalance("m1", 10, 0, 0)
}

func testPending(t *testing.T, e *env) {
	e.earn("m1", 30, "now", nil, 0)
	p := e.earn("m1", 100, "order", nil, 7)
	e.wantBalance("m1", 30, 100, 0)
	_, err := e.spend("m1", 50, "s1")
	wantKind(t, "spend of pending points", err, errs.Invalid)
	e.clk.Add(days(7) - 1)
	_, err = e.spend("m1", 50, "s2")
	wantKind(t, "spend a nanosecond early", err, errs.Invalid)
	e.wantBalance("m1", 30, 100, 0)
	e.clk.Add(1)
	e.wantBalance("m1", 130, 0, 0)
	sp, err := e.spend("m1", 50, "s3")
	if err != nil {
		t.Fatalf("Spend after pending period: %v", err)
	}
	if len(sp.Lots) != 2 || sp.Lots[1].LotID != p.LotID || sp.Lots[1].Points != 20 || sp.After.Pending != 0 || sp.After.Available != 80 {
		t.Errorf("spend entry: got lots %v after %+v, want 30 then 20 from the matured lot, 80 available", sp.Lots, sp.After)
	}
	e.wantBalance("m1", 80, 0, 0)
}

func testNeverNegative(t *testing.T, e *env) {
	e.earn("m1", 10, "e1", nil, 0)
	_, err := e.spend("m1", 11, "s1")
	wantKind(t, "overspend", err, errs.Invalid)
	if msg := errs.SafeMessage(err); msg != "insufficient points" {
		t.Errorf("safe message: got %q, want %q", msg, "insufficient points")
	}
	e.wantBalance("m1", 10, 0, 0)
	// Expired but not yet swept points are not spendable either.
	e.earn("m1", 10, "e2", rolling(1), 0)
	e.clk.Add(days(1))
	_, err = e.spend("m1", 15, "s2")
	wantKind(t, "spend of expired points", err, errs.Invalid)
	if _, err := e.spend("m1", 10, "s3"); err != nil {
		t.Errorf("spend of live points: %v", err)
	}
	e.wantBalance("m1", 0, 0, 0)
}

func testTooManyLots(t *testing.T, e *env) {
	for i := 0; i < loyalty.MaxLotsPerWrite+1; i++ {
		e.earn("m1", 1, fmt.Sprintf("e%d", i), nil, 0)
		e.clk.Add(1)
	}
	_, err := e.spend("m1", loyalty.MaxLotsPerWrite+1, "big")
	wantKind(t, "spend over too many lots", err, errs.TooLarge)
	e.wantBalance("m1", loyalty.MaxLotsPerWrite+1, 0, 0)
	if _, err := e.spend("m1", loyalty.MaxLotsPerWrite, "fits"); err != nil {
		t.Fatalf("spend of %d lots: %v", loyalty.MaxLotsPerWrite, err)
	}
	e.wantBalance("m1", 1, 0, 0)
}

func (e *env) reverse(member, earnKey string, pts int64, key string) (loyalty.Entry, error) {
	return e.svc.Reverse(e.ctx, loyalty.ReverseCmd{MemberID: member, EarnKey: earnKey, Points: pts, Reason: "refund", Key: key})
}

func testReverseClawBack(t *testing.T, e *env) {
	e.earn("m1", 100, "order1", nil, 0)
	e.clk.Add(1)
	e.earn("m1", 50, "signin", nil, 0)
	e.clk.Add(1)
	if _, err := e.spend("m1", 120, "s1"); err != nil { // All of order1, 20 of signin.
		t.Fatal(err)
	}
	e.wantBalance("m1", 30, 0, 0)
	rv, err := e.reverse("m1", "order1", 0, "refund1")
	if err != nil {
		t.Fatalf("Reverse: %v", err)
	}
	if rv.Points != -100 || rv.DebtAdded != 70 || rv.After.Available != 0 || rv.After.Debt != 70 {
		t.Errorf("reversal: got points %d debt added %d after %+v, want -100, 70, 0 available 70 debt", rv.Points, rv.DebtAdded, rv.After)
	}
	e.wantBalance("m1", 0, 0, 70)
	_, err = e.reverse("m1", "order1", 1, "refund2")
	wantKind(t, "reversing more than earned", err, errs.Invalid)
	_, err = e.reverse("m1", "nope", 0, "refund3")
	wantKind(t, "reversing an unknown earning", err, errs.NotExist)
	// Later earnings pay the debt first.
	en := e.earn("m1", 100, "order2", nil, 0)
	if en.DebtPaid != 70 || en.After.Available != 30 || en.After.Debt != 0 {
		t.Errorf("earn after debt: got paid %d after %+v, want 70, 30 available, 0 debt", en.DebtPaid, en.After)
	}
	e.wantBalance("m1", 30, 0, 0)
}

func testReverseDebtMode(t *testing.T, e *env) {
	e.setRules(func(r *loyalty.Rules) { r.Points.Reversal = loyalty.ReverseDebt })
	e.earn("m1", 100, "order1", nil, 0)
	e.clk.Add(1)
	e.earn("m1", 50, "bonus", nil, 0)
	e.clk.Add(1)
	if _, err := e.spend("m1", 60, "s1"); err != nil {
		t.Fatal(err)
	}
	// Partial reversals: 30 then the rest (70); 40 of order1 is left in its lot.
	r1, err := e.reverse("m1", "order1", 30, "refund1")
	if err != nil || r1.DebtAdded != 0 {
		t.Fatalf("first partial reversal: %v, debt %d; want nil, 0", err, r1.DebtAdded)
	}
	e.wantBalance("m1", 60, 0, 0)
	r2, err := e.reverse("m1", "order1", 0, "refund2")
	if err != nil || r2.Points != -70 || r2.DebtAdded != 60 {
		t.Fatalf("second reversal: %v, points %d debt %d; want nil, -70, 60", err, r2.Points, r2.DebtAdded)
	}
	e.wantBalance("m1", 50, 0, 60)
	again, err := e.reverse("m1", "order1", 0, "refund2")
	if err != nil || again.ID != r2.ID {
		t.Errorf("duplicate reversal: got %v id %s, want first result %s", err, again.ID, r2.ID)
	}
	e.wantBalance("m1", 50, 0, 60)
}

func testReverseAfterExpiry(t *testing.T, e *env) {
	e.earn("m1", 100, "order1", rolling(2), 0)
	e.clk.Add(1)
	e.earn("m1", 100, "other", nil, 0)
	if _, err := e.spend("m1", 40, "s1"); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(days(3))
	if res, err := e.svc.ExpireDue(e.ctx, e.clk.Now(), 100); err != nil || res.Items != 1 || res.Points != 60 {
		t.Fatalf("ExpireDue: %+v, %v; want 1 item, 60 points", res, err)
	}
	rv, err := e.reverse("m1", "order1", 0, "refund1")
	if err != nil {
		t.Fatalf("Reverse: %v", err)
	}
	// 60 expired already (forgiven), 40 were spent: clawed back from "other".
	if rv.Forgiven != 60 || rv.DebtAdded != 0 || rv.After.Available != 60 {
		t.Errorf("reversal: got forgiven %d debt %d after %+v, want 60, 0, 60 available", rv.Forgiven, rv.DebtAdded, rv.After)
	}
	e.wantBalance("m1", 60, 0, 0)
}

func testAdjust(t *testing.T, e *env) {
	en, err := e.svc.Adjust(e.ctx, loyalty.AdjustCmd{MemberID: "m1", Points: 40, Reason: "goodwill", Operator: "op:a", Key: "adj1"})
	if err != nil || en.Kind != loyalty.KindAdjust || en.Source.Operator != "op:a" {
		t.Fatalf("Adjust +40: %+v, %v", en, err)
	}
	_, err = e.svc.Adjust(e.ctx, loyalty.AdjustCmd{MemberID: "m1", Points: -50, Reason: "fix", Operator: "op:a", Key: "adj2"})
	wantKind(t, "adjust below zero", err, errs.Invalid)
	_, err = e.svc.Adjust(e.ctx, loyalty.AdjustCmd{MemberID: "m1", Points: -10, Reason: "fix", Key: "adj3"})
	wantKind(t, "adjust without operator", err, errs.Invalid)
	if _, err := e.svc.Adjust(e.ctx, loyalty.AdjustCmd{MemberID: "m1", Points: -10, Reason: "fix", Operator: "op:a", Key: "adj4"}); err != nil {
		t.Fatalf("Adjust -10: %v", err)
	}
	e.wantBalance("m1", 30, 0, 0)
}

// testConcurrentEarnSpend sends about 1,000 earn and spend commands on one
// member from e.cfg.workers goroutines (16 by default): no update is lost
// and no balance is ever negative.
func testConcurrentEarnSpend(t *testing.T, e *env) {
	workers := e.cfg.workers
	perWorker := (1000 + workers - 1) / workers // 16 workers: 1,008 commands.
	var mu sync.Mutex
	var earned, spent int64
	var entries []loyalty.Entry
	var busy atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				key := fmt.Sprintf("w%d-%d", w, i)
				var en loyalty.Entry
				var err error
				if i%2 == 0 {
					en, err = e.svc.Earn(e.ctx, loyalty.EarnCmd{MemberID: "hot", Points: int64(5 + i%7), Reason: "load", Key: key})
				} else {
					en, err = e.spend("hot", int64(3+i%11), key)
				}
				if errs.Is(errs.Invalid, err) && errs.SafeMessage(err) == "insufficient points" {
					continue
				}
				if errs.Is(errs.Transient, err) {
					// Refused after the retry budget (a slow, loaded machine):
					// no effect, which the balance check below verifies.
					busy.Add(1)
					continue
				}
				if err != nil {
					t.Errorf("command %s: %v", key, err)
					return
				}
				mu.Lock()
				entries = append(entries, en)
				if en.Points > 0 {
					earned += en.Points
				} else {
					spent -= en.Points
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, en := range entries {
		if en.After.Available < 0 || en.After.Pending < 0 {
			t.Fatalf("entry %s left a negative balance: %+v", en.ID, en.After)
		}
	}
	e.wantBalance("hot", earned-spent, 0, 0)
	if n := len(e.ledger("hot")); n != len(entries) {
		t.Errorf("ledger entries: got %d, want %d", n, len(entries))
	}
	if spent == 0 {
		t.Errorf("no spend succeeded; the test does not exercise spending")
	}
	if n := busy.Load(); n > int64(workers*perWorker/20) {
		t.Errorf("%d of %d commands refused as busy; want at most 5%%", n, workers*perWorker)
	} else if n > 0 {
		t.Logf("%d of %d commands refused as busy (retry budget exhausted)", n, workers*perWorker)
	}
}

// testConcurrentSameKey sends one command 20 times at once: one effect.
func testConcurrentSameKey(t *testing.T, e *env) {
	const n = 20
	ids := make([]string, n)
	errList := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			en, err := e.svc.Earn(e.ctx, loyalty.EarnCmd{MemberID: "m1", Points: 77, Reason: "pay", Key: "pay:tx42"})
			ids[i], errList[i] = en.ID, err
		}()
	}
	wg.Wait()
	for i := range ids {
		if errList[i] != nil || ids[i] != ids[0] {
			t.Errorf("call %d: got %v, entry %s; want the first entry %s", i, errList[i], ids[i], ids[0])
		}
	}
	e.wantBalance("m1", 77, 0, 0)
	if got := len(e.ledger("m1")); got != 1 {
		t.Errorf("ledger entries: got %d, want 1", got)
	}
}
