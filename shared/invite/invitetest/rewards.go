package invitetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/invite"
	"github.com/wemember/wemember/shared/member"
)

func testRegisteredLater(t *testing.T, e *env) {
	a := e.code("a")
	got, err := e.svc.Redeem(e.ctx, invite.RedeemCmd{Code: a, Invitee: "m", Via: "wecom-state", Trigger: "order"})
	if err != nil || got.Referral.Status != invite.StatusInvited {
		t.Fatalf("Redeem before registration = %+v, %v", got, err)
	}
	if pa, pm := e.points("a"), e.points("m"); pa != 0 || pm != 0 {
		t.Errorf("points before registration a=%d m=%d, want none", pa, pm)
	}
	for range 2 {
		r, err := e.svc.Registered(e.ctx, "m")
		if err != nil || r.Status != invite.StatusRegistered || !r.Rewarded {
			t.Fatalf("Registered = %+v, %v", r, err)
		}
	}
	if pa, pm := e.points("a"), e.points("m"); pa != 20 || pm != 20 {
		t.Errorf("points after registration (twice) a=%d m=%d, want 20, 20", pa, pm)
	}
	if got := e.funnelCount("order"); got != 1 {
		t.Errorf("funnel registrations = %d, want 1", got)
	}
	if _, err := e.svc.Registered(e.ctx, "nobody"); !errs.Is(errs.NotExist, err) {
		t.Errorf("Registered without a referral = %v, want errs.NotExist", err)
	}
}

func testPrivilege(t *testing.T, e *env) {
	a := e.code("a")
	for i := range 5 {
		e.redeem(a, fmt.Sprintf("m%d", i))
		want := 0
		if i >= 2 {
			want = 1
		}
		if got := e.coupons("a", "privilege"); got != want {
			t.Errorf("after %d invites the inviter has %d privilege coupons, want %d", i+1, got, want)
		}
	}
}

func testRedPacket(t *testing.T, e *env) {
	e.rules(func(r *invite.Rules) { r.Rewards.RedPacketFen, r.Rewards.RedPacketCapFen = 200, 500 })
	a := e.code("a")
	var fen []int64
	for i := range 4 {
		got := e.redeem(a, fmt.Sprintf("m%d", i))
		var f int64
		for _, r := range got.Rewards {
			if r.Kind == invite.RewardRedPacket {
				f = r.Fen
			}
		}
		fen = append(fen, f)
	}
	if fmt.Sprint(fen) != "[200 200 100 0]" {
		t.Errorf("red packets = %v fen, want [200 200 100 0] (5 yuan per code)", fen)
	}
	ps, _, err := e.svc.Payouts(e.ctx, "", 10)
	if err != nil || len(ps) != 3 {
		t.Fatalf("Payouts = %+v, %v; want 3 owed", ps, err)
	}
	ms, err := invite.PayoutPaidMutations(ps[0], "tx-1", e.clock())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.Write(e.ctx, ms...); err != nil {
		t.Fatalf("marking paid: %v", err)
	}
	if err := e.st.Write(e.ctx, ms...); !errs.Is(errs.Conflict, err) {
		t.Errorf("marking paid twice = %v, want errs.Conflict", err)
	}
	if ps, _, _ := e.svc.Payouts(e.ctx, "", 10); len(ps) != 2 {
		t.Errorf("owed after one paid = %d, want 2", len(ps))
	}
}

func testHeld(t *testing.T, e *env) {
	a := e.code("a")
	held := func(m string) invite.Redemption {
		got, err := e.svc.Redeem(e.ctx, invite.RedeemCmd{Code: a, Invitee: m, Registration: true, Device: "emulator"})
		if err != nil {
			t.Fatalf("Redeem(%s): %v", m, err)
		}
		return got
	}
	got := held("m1")
	if !got.Referral.Held || len(got.Rewards) != 2 || !got.Rewards[0].Held {
		t.Errorf("flagged redemption = %+v; want bound, rewards held", got)
	}
	held("m2")
	if pa, pm := e.points("a"), e.points("m1"); pa != 0 || pm != 0 {
		t.Errorf("held points a=%d m1=%d, want none yet", pa, pm)
	}
	list, _, err := e.svc.Held(e.ctx, "", 10)
	if err != nil || len(list) != 2 {
		t.Fatalf("Held = %+v, %v; want m1 and m2", list, err)
	}
	if _, err := e.svc.Approve(e.ctx, "m1", "op"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Reject(e.ctx, "m2", "op"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Approve(e.ctx, "m2", "op"); !errs.Is(errs.Conflict, err) {
		t.Errorf("Approve after Reject = %v, want errs.Conflict", err)
	}
	if pa, p1, p2 := e.points("a"), e.points("m1"), e.points("m2"); pa != 20 || p1 != 20 || p2 != 0 {
		t.Errorf("points a=%d m1=%d m2=%d, want 20, 20, 0", pa, p1, p2)
	}
	if list, _, _ := e.svc.Held(e.ctx, "", 10); len(list) != 0 {
		t.Errorf("Held after review = %+v, want none", list)
	}
	if r := e.referral("m2"); !r.Rejected || r.Reviewer != "op" || r.Inviter != "a" {
		t.Errorf("rejected referral = %+v", r)
	}
}

func testPurchase(t *testing.T, e *env) {
	e.redeem(e.code("a"), "b")
	e.redeem(e.code("b"), "c")
	base := map[string]int64{"a": e.points("a"), "b": e.points("b"), "c": e.points("c")}
	buy := func(order string, first bool) {
		t.Helper()
		if err := e.svc.Purchase(e.ctx, invite.PurchaseCmd{Invitee: "c", OrderKey: order, First: first}); err != nil {
			t.Fatalf("Purchase(%s): %v", order, err)
		}
	}
	buy("o1", true)
	buy("o1", true) // The same order again.
	buy("o2", true) // A second "first" purchase changes the status no more.
	buy("o3", false)
	r := e.referral("c")
	if r.Status != invite.StatusFirstPurchase {
		t.Errorf("status = %s, want first_purchase", r.Status)
	}
	// b: 50 for the first purchase + 15 per order; a: 5 per order.
	if got := e.points("b") - base["b"]; got != 50+3*15 {
		t.Errorf("b earned %d, want %d", got, 50+3*15)
	}
	if got := e.points("a") - base["a"]; got != 3*5 {
		t.Errorf("a earned %d, want %d", got, 3*5)
	}
	if got := e.points("c") - base["c"]; got != 0 {
		t.Errorf("c earned %d, want 0", got)
	}
	ms, err := e.svc.PlanPurchase(e.ctx, invite.PurchaseCmd{Invitee: "c", OrderKey: "o1", First: true})
	if err != nil || len(ms) != 0 {
		t.Errorf("PlanPurchase of a booked order = %d mutations, %v; want none", len(ms), err)
	}
	if ms, err := e.svc.PlanPurchase(e.ctx, invite.PurchaseCmd{Invitee: "nobody", OrderKey: "o9"}); err != nil || len(ms) != 0 {
		t.Errorf("PlanPurchase without a referral = %d, %v; want none", len(ms), err)
	}
}

func testTree(t *testing.T, e *env) {
	ids := map[string]string{}
	for _, n := range []string{"Alice", "Bob", "Carol", "Dan"} {
		res, err := e.mem.Arrive(e.ctx, member.Arrival{Identities: []member.Identity{{Kind: member.OpenID, Scope: "app", Value: "o-" + n}},
			Nickname: n})
		if err != nil {
			t.Fatal(err)
		}
		ids[n] = res.Member.ID
	}
	e.redeem(e.code(ids["Alice"]), ids["Bob"])
	e.advance(time.Second)
	e.redeem(e.code(ids["Alice"]), ids["Carol"])
	e.advance(time.Second)
	e.redeem(e.code(ids["Bob"]), ids["Dan"])
	list, _, err := e.svc.Invitees(e.ctx, ids["Alice"], "", 10)
	if err != nil || len(list) != 2 || list[0].MaskedName != "B**" || list[1].MaskedName != "C****" ||
		list[0].Status != invite.StatusRegistered {
		t.Errorf("Invitees(Alice) = %+v, %v; want B** and C****, registered", list, err)
	}
	page, next, err := e.svc.Invitees(e.ctx, ids["Alice"], "", 1)
	if err != nil || len(page) != 1 || next == "" {
		t.Errorf("first page of 1 = %+v, %q, %v", page, next, err)
	}
	if n, _ := e.svc.InviteeCount(e.ctx, ids["Alice"]); n != 2 {
		t.Errorf("InviteeCount(Alice) = %d, want 2", n)
	}
	tr, err := e.svc.Tree(e.ctx, ids["Alice"])
	if err != nil || len(tr.Ancestors) != 0 || len(tr.Invitees) != 2 || len(tr.Invitees[0].Invitees) != 1 ||
		tr.Invitees[0].Invitees[0].Member != ids["Dan"] {
		t.Errorf("Tree(Alice) = %+v, %v", tr, err)
	}
	tr, err = e.svc.Tree(e.ctx, ids["Dan"])
	if err != nil || fmt.Sprint(tr.Ancestors) != fmt.Sprint([]string{ids["Bob"], ids["Alice"]}) || len(tr.Invitees) != 0 {
		t.Errorf("Tree(Dan) = %+v, %v; want ancestors Bob, Alice", tr, err)
	}
}

// testVia: a code that arrives by an Official Account scene, a WeCom
// contact-way state or a mini-program launch scene (its id) or as a text
// token (its text) is one and the same redemption.
func testVia(t *testing.T, e *env) {
	text := e.code("a")
	id := e.id(text)
	for i, via := range []string{"oa-scene", "wecom-state", "mp-scene", "token"} {
		c := invite.RedeemCmd{CodeID: id, Invitee: fmt.Sprintf("v%d", i), Via: via, Registration: true}
		if via == "token" {
			c = invite.RedeemCmd{Code: " " + text + " ", Invitee: c.Invitee, Via: via, Registration: true}
		}
		got, err := e.svc.Redeem(e.ctx, c)
		if err != nil || got.Referral.Inviter != "a" || got.Referral.Via != via || got.Referral.Code != id {
			t.Errorf("Redeem via %s = %+v, %v", via, got.Referral, err)
		}
		// The same invitee and code by another way is the same redemption.
		again, err := e.svc.Redeem(e.ctx, invite.RedeemCmd{Code: text, Invitee: c.Invitee, Via: "api", Registration: true})
		if err != nil || !again.Repeat || again.Referral.Via != via {
			t.Errorf("again via api after %s = %+v, %v; want the first answer", via, again, err)
		}
	}
	if got := e.points("a"); got != 4*20 {
		t.Errorf("inviter has %d points, want 80", got)
	}
}
