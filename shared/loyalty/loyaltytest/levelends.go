package loyaltytest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/store"
)

// endingWithin lists every level ending within d after now, limit at a time.
func (e *env) endingWithin(now time.Time, d time.Duration, limit int) []loyalty.LevelReminder {
	e.t.Helper()
	var all []loyalty.LevelReminder
	cursor := ""
	for range 100 {
		page, next, err := e.svc.LevelsEndingWithin(e.ctx, now, d, cursor, limit)
		if err != nil {
			e.t.Fatalf("LevelsEndingWithin: %v", err)
		}
		if len(page) > limit {
			e.t.Fatalf("LevelsEndingWithin: got a page of %d, limit %d", len(page), limit)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		cursor = next
	}
	e.t.Fatal("LevelsEndingWithin: no end of pages")
	return nil
}

// levelEndItems counts the level-end index items of at's Shanghai day, in
// its shards and its unsharded partition.
func (e *env) levelEndItems(at time.Time) int {
	e.t.Helper()
	return e.indexItems("due#levelend#" + calendar.Day(at))
}

func (e *env) setLevel(member, level string, until time.Time, key string) {
	e.t.Helper()
	_, err := e.svc.SetLevel(e.ctx, loyalty.SetLevelCmd{MemberID: member, Level: level, Until: until, Operator: "op:a", Reason: "paid", Key: key})
	if err != nil {
		e.t.Fatalf("SetLevel %s: %v", key, err)
	}
}

func wantEnds(t *testing.T, what string, got []loyalty.LevelReminder, want ...loyalty.LevelReminder) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	for i := range got {
		got[i].At = got[i].At.UTC()
	}
	for i := range want {
		want[i].At = want[i].At.UTC()
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %+v, want %+v", what, got, want)
	}
}

func testLevelEndsSet(t *testing.T, e *env) {
	e.growth("m1", 1200, "g1") // Earned silver.
	until := Start.Add(days(30))
	e.setLevel("m1", "gold", until, "paid1")
	want := loyalty.LevelReminder{MemberID: "m1", Level: "gold", Next: "silver", At: until, Kind: loyalty.LevelEndSet}
	wantEnds(t, "30 days ahead, 3-day window", e.endingWithin(Start, days(3), 10))
	wantEnds(t, "30-day window", e.endingWithin(Start, days(30), 10), want)
	wantEnds(t, "3 days before", e.endingWithin(until.Add(-days(3)), days(3), 10), want)
	wantEnds(t, "at the end", e.endingWithin(until, days(3), 10))

	moved := Start.Add(days(60))
	e.setLevel("m1", "gold", moved, "paid2")
	want.At = moved
	wantEnds(t, "old date after the move", e.endingWithin(until.Add(-days(3)), days(3), 10))
	wantEnds(t, "new date after the move", e.endingWithin(moved.Add(-days(3)), days(3), 10), want)
	if n := e.levelEndItems(until); n != 0 {
		t.Errorf("old index items after the move: got %d, want 0", n)
	}
	if n := e.levelEndItems(moved); n != 1 {
		t.Errorf("new index items after the move: got %d, want 1", n)
	}

	e.setLevel("m1", "", time.Time{}, "clear")
	wantEnds(t, "cleared", e.endingWithin(moved.Add(-days(3)), days(3), 10))
	if n := e.levelEndItems(moved); n != 0 {
		t.Errorf("index items after clearing: got %d, want 0", n)
	}

	// A set level below the earned one ends unnoticed.
	e.setLevel("m1", "normal", moved, "worse")
	if n := e.levelEndItems(moved); n != 1 {
		t.Errorf("index items of the worse level: got %d, want 1", n)
	}
	wantEnds(t, "worse set level", e.endingWithin(moved.Add(-days(3)), days(3), 10))
}

func testLevelEndsGrace(t *testing.T, e *env) {
	e.silverBelow("m1")
	e.silverBelow("m2")
	reviewAt := Start.AddDate(0, 12, 0)
	e.clk.Add(reviewAt.Sub(e.clk.Now()))
	wantEnds(t, "before the review", e.endingWithin(e.clk.Now(), days(31), 10))
	if res := e.review(); res.Items != 2 {
		t.Fatalf("review: got %+v, want 2 items", res)
	}
	grace := reviewAt.AddDate(0, 0, 30)
	wantEnds(t, "grace started", e.endingWithin(e.clk.Now(), days(30), 10),
		loyalty.LevelReminder{MemberID: "m1", Level: "silver", Next: "normal", At: grace, Kind: loyalty.LevelEndGrace},
		loyalty.LevelReminder{MemberID: "m2", Level: "silver", Next: "normal", At: grace, Kind: loyalty.LevelEndGrace})
	wantEnds(t, "grace, short window", e.endingWithin(e.clk.Now(), days(29), 10))

	e.growth("m2", 300, "m2:comeback") // Qualified again: keeps silver.
	wantEnds(t, "m2 qualified again", e.endingWithin(e.clk.Now(), days(30), 10),
		loyalty.LevelReminder{MemberID: "m1", Level: "silver", Next: "normal", At: grace, Kind: loyalty.LevelEndGrace})

	e.clk.Add(days(30))
	if res := e.review(); res.Items != 2 {
		t.Fatalf("review after grace: got %+v, want 2 items", res)
	}
	if n := e.levelEndItems(grace); n != 0 {
		t.Errorf("index items once grace ended: got %d, want 0", n)
	}
}

func testLevelEndsStale(t *testing.T, e *env) {
	until := Start.Add(days(2))
	var want []loyalty.LevelReminder
	for i := range 5 {
		m := fmt.Sprintf("p%d", i)
		e.setLevel(m, "silver", until.Add(time.Duration(i)*time.Hour), "paid"+m)
		want = append(want, loyalty.LevelReminder{MemberID: m, Level: "silver", Next: "normal",
			At: until.Add(time.Duration(i) * time.Hour), Kind: loyalty.LevelEndSet})
	}
	// Stale items: an unknown member, a date the member no longer has, a
	// bad key; in the member's shard and in the unsharded partition that
	// items written before the index was sharded are in.
	day := "due#levelend#" + calendar.Day(until)
	put := func(sk, member string, at time.Time) {
		ref := fmt.Appendf(nil, `{"member_id":%q,"at":%q}`, member, at.UTC().Format(time.RFC3339Nano))
		for _, pk := range []string{day, store.Sharded(day, member)} {
			if err := e.st.Write(e.ctx, store.Put(store.K(pk, sk), ref)); err != nil {
				t.Fatalf("Write: %v", err)
			}
		}
	}
	put("ghost#set", "ghost", until)
	put("p1#set", "p1", until.Add(-time.Minute)) // Overwrites p1's item with a wrong date.
	put("p2#grace", "p2", until)
	put("p3x#set", "p9", until) // A key that names another member.
	want = append(want[:1], want[2:]...)
	for _, limit := range []int{1, 2, 10} {
		wantEnds(t, fmt.Sprintf("limit %d", limit), e.endingWithin(Start, days(3), limit), want...)
	}
}

func testLevelEndsMerge(t *testing.T, e *env) {
	until := Start.Add(days(2))
	e.setLevel("from", "gold", until, "paid-from")
	if err := e.svc.Absorb(e.ctx, "from", "into"); err != nil {
		t.Fatalf("Absorb: %v", err)
	}
	// The set level moved to the survivor; the merged-away member's end is gone.
	wantEnds(t, "after the merge", e.endingWithin(Start, days(3), 10),
		loyalty.LevelReminder{MemberID: "into", Level: "gold", Next: "normal", At: until, Kind: loyalty.LevelEndSet})
	if n := e.levelEndItems(until); n != 1 {
		t.Errorf("index items after the merge: got %d, want 1", n)
	}
}
