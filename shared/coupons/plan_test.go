package coupons_test

import (
	"context"
	"testing"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/store/storetest"
)

// TestPlanRegistration: working the registration coupon out reads and
// writes nothing but the template; its grant, written, issues the coupon;
// a second grant for the member fails its write on the spent key.
func TestPlanRegistration(t *testing.T) {
	b := openBolt(t)
	defer b.Close()
	st := &storetest.Faults{Store: b}
	cs := coupons.New(st, coupons.Config{})
	ctx := context.Background()
	if err := cs.InstallDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	before := st.Counts()
	g, err := cs.PlanRegistration(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Since(before), (storetest.Counts{Gets: 1}); got != want {
		t.Errorf("PlanRegistration asked the store %+v; want %+v", got, want)
	}
	if err := st.Write(ctx, g.Mutations...); err != nil {
		t.Fatal(err)
	}
	in, err := cs.Get(ctx, g.Instance.ID)
	if err != nil || in.MemberID != "m1" || in.Reason != coupons.ReasonRegistration {
		t.Errorf("issued = %+v, %v", in, err)
	}
	again, err := cs.PlanRegistration(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	k, ok := store.FailedKey(st.Write(ctx, again.Mutations...))
	if !ok || !again.Spent(k) {
		t.Errorf("a second grant's write failed on %v (%v); want a spent key", k, ok)
	}
	if got, _ := cs.OnRegistration(ctx, "m1"); got.Instance.ID != g.Instance.ID || !got.Duplicate {
		t.Errorf("OnRegistration after the grant = %+v; want the granted coupon as a duplicate", got)
	}
}
