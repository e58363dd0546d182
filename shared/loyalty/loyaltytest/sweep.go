package loyaltytest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/store"
)

func (e *env) expire(limit int) loyalty.SweepResult {
	e.t.Helper()
	res, err := e.svc.ExpireDue(e.ctx, e.clk.Now(), limit)
	if err != nil {
		e.t.Fatalf("ExpireDue: %v", err)
	}
	return res
}

func countKind(led []loyalty.Entry, k loyalty.EntryKind) int {
	n := 0
	for _, en := range led {
		if en.Kind == k {
			n++
		}
	}
	return n
}

func testExpireDue(t *testing.T, e *env) {
	day := e.earn("m1", 10, "d1", rolling(1), 0)
	e.earn("m1", 20, "month", &loyalty.ExpiryRule{Mode: loyalty.ExpireEndOfMonth}, 0)
	e.earn("m1", 40, "never", &loyalty.ExpiryRule{Mode: loyalty.ExpireNever}, 0)
	e.earn("m2", 5, "d2", rolling(1), 0)
	e.earn("m3", 7, "d3", rolling(1), 0)
	if _, err := e.spend("m3", 7, "s3"); err != nil { // Its index item is now stale.
		t.Fatal(err)
	}
	if res := e.expire(100); res.Items != 0 {
		t.Errorf("before expiry: got %+v, want nothing", res)
	}
	e.clk.Add(days(1))
	res := e.expire(100)
	if res.Items != 2 || res.Points != 15 || res.Skipped != 1 || res.More {
		t.Errorf("after a day: got %+v, want 2 items, 15 points, 1 stale skipped", res)
	}
	e.wantBalance("m1", 60, 0, 0)
	e.wantBalance("m2", 0, 0, 0)
	led := e.ledger("m1")
	if led[0].Kind != loyalty.KindExpire || led[0].LotID != day.LotID || led[0].Points != -10 {
		t.Errorf("expire entry: got %+v, want expiry of lot %s for -10", led[0], day.LotID)
	}
	if res := e.expire(100); res.Items != 0 || res.Skipped != 0 {
		t.Errorf("second run: got %+v, want nothing", res)
	}
	// End of month in Shanghai: 1 April 00:00 +08:00.
	eom := time.Date(2026, 4, 1, 0, 0, 0, 0, calendar.Zone())
	e.clk.Add(eom.Sub(e.clk.Now()) - 1)
	if res := e.expire(100); res.Items != 0 {
		t.Errorf("a nanosecond before month end: got %+v, want nothing", res)
	}
	e.clk.Add(1)
	if res := e.expire(100); res.Items != 1 || res.Points != 20 {
		t.Errorf("at month end: got %+v, want 1 item, 20 points", res)
	}
	b := e.balance("m1")
	if b.Available != 40 || b.Expired != 30 {
		t.Errorf("balance: got %+v, want 40 available, 30 expired", b)
	}
}

// seedDue earns n lots over members, expiring 1..3 days out, and returns
// the total points.
func (e *env) seedDue(n, members int) int64 {
	var total int64
	for i := 0; i < n; i++ {
		pts := int64(1 + i%9)
		e.earn(fmt.Sprintf("m%d", i%members), pts, fmt.Sprintf("seed%d", i), rolling(1+i%3), 0)
		total += pts
	}
	return total
}

func testExpireOverlapping(t *testing.T, e *env) {
	const lots, members = 40, 5
	total := e.seedDue(lots, members)
	e.clk.Add(days(4))
	var wg sync.WaitGroup
	results := make([]loyalty.SweepResult, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.svc.ExpireDue(e.ctx, e.clk.Now(), 1000)
			if err != nil {
				t.Errorf("run %d: %v", i, err)
			}
			results[i] = r
		}()
	}
	wg.Wait()
	items, points := results[0].Items+results[1].Items, results[0].Points+results[1].Points
	if items != lots || points != total {
		t.Errorf("two runs settled %d items, %d points; want %d, %d (%+v)", items, points, lots, total, results)
	}
	for m := 0; m < members; m++ {
		id := fmt.Sprintf("m%d", m)
		e.wantBalance(id, 0, 0, 0)
		if got := countKind(e.ledger(id), loyalty.KindExpire); got != lots/members {
			t.Errorf("%s expire entries: got %d, want %d", id, got, lots/members)
		}
	}
	if res := e.expire(1000); res.Items != 0 {
		t.Errorf("third run: got %+v, want nothing", res)
	}
}

func testExpireResumes(t *testing.T, e *env) {
	total := e.seedDue(25, 4)
	e.clk.Add(days(4))
	cancelled, cancel := context.WithCancel(e.ctx)
	cancel()
	res, err := e.svc.ExpireDue(cancelled, e.clk.Now(), 10)
	if err != nil || !res.More || res.Items != 0 {
		t.Errorf("cancelled run: got %+v, %v; want More and no items", res, err)
	}
	var items int
	var points int64
	for i, want := range []struct {
		items int
		more  bool
	}{{10, true}, {10, true}, {5, false}} {
		res := e.expire(10)
		if res.Items != want.items || res.More != want.more {
			t.Errorf("run %d: got %+v, want %d items, more %v", i, res, want.items, want.more)
		}
		items, points = items+res.Items, points+res.Points
	}
	if items != 25 || points != total {
		t.Errorf("all runs: got %d items, %d points; want 25, %d", items, points, total)
	}
}

func testReleaseDue(t *testing.T, e *env) {
	e.earn("m1", 100, "order", nil, 3)
	res, err := e.svc.ReleaseDue(e.ctx, e.clk.Now(), 10)
	if err != nil || res.Items != 0 {
		t.Errorf("before the period ends: got %+v, %v; want nothing", res, err)
	}
	e.clk.Add(days(3))
	res, err = e.svc.ReleaseDue(e.ctx, e.clk.Now(), 10)
	if err != nil || res.Items != 1 || res.Points != 100 {
		t.Errorf("after the period: got %+v, %v; want 1 item, 100 points", res, err)
	}
	sp, err := e.spend("m1", 10, "s1")
	if err != nil || sp.After.Available != 90 || sp.After.Pending != 0 {
		t.Errorf("spend after release: got %+v, %v; want 90 available, 0 pending", sp.After, err)
	}
	res, _ = e.svc.ReleaseDue(e.ctx, e.clk.Now(), 10)
	if res.Items != 0 {
		t.Errorf("second release: got %+v, want nothing", res)
	}
}

func testExpiringWithin(t *testing.T, e *env) {
	soon := e.earn("m1", 50, "soon", rolling(3), 0)
	e.earn("m1", 60, "later", rolling(10), 0)
	e.earn("m1", 70, "never", nil, 0)
	for i := 0; i < 3; i++ {
		e.earn(fmt.Sprintf("p%d", i), 5, fmt.Sprintf("p%d", i), rolling(2), 0)
	}
	if _, err := e.spend("m1", 20, "s1"); err != nil {
		t.Fatal(err)
	}
	var all []loyalty.Reminder
	cursor, pages := "", 0
	for {
		got, next, err := e.svc.ExpiringWithin(e.ctx, e.clk.Now(), days(7), cursor, 2)
		if err != nil {
			t.Fatalf("ExpiringWithin: %v", err)
		}
		if len(got) > 2 {
			t.Fatalf("page of %d, want at most 2", len(got))
		}
		all, pages = append(all, got...), pages+1
		if next == "" {
			break
		}
		cursor = next
	}
	if len(all) != 4 || pages < 2 {
		t.Fatalf("reminders: got %d over %d pages (%+v), want 4 over 2+", len(all), pages, all)
	}
	last := all[3]
	if last.MemberID != "m1" || last.LotID != soon.LotID || last.Points != 30 {
		t.Errorf("last reminder: got %+v, want m1's soon lot with 30 points left", last)
	}
}

// testSweepCancelledMidBatch ends a run's context while a batch write is
// in flight, as the run's deadline does: the write fails with the context,
// the run reports More without an error or a failure, keeps what it
// settled (and counts exactly that), and the next run settles the rest
// once. Under the race detector it also shows that the partitions settled
// side by side agree on how the run was cut.
func testSweepCancelledMidBatch(t *testing.T, e *env) {
	owners := []string{"m0", "m0", "m1", "m2", "m3", "m4", "m5"}
	for i, m := range owners {
		e.earn(m, 10, fmt.Sprintf("lot%d", i), rolling(1), 0)
	}
	e.clk.Add(days(2))
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	f, svc := e.faulty(loyalty.WithSweepWorkers(2))
	f.BeforeWrite = func(wctx context.Context, ms []store.Mutation) error {
		if touches(ms, "member#m1", "points") {
			cancel() // The deadline passes while m1's write is in flight...
			time.Sleep(20 * time.Millisecond)
			return wctx.Err() // ...and fails with it.
		}
		return nil
	}
	res, err := svc.ExpireDue(ctx, e.clk.Now(), 100)
	if err != nil || !res.More || res.Failed != 0 || res.Items >= len(owners) {
		t.Fatalf("cut run: got %+v, %v; want some lots settled, More, no failure", res, err)
	}
	settled := 0
	for _, m := range []string{"m0", "m1", "m2", "m3", "m4", "m5"} {
		settled += countKind(e.ledger(m), loyalty.KindExpire)
	}
	if settled != res.Items || int64(10*settled) != res.Points {
		t.Errorf("cut run: reported %+v, but %d lots were expired", res, settled)
	}
	next := e.expire(100)
	if next.Items != len(owners)-res.Items || next.More || next.Failed != 0 {
		t.Errorf("next run: got %+v, want the other %d lots and done", next, len(owners)-res.Items)
	}
	for _, m := range []string{"m0", "m1", "m2", "m3", "m4", "m5"} {
		e.wantBalance(m, 0, 0, 0)
		want := 1
		if m == "m0" {
			want = 2
		}
		if got := countKind(e.ledger(m), loyalty.KindExpire); got != want {
			t.Errorf("%s expire entries: got %d, want %d", m, got, want)
		}
	}
}

// testSweepCursorSavedAtDeadline cuts a run off by its deadline after it
// read empty past days: it still saves its cursor past them, and the next
// run starts reading there instead of at the day the rules were installed.
func testSweepCursorSavedAtDeadline(t *testing.T, e *env) {
	e.clk.Add(days(9))
	e.earn("m1", 10, "d1", rolling(1), 0) // Due on the 20th.
	e.clk.Add(days(1) + time.Hour)
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	f, svc := e.faulty(loyalty.WithSweepWorkers(1)) // Partitions in day order.
	f.BeforeQuery = func(_ context.Context, q store.Query) {
		if strings.HasPrefix(q.PK, "due#points#20260315") {
			cancel() // The deadline passes while the run reads the 15th.
		}
	}
	res, err := svc.ExpireDue(ctx, e.clk.Now(), 100)
	if err != nil || !res.More || res.Items != 0 {
		t.Fatalf("cut run: got %+v, %v; want More and nothing settled", res, err)
	}
	var cur struct {
		Day string `json:"day"`
	}
	if _, err := store.GetJSON(e.ctx, e.st, store.K("due#cursor#loyalty", "points"), &cur); err != nil {
		t.Fatalf("cursor after the cut run: %v; want it saved past the empty days", err)
	}
	if cur.Day != "20260315" {
		t.Fatalf("cursor after the cut run: got day %q, want 20260315, the day it was reading", cur.Day)
	}
	f.Reset()
	res, err = svc.ExpireDue(e.ctx, e.clk.Now(), 100)
	if err != nil || res.More || res.Items != 1 {
		t.Errorf("next run: got %+v, %v; want the one lot and done", res, err)
	}
	q := f.Queried()
	for _, pk := range q {
		if pk < "due#points#"+cur.Day {
			t.Errorf("next run read %s; want it to start at due#points#%s", pk, cur.Day)
		}
	}
	if want := 6 * (store.Shards + 1); len(q) != want { // The 15th to the 20th, each in all its partitions.
		t.Errorf("next run read %d partitions, want %d: %v", len(q), want, q)
	}
}

// touches reports whether a write changes an item of partition pk whose
// sort key is sk.
func touches(ms []store.Mutation, pk, sk string) bool {
	for _, m := range ms {
		if m.Key.PK == pk && m.Key.SK == sk {
			return true
		}
	}
	return false
}
