package loyaltytest

import (
	"reflect"
	"testing"

	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/store/storetest"
)

// testStanding: the member card's view (Standing) is what Level and
// Balance say, read in one batched read and one query page, both
// eventually consistent; an unknown member has the lowest level and no
// points.
func testStanding(t *testing.T, e *env) {
	f, svc := e.faulty()
	if _, err := svc.Rules(e.ctx); err != nil { // The card reads with the rules kept.
		t.Fatal(err)
	}
	for _, member := range []string{"m1", "nobody"} {
		if member == "m1" {
			e.growth("m1", 1200, "g1")
			e.earn("m1", 40, "a", &loyalty.ExpiryRule{Mode: loyalty.ExpireRolling, Days: 30}, 0)
			e.earn("m1", 25, "b", nil, 7)
		}
		before := f.Counts()
		got, err := svc.Standing(e.ctx, member)
		if err != nil {
			t.Fatalf("Standing(%s): %v", member, err)
		}
		if n, want := f.Since(before), (storetest.Counts{BatchGets: 1, Queries: 1, Eventual: 2}); n != want {
			t.Errorf("Standing(%s) asked %+v; want %+v", member, n, want)
		}
		want := loyalty.Standing{Level: e.level(member), Points: e.balance(member)}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Standing(%s) = %+v; want %+v", member, got, want)
		}
	}
	if got := e.level("m1"); got.Level.ID != "silver" {
		t.Errorf("m1 is at %s; want silver", got.Level.ID)
	}
	if got := e.balance("m1"); got.Available != 40 || got.Pending != 25 || got.ExpiringSoonest.Points != 40 {
		t.Errorf("m1 has %+v; want 40 available (expiring), 25 pending", got)
	}
}
