package loyaltytest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/wemember/wemember/shared/loyalty"
)

// mergeLots are the lots of the merge scenario.
type mergeLots struct{ a, b, c, d loyalty.Entry }

// mergeScenario gives "new" a spent-and-reversed earning (debt 30), lot B
// (50, earned first, expires soonest), lot C (70) and a pending lot D (40),
// and growth 1500; and "old" lot A (100, earned between B and C) and growth
// 4000 (silver).
func mergeScenario(t *testing.T, e *env) mergeLots {
	t.Helper()
	e.setRules(func(r *loyalty.Rules) { r.Points.Reversal = loyalty.ReverseDebt })
	var l mergeLots
	e.earn("new", 30, "n:x", rolling(365), 0)
	if _, err := e.spend("new", 30, "n:s"); err != nil {
		t.Fatalf("spend: %v", err)
	}
	l.b = e.earn("new", 50, "n:b", rolling(10), 0)
	e.clk.Add(days(1))
	l.a = e.earn("old", 100, "o:a", rolling(30), 0)
	e.clk.Add(days(1))
	l.c = e.earn("new", 70, "n:c", rolling(60), 0)
	l.d = e.earn("new", 40, "n:d", rolling(90), 10)
	if _, err := e.svc.Reverse(e.ctx, loyalty.ReverseCmd{MemberID: "new", EarnKey: "n:x", Reason: "refund", Key: "n:r"}); err != nil {
		t.Fatalf("Reverse: %v", err)
	}
	e.growth("old", 4000, "o:g")
	e.growth("new", 1500, "n:g")
	e.wantBalance("new", 120, 40, 30)
	if got := e.level("old").Level.ID; got != "silver" {
		t.Fatalf("old before the merge: got level %s, want silver", got)
	}
	return l
}

// checkMerged asserts the state right after "new" was absorbed into "old".
func checkMerged(t *testing.T, e *env, l mergeLots) {
	t.Helper()
	e.wantBalance("old", 220, 40, 30)
	e.wantBalance("new", 0, 0, 0)
	b := e.balance("old")
	if want := (loyalty.Expiring{Points: 50, At: Start.AddDate(0, 0, 10)}); b.ExpiringSoonest.Points != want.Points ||
		!b.ExpiringSoonest.At.Equal(want.At) {
		t.Errorf("expiring soonest: got %+v, want %+v (lot B of new)", b.ExpiringSoonest, want)
	}
	if b.Earned != 290 || b.Spent != 30 || b.Reversed != 30 {
		t.Errorf("lifetime totals: got earned %d spent %d reversed %d, want 290 30 30", b.Earned, b.Spent, b.Reversed)
	}
	v := e.level("old")
	if v.Level.ID != "gold" || v.Growth != 5500 {
		t.Errorf("old level: got %s growth %d, want gold 5500", v.Level.ID, v.Growth)
	}
	var moved, debt int64
	var lots int
	for _, en := range e.ledger("old") {
		if en.Kind == loyalty.KindMerge {
			if en.Source.MergeFrom != "new" || en.Reason != "merge" {
				t.Errorf("merge entry of old: got source %+v reason %q", en.Source, en.Reason)
			}
			moved, debt, lots = moved+en.Points, debt+en.DebtMoved, lots+len(en.Lots)
		}
	}
	if moved != 160 || debt != 30 || lots != 3 {
		t.Errorf("merge entries of old: got %d points, %d debt, %d lots; want 160, 30, 3", moved, debt, lots)
	}
	newLedger := e.ledger("new")
	if len(newLedger) == 0 || newLedger[0].Kind != loyalty.KindMerge || newLedger[0].Source.MergeInto != "old" ||
		newLedger[0].After != (loyalty.BalanceAfter{}) {
		t.Errorf("newest entry of new: got %+v, want a merge into old leaving zero", newLedger[0])
	}
}

type mergeSnapshot struct {
	Old, New             loyalty.Balance
	Level                loyalty.LevelView
	OldLedger, NewLedger int
}

func (e *env) mergeSnapshot() mergeSnapshot {
	return mergeSnapshot{Old: e.balance("old"), New: e.balance("new"), Level: e.level("old"),
		OldLedger: len(e.ledger("old")), NewLedger: len(e.ledger("new"))}
}

// testAbsorb merges "new" into "old": the survivor's balance, expiry,
// pending period, FIFO order, debt and level are as if it had earned them;
// a second run changes nothing; a catch-up pass moves what arrived later;
// an earning of "new" can still be reversed on "old".
func testAbsorb(t *testing.T, e *env) {
	l := mergeScenario(t, e)
	if err := e.svc.Absorb(e.ctx, "new", "old"); err != nil {
		t.Fatalf("Absorb: %v", err)
	}
	checkMerged(t, e, l)
	first := e.mergeSnapshot()
	if err := e.svc.Absorb(e.ctx, "new", "old"); err != nil {
		t.Fatalf("second Absorb: %v", err)
	}
	if got := e.mergeSnapshot(); !reflect.DeepEqual(got, first) {
		t.Fatalf("second Absorb changed the state:\n got %+v\nwant %+v", got, first)
	}
	if err := e.svc.Absorb(e.ctx, "new", "other"); err == nil {
		t.Errorf("Absorb into a second survivor: got nil error, want refusal")
	}
	// FIFO across both members' lots: B (new, earned first), then A (old).
	sp, err := e.spend("old", 60, "o:s1")
	if err != nil {
		t.Fatalf("spend after merge: %v", err)
	}
	want := []loyalty.LotUse{{LotID: l.b.LotID, Points: 50}, {LotID: l.a.LotID, Points: 10}}
	if !reflect.DeepEqual(sp.Lots, want) {
		t.Errorf("spend lots: got %+v, want %+v", sp.Lots, want)
	}
	// The pending lot D keeps its period (10 days from Start+2d) and is
	// released on old; lot A keeps its expiry (Start+31d).
	e.clk.Add(days(10) + 60e9)
	if res, err := e.svc.ReleaseDue(e.ctx, e.clk.Now(), 100); err != nil || res.Items != 1 || res.Points != 40 || res.Skipped != 0 {
		t.Errorf("ReleaseDue: got %+v, %v; want 1 item of 40 points", res, err)
	}
	e.wantBalance("old", 200, 0, 30)
	e.clk.Add(days(19))
	// Lot B (spent) leaves a stale index item: skipped.
	if res, err := e.svc.ExpireDue(e.ctx, e.clk.Now(), 100); err != nil || res.Items != 1 || res.Points != 90 || res.Skipped != 1 {
		t.Errorf("ExpireDue: got %+v, %v; want lot A's 90 points and lot B's stale item skipped", res, err)
	}
	e.wantBalance("old", 110, 0, 30)
	// An earning of new is reversed on old, from its moved lot C.
	if _, err := e.svc.Reverse(e.ctx, loyalty.ReverseCmd{MemberID: "old", EarnKey: "n:c", Points: 20, Reason: "refund", Key: "o:r"}); err != nil {
		t.Fatalf("Reverse of new's earning on old: %v", err)
	}
	e.wantBalance("old", 90, 0, 30)
	// Commands still in flight for new at the merge land on new; the
	// catch-up pass moves them.
	e.earn("new", 25, "n:late", nil, 0)
	e.growth("new", 100, "n:g2")
	if err := e.svc.Absorb(e.ctx, "new", "old"); err != nil {
		t.Fatalf("catch-up Absorb: %v", err)
	}
	e.wantBalance("new", 0, 0, 0)
	e.wantBalance("old", 115, 0, 30)
	if v := e.level("old"); v.Growth != 5600 {
		t.Errorf("growth after catch-up: got %d, want 5600", v.Growth)
	}
}

// testAbsorbConcurrent runs two Absorbs of the same pair at once: the
// result is that of one.
func testAbsorbConcurrent(t *testing.T, e *env) {
	l := mergeScenario(t, e)
	var wg sync.WaitGroup
	errList := make([]error, 2)
	for i := range errList {
		wg.Add(1)
		go func() { defer wg.Done(); errList[i] = e.svc.Absorb(e.ctx, "new", "old") }()
	}
	wg.Wait()
	for i, err := range errList {
		if err != nil {
			t.Fatalf("Absorb %d: %v", i, err)
		}
	}
	checkMerged(t, e, l)
}

// testAbsorbManyLots moves more lots than one write holds, with three
// concurrent runs, plus a set level better than the survivor's.
func testAbsorbManyLots(t *testing.T, e *env) {
	const n = 40
	for i := 0; i < n; i++ {
		e.earn("new", int64(i+1), fmt.Sprintf("n:%d", i), rolling(100+i), 0)
	}
	e.clk.Add(60e9)
	e.earn("old", 1000, "o:1", rolling(5), 0)
	until := Start.AddDate(0, 1, 0)
	if _, err := e.svc.SetLevel(e.ctx, loyalty.SetLevelCmd{MemberID: "new", Level: "gold", Until: until, Operator: "op:t", Reason: "paid", Key: "n:set"}); err != nil {
		t.Fatalf("SetLevel: %v", err)
	}
	var wg sync.WaitGroup
	errList := make([]error, 3)
	for i := range errList {
		wg.Add(1)
		go func() { defer wg.Done(); errList[i] = e.svc.Absorb(e.ctx, "new", "old") }()
	}
	wg.Wait()
	for i, err := range errList {
		if err != nil {
			t.Fatalf("Absorb %d: %v", i, err)
		}
	}
	const total = n * (n + 1) / 2
	e.wantBalance("old", 1000+total, 0, 0)
	e.wantBalance("new", 0, 0, 0)
	var lots int
	for _, en := range e.ledger("old") {
		if en.Kind == loyalty.KindMerge {
			lots += len(en.Lots)
		}
	}
	if lots != n {
		t.Errorf("lots moved by merge entries: got %d, want %d", lots, n)
	}
	if v := e.level("old"); v.Level.ID != "gold" || v.Set == nil || !v.Set.Until.Equal(until) {
		t.Errorf("set level: got %s %+v, want gold until %v", v.Level.ID, v.Set, until)
	}
	// The 1000-point lot of old was earned last: FIFO spends new's lots first.
	sp, err := e.spend("old", 3, "o:s")
	if err != nil || len(sp.Lots) != 2 || sp.Lots[0].Points != 1 || sp.Lots[1].Points != 2 {
		t.Errorf("spend after merge: got %+v, %v; want lots of 1 and 2 points", sp.Lots, err)
	}
}

// testAbsorbWhileBusy merges while "new" keeps earning and "old" keeps
// spending; after a catch-up pass nothing is lost or counted twice.
func testAbsorbWhileBusy(t *testing.T, e *env) {
	e.earn("old", 500, "o:seed", nil, 0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var earned, spent int64
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				en, err := e.svc.Earn(e.ctx, loyalty.EarnCmd{MemberID: "new", Points: 7, Reason: "load", Key: fmt.Sprintf("n:%d-%d", w, i)})
				if err != nil {
					t.Errorf("Earn on new: %v", err)
					return
				}
				mu.Lock()
				earned += en.Points
				mu.Unlock()
			}
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 10; i++ {
			en, err := e.spend("old", 9, fmt.Sprintf("o:s%d", i))
			if err != nil {
				t.Errorf("Spend on old: %v", err)
				return
			}
			mu.Lock()
			spent -= en.Points
			mu.Unlock()
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 3; i++ {
			if err := e.svc.Absorb(e.ctx, "new", "old"); err != nil {
				t.Errorf("Absorb %d: %v", i, err)
			}
		}
	}()
	wg.Wait()
	if err := e.svc.Absorb(e.ctx, "new", "old"); err != nil {
		t.Fatalf("catch-up Absorb: %v", err)
	}
	e.wantBalance("new", 0, 0, 0)
	e.wantBalance("old", 500+earned-spent, 0, 0)
	if b := e.balance("old"); b.Earned != 500+earned || b.Spent != spent {
		t.Errorf("old totals: got earned %d spent %d, want %d %d", b.Earned, b.Spent, 500+earned, spent)
	}
}
