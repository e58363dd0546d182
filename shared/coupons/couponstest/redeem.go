package couponstest

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
)

func testRedeemOnce(t *testing.T, open Opener) {
	e := newEnv(t, open)
	x := tpl("a")
	x.Threshold = 3000
	e.save(x)
	in := e.issue("a", "m1", "k1")
	redeem := func(member, clerk, key string, amount int64) (coupons.Instance, error) {
		return e.svc.Redeem(e.ctx, coupons.RedeemCmd{InstanceID: in.ID, MemberID: member, Clerk: clerk,
			OrderID: "o-" + key, OrderAmount: amount, Key: key})
	}
	_, err := redeem("m2", "clerk-1", "r0", 5000)
	wantKind(t, "another member's coupon", err, errs.Permission)
	_, err = redeem("m1", "clerk-1", "r0", 2999)
	wantKind(t, "below threshold", err, errs.Invalid)
	_, err = e.svc.Redeem(e.ctx, coupons.RedeemCmd{InstanceID: "nope", MemberID: "m1", Key: "r0"})
	wantKind(t, "unknown coupon", err, errs.NotExist)

	e.clk.Add(time.Minute)
	used, err := redeem("m1", "clerk-1", "r1", 5000)
	if err != nil {
		t.Fatalf("Redeem: %v", err)
	}
	if used.Status != coupons.Used || used.UsedBy != "clerk-1" || used.OrderID != "o-r1" || !used.UsedAt.Equal(t0().Add(time.Minute)) {
		t.Errorf("redeemed = %+v, want used by clerk-1 for o-r1 a minute in", used)
	}
	again, err := redeem("m1", "clerk-1", "r1", 5000)
	if err != nil || again.ID != in.ID || again.Status != coupons.Used {
		t.Errorf("retry with the same key = %+v, %v; want the same redemption", again, err)
	}
	_, err = redeem("m1", "", "r2", 5000)
	wantKind(t, "second redemption", err, errs.Conflict)
	if got := errs.SafeMessage(err); got != "coupon already used for order o-r1" {
		t.Errorf("message = %q, want %q", got, "coupon already used for order o-r1")
	}
	if l := e.list("m1", coupons.Used); len(l) != 1 || l[0].ID != in.ID {
		t.Errorf("used list = %v, want the coupon", l)
	}
	if l := e.list("m1", coupons.Available); len(l) != 0 {
		t.Errorf("available list = %v, want empty", l)
	}
	// The owner may redeem without a clerk.
	own := e.issue("a", "m1", "k2")
	got, err := e.svc.Redeem(e.ctx, coupons.RedeemCmd{InstanceID: own.ID, MemberID: "m1", OrderAmount: 3000, Key: "r3"})
	if err != nil || got.UsedBy != "m1" {
		t.Errorf("owner redemption = %+v, %v; want used by m1", got, err)
	}
}

// testRedeemRescan: a clerk scanning a used coupon's code again for another
// order (the same redemption key) is refused naming the first order; only
// the very same redemption is answered again.
func testRedeemRescan(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.save(tpl("a"))
	in := e.issue("a", "m1", "k1")
	scan := func(order string, amount int64) (coupons.Instance, error) {
		return e.svc.Redeem(e.ctx, coupons.RedeemCmd{InstanceID: in.ID, MemberID: "m1", Clerk: "clerk-1",
			OrderID: order, OrderAmount: amount, Key: "qr#same"})
	}
	_, err := scan("o-1", coupons.MaxFen+1)
	wantKind(t, "an order over MaxFen", err, errs.Invalid)
	first, err := scan("o-1", 5000)
	if err != nil || first.OrderID != "o-1" || first.OrderAmount != 5000 {
		t.Fatalf("first scan = %+v, %v; want used for o-1, 5000 fen", first, err)
	}
	if again, err := scan("o-1", 5000); err != nil || again.OrderID != "o-1" {
		t.Errorf("the same scan again = %+v, %v; want the first redemption", again, err)
	}
	for _, tc := range []struct {
		name   string
		order  string
		amount int64
	}{{"another order", "o-2", 5000}, {"another amount", "o-1", 9000}, {"no order", "", 0}} {
		_, err := scan(tc.order, tc.amount)
		wantKind(t, tc.name, err, errs.Conflict)
		if got := errs.SafeMessage(err); got != "coupon already used for order o-1" {
			t.Errorf("%s: message = %q, want %q", tc.name, got, "coupon already used for order o-1")
		}
	}
	if got, _ := e.svc.Get(e.ctx, in.ID); got.OrderID != "o-1" || got.OrderAmount != 5000 || got.Status != coupons.Used {
		t.Errorf("stored = %+v; want used for o-1 at 5000 fen", got)
	}
}

// testRedeemFields: the clerk and order id a redemption stores are shown
// text, refused (naming the field) when they carry control or
// direction-override characters or are too long; a coupon with a
// threshold needs the order amount to check it against.
func testRedeemFields(t *testing.T, open Opener) {
	e := newEnv(t, open)
	x := tpl("a")
	x.Threshold = 3000
	e.save(x)
	e.save(tpl("free"))
	in := e.issue("a", "m1", "k1")
	cases := []struct {
		name, clerk, order string
		amount             int64
		msg                string // The start of the refusal.
	}{
		{"clerk with a line break", "clerk\n1", "o-1", 5000, "clerk "},
		{"clerk with a bidi override", "clerk\u202e1", "o-1", 5000, "clerk "},
		{"clerk too long", strings.Repeat("c", 65), "o-1", 5000, "clerk "},
		{"order id with NUL", "clerk-1", "o\x001", 5000, "order_id "},
		{"order id with a line separator", "clerk-1", "o\u20281", 5000, "order_id "},
		{"order id too long", "clerk-1", strings.Repeat("o", 65), 5000, "order_id "},
		{"no order amount", "clerk-1", "o-1", 0, "order_amount is required: this coupon needs orders of at least 3000 fen"},
	}
	for i, tc := range cases {
		_, err := e.svc.Redeem(e.ctx, coupons.RedeemCmd{InstanceID: in.ID, MemberID: "m1", Clerk: tc.clerk,
			OrderID: tc.order, OrderAmount: tc.amount, Key: fmt.Sprintf("r%d", i)})
		wantKind(t, tc.name, err, errs.Invalid)
		if got := errs.SafeMessage(err); !strings.HasPrefix(got, tc.msg) {
			t.Errorf("%s: message = %q, want it to start %q", tc.name, got, tc.msg)
		}
	}
	if got, _ := e.svc.Get(e.ctx, in.ID); got.Status != coupons.Available {
		t.Errorf("after the refusals: status %s, want available", got.Status)
	}
	free := e.issue("free", "m1", "k2")
	if got, err := e.svc.Redeem(e.ctx, coupons.RedeemCmd{InstanceID: free.ID, MemberID: "m1", Clerk: "店员 1",
		OrderID: "o-2", Key: "rf"}); err != nil || got.UsedBy != "店员 1" {
		t.Errorf("coupon without a threshold, no order amount = %+v, %v; want used by 店员 1", got, err)
	}
}

func testRedeemConcurrent(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.save(tpl("a"))
	in := e.issue("a", "m1", "k1")
	var ok, used atomic.Int64
	parallel(16, 16, func(i int) {
		_, err := e.svc.Redeem(e.ctx, coupons.RedeemCmd{InstanceID: in.ID, MemberID: "m1",
			Clerk: "clerk", Key: fmt.Sprintf("r%d", i)})
		switch {
		case err == nil:
			ok.Add(1)
		case errs.Is(errs.Conflict, err):
			used.Add(1)
		default:
			t.Errorf("redeem %d: %v", i, err)
		}
	})
	if ok.Load() != 1 || used.Load() != 15 {
		t.Errorf("succeeded %d, refused %d; want 1 and 15", ok.Load(), used.Load())
	}
}

func testRedeemValidity(t *testing.T, open Opener) {
	e := newEnv(t, open)
	x := tpl("window")
	from, to := t0().Add(24*time.Hour), t0().Add(48*time.Hour)
	x.Validity = coupons.Validity{Kind: coupons.Fixed, From: from, To: to}
	e.save(x)
	cases := []struct {
		name string
		at   time.Time
		kind errs.Kind // Other: success.
	}{
		{"before from", from.Add(-time.Second), errs.Conflict},
		{"at from", from, errs.Other},
		{"at to", to, errs.Other},
		{"after to", to.Add(time.Second), errs.Expired},
	}
	for i, tc := range cases {
		e.clk.Set(t0())
		in := e.issue("window", "m1", fmt.Sprintf("k%d", i))
		e.clk.Set(tc.at)
		got, err := e.svc.Redeem(e.ctx, coupons.RedeemCmd{InstanceID: in.ID, MemberID: "m1", Key: "r"})
		if tc.kind == errs.Other {
			if err != nil || got.Status != coupons.Used {
				t.Errorf("%s: %+v, %v; want used", tc.name, got, err)
			}
			continue
		}
		wantKind(t, tc.name, err, tc.kind)
		if still, _ := e.svc.Get(e.ctx, in.ID); still.Status != coupons.Available {
			t.Errorf("%s: refused redemption changed status to %s", tc.name, still.Status)
		}
	}
}

func testRevoke(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.save(tpl("a"))
	in := e.issue("a", "m1", "k1")
	_, err := e.svc.Revoke(e.ctx, coupons.RevokeCmd{InstanceID: in.ID})
	wantKind(t, "no operator", err, errs.Invalid)
	got, err := e.svc.Revoke(e.ctx, coupons.RevokeCmd{InstanceID: in.ID, Operator: "op-alice", Reason: "fraud"})
	if err != nil || got.Status != coupons.Revoked || got.ClosedBy != "op-alice" || got.CloseReason != "fraud" {
		t.Fatalf("Revoke = %+v, %v; want revoked by op-alice for fraud", got, err)
	}
	if _, err := e.svc.Revoke(e.ctx, coupons.RevokeCmd{InstanceID: in.ID, Operator: "op-alice"}); err != nil {
		t.Errorf("second revoke: %v, want success", err)
	}
	_, err = e.svc.Redeem(e.ctx, coupons.RedeemCmd{InstanceID: in.ID, MemberID: "m1", Key: "r"})
	wantKind(t, "redeem revoked", err, errs.Conflict)
	used := e.issue("a", "m1", "k2")
	if _, err := e.svc.Redeem(e.ctx, coupons.RedeemCmd{InstanceID: used.ID, MemberID: "m1", Key: "r"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Revoke(e.ctx, coupons.RevokeCmd{InstanceID: used.ID, Operator: "op-alice"})
	wantKind(t, "revoke used", err, errs.Conflict)
	if l := e.list("m1", coupons.Revoked); len(l) != 1 || l[0].ID != in.ID {
		t.Errorf("revoked list = %v, want %s", l, in.ID)
	}
}

func testListPaging(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.save(tpl("a"))
	long := tpl("long")
	long.Validity.Days = 30
	e.save(long)
	for i := range 5 {
		e.issue("long", "m1", fmt.Sprintf("l%d", i))
	}
	first := e.issue("a", "m1", "a0") // Ends sooner: listed first among available.
	used := e.issue("a", "m1", "a1")
	if _, err := e.svc.Redeem(e.ctx, coupons.RedeemCmd{InstanceID: used.ID, MemberID: "m1", Key: "r"}); err != nil {
		t.Fatal(err)
	}
	e.issue("a", "m2", "other")

	var got []coupons.Instance
	q := coupons.ListQuery{MemberID: "m1", Limit: 2}
	pages := 0
	for {
		pg, err := e.svc.List(e.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(pg.Items) > 2 {
			t.Fatalf("page of %d, want at most 2", len(pg.Items))
		}
		got, pages = append(got, pg.Items...), pages+1
		if pg.Next == "" {
			break
		}
		q.Cursor = pg.Next
	}
	if len(got) != 7 || pages < 4 {
		t.Fatalf("listed %d coupons in %d pages, want 7 in 4", len(got), pages)
	}
	if got[0].ID != first.ID || got[6].ID != used.ID {
		t.Errorf("order: first %s last %s, want %s first and the used %s last", got[0].ID, got[6].ID, first.ID, used.ID)
	}
	for i := range 6 {
		if got[i].Status != coupons.Available {
			t.Errorf("item %d is %s, want available ones first", i, got[i].Status)
		}
	}
	if l := e.list("m1", coupons.Available); len(l) != 6 {
		t.Errorf("available = %d, want 6", len(l))
	}
	_, err := e.svc.List(e.ctx, coupons.ListQuery{MemberID: "m1", Status: "lost"})
	wantKind(t, "unknown status", err, errs.Invalid)
}
