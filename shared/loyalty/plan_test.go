package loyalty_test

import (
	"context"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/store"
)

func TestPlanEarnRidesInAnotherWriteOnce(t *testing.T) {
	st, ctx := openBolt(t), context.Background()
	n := 0
	svc := loyalty.New(st, func() time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) },
		func() string { n++; return "id" + string(rune('a'+n)) })
	cmd := loyalty.EarnCmd{MemberID: "m1", Points: 20, Reason: "invite", Key: "invite:reg:m1"}
	p, err := svc.PlanEarn(ctx, cmd)
	if err != nil || p.Done || len(p.Mutations) == 0 {
		t.Fatalf("PlanEarn = %+v, %v; want mutations to write", p, err)
	}
	// A concurrent Earn with the key comes first: the plan's write fails on
	// its record, and Spent says so.
	if _, err := svc.Earn(ctx, cmd); err != nil {
		t.Fatal(err)
	}
	err = st.Write(ctx, append(p.Mutations, store.Put(store.K("other#1", "x"), []byte(`{}`)))...)
	k, ok := store.FailedKey(err)
	if !errs.Is(errs.Conflict, err) || !ok || !p.Spent(k) || !p.Mine(k) {
		t.Fatalf("write after Earn = %v (key %v); want a conflict the plan calls spent", err, k)
	}
	again, err := svc.PlanEarn(ctx, cmd)
	if err != nil || !again.Done || len(again.Mutations) != 0 || again.Entry.Points != 20 {
		t.Fatalf("PlanEarn again = %+v, %v; want Done with the first entry", again, err)
	}
	// A fresh key plans and writes; the balance has both.
	p2, err := svc.PlanEarn(ctx, loyalty.EarnCmd{MemberID: "m1", Points: 5, Reason: "invite", Key: "invite:reg:m1b"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Write(ctx, p2.Mutations...); err != nil {
		t.Fatal(err)
	}
	b, err := svc.Balance(ctx, "m1")
	if err != nil || b.Available != 25 {
		t.Errorf("Balance = %+v, %v; want 25 available", b, err)
	}
	if _, err := svc.PlanEarn(ctx, loyalty.EarnCmd{MemberID: "m1", Points: 0, Key: "k"}); !errs.Is(errs.Invalid, err) {
		t.Errorf("PlanEarn of 0 points = %v, want errs.Invalid", err)
	}
}
