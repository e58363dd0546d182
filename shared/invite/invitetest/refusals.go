package invitetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/invite"
	"github.com/wemember/wemember/shared/store"
)

func testRefusals(t *testing.T, e *env) {
	red := func(text, invitee string, c invite.RedeemCmd) error {
		c.Code, c.Invitee, c.Registration = text, invitee, true
		_, err := e.svc.Redeem(e.ctx, c)
		return err
	}
	_, err := e.svc.Redeem(e.ctx, invite.RedeemCmd{Code: "ZZZZZZZZZZZZZZZZZZZZ", Invitee: "x1"})
	refused(t, "unknown code", err, invite.ReasonUnknown)
	if !errs.Is(errs.NotExist, err) {
		t.Errorf("unknown code = %v, want errs.NotExist", err)
	}
	_, err = e.svc.Redeem(e.ctx, invite.RedeemCmd{CodeID: "no-such-id", Invitee: "x1"})
	refused(t, "unknown code id", err, invite.ReasonUnknown)
	if _, err := e.svc.Redeem(e.ctx, invite.RedeemCmd{Code: e.code("a")}); !errs.Is(errs.Invalid, err) {
		t.Errorf("Redeem without invitee = %v, want errs.Invalid", err)
	}

	archived := e.code("arch")
	e.editCode(archived, func(c *invite.Code) { c.Status = invite.Archived })
	refused(t, "archived code", red(archived, "x1", invite.RedeemCmd{}), invite.ReasonInactive)

	expired := e.code("exp")
	e.editCode(expired, func(c *invite.Code) { c.ExpiresAt = e.clock().Add(time.Hour) })
	e.advance(2 * time.Hour)
	refused(t, "expired code", red(expired, "x1", invite.RedeemCmd{}), invite.ReasonExpired)

	early := e.code("camp")
	e.editCode(early, func(c *invite.Code) {
		c.StartsAt, c.EndsAt = e.clock().Add(time.Hour), e.clock().Add(48*time.Hour)
	})
	refused(t, "campaign not started", red(early, "x1", invite.RedeemCmd{}), invite.ReasonWindow)
	e.advance(49 * time.Hour)
	refused(t, "campaign over", red(early, "x1", invite.RedeemCmd{}), invite.ReasonWindow)

	capped := e.code("capped")
	e.editCode(capped, func(c *invite.Code) { c.Cap = 1 })
	e.redeem(capped, "y1")
	refused(t, "code used up", red(capped, "y2", invite.RedeemCmd{}), invite.ReasonUsedUp)

	err = red(e.code("other"), "y1", invite.RedeemCmd{})
	refused(t, "invitee already bound", err, invite.ReasonBound)
	if !errs.Is(errs.Conflict, err) {
		t.Errorf("already bound = %v, want errs.Conflict", err)
	}

	refused(t, "self invite", red(e.code("self"), "self", invite.RedeemCmd{}), invite.ReasonSelf)

	// A→B→C: C's code cannot bind A (cycle), nor D (depth 3 > 2); B, who
	// has an invitee, cannot be bound under another (its invitee's chain
	// is fixed).
	e.redeem(e.code("A"), "B")
	e.redeem(e.code("B"), "C")
	refused(t, "cycle A under C", red(e.code("C"), "A", invite.RedeemCmd{}), invite.ReasonCycle)
	refused(t, "cycle A under B", red(e.code("B"), "A", invite.RedeemCmd{}), invite.ReasonCycle)
	refused(t, "depth D under C", red(e.code("C"), "D", invite.RedeemCmd{}), invite.ReasonDepth)
	e.rules(func(r *invite.Rules) { r.Bind = invite.BindOverride })
	refused(t, "rebinding a member with invitees", red(e.code("E"), "B", invite.RedeemCmd{}), invite.ReasonDepth)
	e.rules(func(r *invite.Rules) { r.Bind = invite.BindFirst; r.MaxDepth = 1 })
	refused(t, "depth 2 under MaxDepth 1", red(e.code("B"), "F", invite.RedeemCmd{}), invite.ReasonDepth)
	e.rules(func(r *invite.Rules) { r.MaxDepth = 2 })

	refused(t, "flagged device", red(e.code("G"), "H", invite.RedeemCmd{Device: "banned"}), invite.ReasonFlagged)

	e.rules(func(r *invite.Rules) { r.Bind = invite.BindRegistration })
	_, err = e.svc.Redeem(e.ctx, invite.RedeemCmd{Code: e.code("G"), Invitee: "H"})
	refused(t, "not at registration", err, invite.ReasonNotAtRegistration)

	for _, m := range []string{"x1", "y2", "self", "A", "D", "F", "H"} {
		e.unbound(m)
	}
	if got := e.points("A"); got != 20 {
		t.Errorf("A has %d points, want 20 (one invite)", got)
	}
	if r := e.referral("B"); fmt.Sprint(r.Ancestors) != "[A]" {
		t.Errorf("B's chain = %v, want [A] (refusals change nothing)", r.Ancestors)
	}
}

// testFlaggedByCounter: the screen's rate counter rides in the write, so
// the redemption that passes it is refused however the reads raced.
func testFlaggedByCounter(t *testing.T, e *env) {
	code := e.code("inv")
	for i := range 5 {
		_, err := e.svc.Redeem(e.ctx, invite.RedeemCmd{Code: code, Invitee: fmt.Sprintf("ip%d", i), Registration: true, Client: "10.0.0.1"})
		if i < 3 && err != nil {
			t.Fatalf("redemption %d from the address: %v", i, err)
		}
		if i >= 3 {
			refused(t, fmt.Sprintf("redemption %d from the address", i), err, invite.ReasonFlagged)
			e.unbound(fmt.Sprintf("ip%d", i))
		}
	}
	if got := e.points("inv"); got != 60 {
		t.Errorf("inviter has %d points, want 60 (3 invites)", got)
	}
	if n, _ := e.svc.Uses(e.ctx, e.id(code)); n != 3 {
		t.Errorf("uses = %d, want 3", n)
	}
}

func testBindFirst(t *testing.T, e *env) {
	a, b := e.code("a"), e.code("b")
	got := e.redeem(a, "m")
	if got.Referral.Inviter != "a" || got.Referral.Status != invite.StatusRegistered || got.Repeat {
		t.Errorf("first binding = %+v", got)
	}
	_, err := e.svc.Redeem(e.ctx, invite.RedeemCmd{Code: b, Invitee: "m", Registration: true})
	refused(t, "second code", err, invite.ReasonBound)
	if r := e.referral("m"); r.Inviter != "a" {
		t.Errorf("inviter = %q, want a (first wins)", r.Inviter)
	}
	// Without registration, a binding waits as invited.
	got, err = e.svc.Redeem(e.ctx, invite.RedeemCmd{Code: a, Invitee: "n", Via: "oa-scene"})
	if err != nil || got.Referral.Status != invite.StatusInvited || len(got.Rewards) != 0 {
		t.Errorf("binding before registration = %+v, %v; want invited without rewards", got, err)
	}
}

func testBindRegistration(t *testing.T, e *env) {
	e.rules(func(r *invite.Rules) { r.Bind = invite.BindRegistration })
	a := e.code("a")
	_, err := e.svc.Redeem(e.ctx, invite.RedeemCmd{Code: a, Invitee: "m", Via: "api"})
	refused(t, "outside registration", err, invite.ReasonNotAtRegistration)
	e.unbound("m")
	if got := e.redeem(a, "m"); got.Referral.Inviter != "a" {
		t.Errorf("at registration = %+v", got)
	}
	_, err = e.svc.Redeem(e.ctx, invite.RedeemCmd{Code: e.code("b"), Invitee: "m", Registration: true})
	refused(t, "second registration code", err, invite.ReasonBound)
}

func testBindOverride(t *testing.T, e *env) {
	e.rules(func(r *invite.Rules) { r.Bind = invite.BindOverride })
	a, b := e.code("a"), e.code("b")
	e.redeem(a, "m")
	got := e.redeem(b, "m")
	r := got.Referral
	if r.Inviter != "b" || fmt.Sprint(r.Previous) != "[a]" || fmt.Sprint(r.Ancestors) != "[b]" {
		t.Errorf("rebinding = %+v; want inviter b, previous [a]", r)
	}
	again, err := e.svc.Redeem(e.ctx, invite.RedeemCmd{Code: b, Invitee: "m", Registration: true})
	if err != nil || !again.Repeat || again.Referral.Inviter != "b" {
		t.Errorf("b's code again = %+v, %v; want its first answer", again, err)
	}
	_, err = e.svc.Redeem(e.ctx, invite.RedeemCmd{Code: a, Invitee: "m", Registration: true})
	if err != nil {
		t.Errorf("a's code again = %v; want its first answer", err)
	}
	// The registration rewards came once: a got them, b did not.
	if pa, pb, pm := e.points("a"), e.points("b"), e.points("m"); pa != 20 || pb != 0 || pm != 20 {
		t.Errorf("points a=%d b=%d m=%d, want 20, 0, 20 (rewards once per invitee)", pa, pb, pm)
	}
	na, _ := e.svc.InviteeCount(e.ctx, "a")
	nb, _ := e.svc.InviteeCount(e.ctx, "b")
	if na != 0 || nb != 1 {
		t.Errorf("invitee counts a=%d b=%d, want 0, 1", na, nb)
	}
	la, _, _ := e.svc.Invitees(e.ctx, "a", "", 10)
	lb, _, _ := e.svc.Invitees(e.ctx, "b", "", 10)
	if len(la) != 0 || len(lb) != 1 {
		t.Errorf("lists a=%v b=%v, want m under b only", la, lb)
	}
}

func testDuplicate(t *testing.T, e *env) {
	a := e.code("a")
	first := e.redeem(a, "m")
	again, err := e.svc.Redeem(e.ctx, invite.RedeemCmd{Code: a, Invitee: "m", Registration: true})
	if err != nil || !again.Repeat || !again.Referral.BoundAt.Equal(first.Referral.BoundAt) || len(again.Rewards) != len(first.Rewards) {
		t.Errorf("duplicate = %+v, %v; want the first answer, Repeat", again, err)
	}
	if n, _ := e.svc.Uses(e.ctx, e.id(a)); n != 1 {
		t.Errorf("uses = %d, want 1", n)
	}
	if pa, pm := e.points("a"), e.points("m"); pa != 20 || pm != 20 {
		t.Errorf("points a=%d m=%d, want 20, 20", pa, pm)
	}
	if got := e.funnelCount(""); got != 1 {
		t.Errorf("funnel registrations = %d, want 1", got)
	}
	// Sent many times at once, it still binds once and every delivery gets
	// the answer.
	b := e.code("b")
	cmds := make([]invite.RedeemCmd, 20)
	for i := range cmds {
		cmds[i] = invite.RedeemCmd{Code: b, Invitee: "n", Registration: true}
	}
	out, _ := e.race(cmds, 20)
	if len(out.ok) != 20 || len(out.errs) > 0 || len(out.reasons) > 0 {
		t.Errorf("20 concurrent deliveries: %d answered, refused %v, errors %v; want 20 answers", len(out.ok), out.reasons, out.errs)
	}
	if n, _ := e.svc.Uses(e.ctx, e.id(b)); n != 1 || e.points("b") != 20 || e.points("n") != 20 {
		t.Errorf("uses %d, points b=%d n=%d; want 1, 20, 20", n, e.points("b"), e.points("n"))
	}
}

func testOneWrite(t *testing.T, e *env) {
	e.rules(func(r *invite.Rules) { r.Rewards.PrivilegeAfter = 1 })
	a := e.code("a")
	var failed []string
	e.st.AfterWrite = func(_ context.Context, ms []store.Mutation, err error) {
		failed = append(failed, fmt.Sprintf("%d mutations from %s: %v", len(ms), ms[0].Key, err))
	}
	before := e.st.Counts()
	got, err := e.svc.Redeem(e.ctx, invite.RedeemCmd{Code: a, Invitee: "m", Registration: true, Client: "c1", Trigger: "benefits"})
	if err != nil {
		t.Fatal(err)
	}
	after := e.st.Counts()
	if w := after.Writes - before.Writes; w != 1 {
		t.Errorf("a redemption with every reward made %d writes, want 1 (writes: %v)", w, failed)
	}
	kinds := map[string]int{}
	for _, r := range got.Rewards {
		kinds[r.Kind]++
	}
	if kinds[invite.RewardPoints] != 2 || kinds[invite.RewardPrivilege] != 1 || kinds[invite.RewardRedPacket] != 1 {
		t.Errorf("rewards = %+v; want both sides' points, the privilege and a red packet", got.Rewards)
	}
	if e.coupons("a", "privilege") != 1 || e.funnelCount("benefits") != 1 {
		t.Errorf("privilege coupons %d, funnel %d; want 1, 1", e.coupons("a", "privilege"), e.funnelCount("benefits"))
	}
}
