package invitetest

import (
	"slices"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/fraud"
	fun "github.com/wemember/wemember/shared/funnel"
	"github.com/wemember/wemember/shared/invite"
)

// testScreened runs redemptions through the real anti-fraud and funnel
// services: an address over its hourly rate is refused and frozen, an
// emulator's redemption and the inviter's invites over the daily limit
// hold their rewards, and the funnel counts registrations and first
// orders.
func testScreened(t *testing.T, e *env) {
	// Anti-fraud's counters expire with their hour by the store's own
	// clock, the real one: this test lives in the present.
	e.now.Store(time.Now().Unix())
	fr, fu := fraud.New(e.st, e.clock), fun.New(e.st, e.clock)
	e.svc = invite.New(e.st, e.box, e.mem, e.loy, e.cps, e.clock, newID, invite.WithFraud(fr), invite.WithFunnel(fu))
	r, err := fr.Rules(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.IPHourly, r.InviterDaily = 2, 3
	if _, err := fr.SetRules(e.ctx, r, "op"); err != nil {
		t.Fatalf("fraud.SetRules: %v", err)
	}
	a := e.code("a")
	red := func(invitee, client, platform string) (invite.Redemption, error) {
		return e.svc.Redeem(e.ctx, invite.RedeemCmd{Code: a, Invitee: invitee, Registration: true, Client: client,
			Platform: platform, Trigger: "benefits", Channel: "mp-share"})
	}
	for _, m := range []string{"m1", "m2"} {
		if got, err := red(m, "ip-1", ""); err != nil || got.Referral.Held {
			t.Fatalf("Redeem(%s) = %+v, %v", m, got, err)
		}
	}
	_, err = red("m3", "ip-1", "")
	refused(t, "third redemption from the address in the hour", err, invite.ReasonFlagged)
	if _, frozen, err := fr.Frozen(e.ctx, "ip-1"); !frozen || err != nil {
		t.Errorf("Frozen(ip-1) = %v, %v; want frozen", frozen, err)
	}
	got, err := red("m4", "ip-2", "devtools")
	if err != nil || !got.Referral.Held || !slices.Contains(got.Referral.Flags, fraud.FlagEmulator) {
		t.Errorf("redemption from devtools = %+v, %v; want held, flagged emulator", got.Referral, err)
	}
	got, err = red("m5", "ip-3", "")
	if err != nil || !got.Referral.Held || !slices.Contains(got.Referral.Flags, fraud.FlagInviterDaily) {
		t.Errorf("the inviter's 4th invite of the day = %+v, %v; want held for step-up", got.Referral, err)
	}
	if pa := e.points("a"); pa != 2*20 {
		t.Errorf("inviter has %d points, want 40 (two invites not held)", pa)
	}
	// The inviter verifies a phone: the step-up hold goes, the emulator's
	// stays for an operator.
	if n, err := e.svc.StepUpVerified(e.ctx, "a"); n != 1 || err != nil {
		t.Errorf("StepUpVerified = %d, %v; want 1 released", n, err)
	}
	if pa, p5, p4 := e.points("a"), e.points("m5"), e.points("m4"); pa != 3*20 || p5 != 20 || p4 != 0 {
		t.Errorf("after step-up a=%d m5=%d m4=%d, want 60, 20, 0", pa, p5, p4)
	}
	if _, err := e.svc.Approve(e.ctx, "m4", "op"); err != nil {
		t.Fatal(err)
	}
	if pa, p4 := e.points("a"), e.points("m4"); pa != 4*20 || p4 != 20 {
		t.Errorf("after approval a=%d m4=%d, want 80, 20", pa, p4)
	}
	if list, _, _ := e.svc.Held(e.ctx, "", 10); len(list) != 0 {
		t.Errorf("Held = %+v, want none", list)
	}
	if err := e.svc.Purchase(e.ctx, invite.PurchaseCmd{Invitee: "m1", OrderKey: "o1", First: true}); err != nil {
		t.Fatal(err)
	}
	day := e.clock().In(chinaTime).Format("2006-01-02")
	rep, err := fu.Report(e.ctx, day, day, fun.ByTotal, 10)
	if err != nil || len(rep.Rows) != 1 {
		t.Fatalf("funnel Report = %+v, %v", rep, err)
	}
	if c := rep.Rows[0].Counts; c.Register != 4 || c.FirstOrder != 1 {
		t.Errorf("funnel counts = %+v; want 4 registrations (m1, m2, m4, m5) and 1 first order", c)
	}
}
