package couponstest

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// absorb merges from into into, failing the test on an error.
func (e *env) absorb(from, into string) {
	e.t.Helper()
	if err := e.svc.Absorb(e.ctx, from, into); err != nil {
		e.t.Fatalf("Absorb(%s, %s): %v", from, into, err)
	}
}

// canTake issues template tplID to member until refused (at most max+1
// times) and returns how many it could take.
func (e *env) canTake(tplID, member string, max int) int {
	e.t.Helper()
	for n := 0; n <= max; n++ {
		_, err := e.svc.Issue(e.ctx, coupons.IssueCmd{TemplateID: tplID, MemberID: member, Reason: "test",
			Key: fmt.Sprintf("more#%s#%s#%d", member, tplID, n)})
		if errs.Is(errs.Conflict, err) {
			return n
		}
		if err != nil {
			e.t.Fatalf("Issue(%s, %s): %v", tplID, member, err)
		}
	}
	return max + 1
}

// owns checks that member's listing is exactly the coupons with ids (in any
// order) and that each listing copy agrees with the stored instance.
func (e *env) owns(member string, ids ...string) {
	e.t.Helper()
	var got []string
	for _, l := range e.list(member, "") {
		got = append(got, l.ID)
		in, err := e.svc.Get(e.ctx, l.ID)
		if err != nil {
			e.t.Fatalf("Get(%s): %v", l.ID, err)
		}
		if in.MemberID != member || fmt.Sprint(in) != fmt.Sprint(l) {
			e.t.Errorf("%s lists %s as\n %+v\nbut the instance is\n %+v", member, l.ID, l, in)
		}
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(ids))
	if !slices.Equal(got, want) {
		e.t.Errorf("%s lists %v, want %v", member, got, want)
	}
}

func testAbsorb(t *testing.T, open Opener) {
	e := newEnv(t, open)
	lim := tpl("lim")
	lim.PerMember = 2
	e.save(lim)
	e.save(tpl("a"))
	avail, used := e.issue("a", "from", "k1"), e.issue("a", "from", "k2")
	revoked, expiring := e.issue("a", "from", "k3"), e.issue("lim", "from", "k4")
	mine := e.issue("lim", "into", "k5")
	if _, err := e.svc.Redeem(e.ctx, coupons.RedeemCmd{InstanceID: used.ID, MemberID: "from", Key: "r1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Revoke(e.ctx, coupons.RevokeCmd{InstanceID: revoked.ID, Operator: "op"}); err != nil {
		t.Fatal(err)
	}
	wantKind(t, "Absorb without from", e.svc.Absorb(e.ctx, "", "into"), errs.Invalid)
	wantKind(t, "Absorb without into", e.svc.Absorb(e.ctx, "from", ""), errs.Invalid)
	if err := e.svc.Absorb(e.ctx, "into", "into"); err != nil {
		t.Errorf("Absorb into itself = %v, want a no-op", err)
	}

	e.absorb("from", "into")
	e.owns("into", avail.ID, used.ID, revoked.ID, expiring.ID, mine.ID)
	e.owns("from")
	if got, _ := e.svc.Get(e.ctx, used.ID); got.Status != coupons.Used || got.RedeemKey != "r1" {
		t.Errorf("used coupon after absorb = %+v, want its redemption kept", got)
	}
	if n := e.canTake("lim", "into", 2); n != 0 {
		t.Errorf("survivor could take %d more of a 2-per-member coupon both took once, want 0", n)
	}
	if n := e.canTake("lim", "other", 2); n != 2 {
		t.Errorf("another member could take %d, want 2", n)
	}

	// The due index item (layout in the package comment) names the survivor.
	var due struct {
		MemberID string `json:"member_id"`
	}
	k := store.K(store.Sharded("due#coupon#"+expiring.ValidTo.UTC().Format("20060102"), expiring.ID),
		fmt.Sprintf("%010d#%s", expiring.ValidTo.Unix(), expiring.ID))
	if _, err := store.GetJSON(e.ctx, e.st, k, &due); err != nil || due.MemberID != "into" {
		t.Errorf("due item %s = %+v, %v; want it to name into", k, due, err)
	}

	_, err := e.svc.Redeem(e.ctx, coupons.RedeemCmd{InstanceID: avail.ID, MemberID: "from", Key: "r2"})
	wantKind(t, "merged-away member redeems", err, errs.Permission)
	got, err := e.svc.Redeem(e.ctx, coupons.RedeemCmd{InstanceID: avail.ID, MemberID: "into", Key: "r3"})
	if err != nil || got.Status != coupons.Used || got.MemberID != "into" {
		t.Errorf("survivor redeems = %+v, %v; want used", got, err)
	}

	// The moved due item still drives the sweep, on the survivor's listing.
	if p := e.expire(t0().Add(week+time.Second), 100); p.Expired != 4 {
		t.Errorf("sweep = %+v, want 4 expired: the moved one, the survivor's and other's two", p)
	}
	if l := e.list("into", coupons.Expired); len(l) != 2 || l[0].MemberID != "into" {
		t.Errorf("survivor's expired list = %+v, want 2", l)
	}
	e.owns("into", avail.ID, used.ID, revoked.ID, expiring.ID, mine.ID)
	e.owns("from")
}

func testAbsorbAgain(t *testing.T, open Opener) {
	e := newEnv(t, open)
	lim := tpl("lim")
	lim.PerMember = 4
	e.save(lim)
	a, b := e.issue("lim", "from", "k1"), e.issue("lim", "into", "k2")
	e.absorb("from", "into")
	e.absorb("from", "into") // The crash re-run: nothing more to do.
	e.owns("into", a.ID, b.ID)

	// A command in flight at the merge issues to from; the later pass moves
	// it and carries just that one take.
	late := e.issue("lim", "from", "k3")
	e.owns("from", late.ID)
	e.absorb("from", "into")
	e.absorb("from", "into")
	e.owns("into", a.ID, b.ID, late.ID)
	e.owns("from")
	if n := e.canTake("lim", "into", 4); n != 1 {
		t.Errorf("survivor could take %d more (3 of 4 taken by the person), want 1", n)
	}
	// A late retry of from's issue answers with the coupon, now the survivor's.
	got, err := e.svc.Issue(e.ctx, coupons.IssueCmd{TemplateID: "lim", MemberID: "from", Reason: "test", Key: "k3"})
	if err != nil || !got.Duplicate || got.Instance.ID != late.ID || got.Instance.MemberID != "into" {
		t.Errorf("retried issue = %+v, %v; want the moved coupon", got, err)
	}
}

func testAbsorbConcurrent(t *testing.T, open Opener) {
	e := newEnv(t, open)
	lim := tpl("lim")
	lim.PerMember = 40
	e.save(lim)
	const n = 30 // More than one atomic batch.
	var ids []string
	for i := range n {
		ids = append(ids, e.issue("lim", "from", fmt.Sprintf("f%d", i)).ID)
	}
	for i := range 5 {
		ids = append(ids, e.issue("lim", "into", fmt.Sprintf("i%d", i)).ID)
	}
	// Four absorbs race each other and a redemption by the merged-away
	// member, which lands either before its coupon moves or is refused.
	var redeemed atomic.Bool
	parallel(5, 5, func(i int) {
		if i == 4 {
			_, err := e.svc.Redeem(e.ctx, coupons.RedeemCmd{InstanceID: ids[n-1], MemberID: "from", Key: "r"})
			if err == nil {
				redeemed.Store(true)
			} else if !errs.Is(errs.Permission, err) {
				t.Errorf("racing redemption: %v, want success or permission", err)
			}
			return
		}
		if err := e.svc.Absorb(e.ctx, "from", "into"); err != nil {
			t.Errorf("concurrent Absorb: %v", err)
		}
	})
	e.owns("into", ids...)
	e.owns("from")
	want := coupons.Available
	if redeemed.Load() {
		want = coupons.Used
	}
	if got, _ := e.svc.Get(e.ctx, ids[n-1]); got.Status != want {
		t.Errorf("raced coupon is %s, want %s", got.Status, want)
	}
	if got := len(e.list("into", coupons.Available)); got != len(ids)-1 && got != len(ids) {
		t.Errorf("survivor has %d available, want %d or %d", got, len(ids)-1, len(ids))
	}
	if n := e.canTake("lim", "into", 40); n != 5 {
		t.Errorf("survivor could take %d more (35 of 40 taken by the person), want 5", n)
	}
}
