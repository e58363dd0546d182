package invitetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/invite"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/store"
)

// outcomes counts what concurrent redemptions answered.
type outcomes struct {
	mu      sync.Mutex
	ok      []string // Invitees bound.
	reasons map[invite.Reason]int
	errs    []error // Anything else.
}

func (o *outcomes) add(invitee string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.reasons == nil {
		o.reasons = map[invite.Reason]int{}
	}
	if err == nil {
		o.ok = append(o.ok, invitee)
		return
	}
	if r, ok := invite.ReasonOf(err); ok {
		o.reasons[r]++
		return
	}
	o.errs = append(o.errs, err)
}

// race runs the commands cmds over workers goroutines and returns what
// they answered, and how long they took.
func (e *env) race(cmds []invite.RedeemCmd, workers int) (*outcomes, time.Duration) {
	out := &outcomes{}
	var next atomic.Int64
	var wg sync.WaitGroup
	began := time.Now()
	for range min(workers, len(cmds)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(cmds) {
					return
				}
				_, err := e.svc.Redeem(e.ctx, cmds[i])
				out.add(cmds[i].Invitee, err)
			}
		}()
	}
	wg.Wait()
	return out, time.Since(began)
}

// testHotCode: o.Race invitees redeem one code capped at o.Cap at once:
// exactly o.Cap are bound, and each binding has its pair of rewards.
func testHotCode(t *testing.T, e *env, o Options) {
	e.rules(func(r *invite.Rules) {
		k := r.Kinds[invite.KindMPShare]
		k.Cap = int64(o.Cap)
		r.Kinds[invite.KindMPShare] = k
	})
	code := e.code("hot")
	cmds := make([]invite.RedeemCmd, o.Race)
	for i := range cmds {
		cmds[i] = invite.RedeemCmd{Code: code, Invitee: fmt.Sprintf("h%04d", i), Via: "mp-scene", Registration: true}
	}
	out, took := e.race(cmds, o.Workers)
	t.Logf("%d redemptions of one code capped at %d over %d workers: %v, %.0f redemptions/s",
		o.Race, o.Cap, o.Workers, took.Round(time.Millisecond), float64(o.Race)/took.Seconds())
	if len(out.errs) > 0 {
		t.Fatalf("%d redemptions failed, first: %v", len(out.errs), out.errs[0])
	}
	if len(out.ok) != o.Cap || out.reasons[invite.ReasonUsedUp] != o.Race-o.Cap {
		t.Errorf("bound %d, used up %d (%v); want %d and %d", len(out.ok), out.reasons[invite.ReasonUsedUp], out.reasons, o.Cap, o.Race-o.Cap)
	}
	if n, err := e.svc.Uses(e.ctx, e.id(code)); n != int64(o.Cap) || err != nil {
		t.Errorf("uses = %d, %v; want %d", n, err, o.Cap)
	}
	if got, want := e.points("hot"), int64(20*o.Cap); got != want {
		t.Errorf("inviter has %d points, want %d", got, want)
	}
	bound := map[string]bool{}
	for _, m := range out.ok {
		bound[m] = true
	}
	paired := 0
	for _, c := range cmds {
		p := e.points(c.Invitee)
		switch {
		case bound[c.Invitee] && p == 20:
			paired++
		case bound[c.Invitee] || p != 0:
			t.Errorf("%s (bound %v) has %d points", c.Invitee, bound[c.Invitee], p)
		}
	}
	if paired != o.Cap {
		t.Errorf("%d invitees have their reward, want %d", paired, o.Cap)
	}
	if n, _ := e.svc.InviteeCount(e.ctx, "hot"); n != int64(o.Cap) {
		t.Errorf("InviteeCount = %d, want %d", n, o.Cap)
	}
	if got := e.coupons("hot", "privilege"); got != 1 {
		t.Errorf("privilege coupons = %d, want 1", got)
	}
	ps, _, err := e.svc.Payouts(e.ctx, "", 100)
	var fen int64
	for _, p := range ps {
		fen += p.Fen
	}
	if err != nil || fen != 500 {
		t.Errorf("red packets owed %d fen (%d payouts), %v; want 500 (the cap)", fen, len(ps), err)
	}
}

// testCycleRace: A redeems B's code while B redeems A's: one binding, one
// cycle refused. Repeated, since a race may go either way.
func testCycleRace(t *testing.T, e *env) {
	for i := range 10 {
		a, b := fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i)
		cmds := []invite.RedeemCmd{{Code: e.code(a), Invitee: b, Registration: true}, {Code: e.code(b), Invitee: a, Registration: true}}
		out, _ := e.race(cmds, 2)
		if len(out.errs) > 0 || len(out.ok) != 1 || out.reasons[invite.ReasonCycle] != 1 {
			t.Errorf("round %d: bound %v, refused %v, errors %v; want one binding and one cycle", i, out.ok, out.reasons, out.errs)
		}
	}
}

// testDepthRace: members bind under each other at once in a pool where
// every binding could deepen a chain; afterwards every stored chain is
// whole (its inviter's chain plus the inviter) and at most MaxDepth long.
func testDepthRace(t *testing.T, e *env) {
	const n = 12
	names := make([]string, n)
	codes := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("d%02d", i)
		codes[i] = e.code(names[i])
	}
	var cmds []invite.RedeemCmd
	for i := range n {
		for j := range n {
			if i != j && (i+j)%3 != 0 {
				cmds = append(cmds, invite.RedeemCmd{Code: codes[j], Invitee: names[i], Registration: true})
			}
		}
	}
	out, _ := e.race(cmds, 16)
	if len(out.errs) > 0 {
		t.Fatalf("errors: %v", out.errs)
	}
	bound := 0
	for _, m := range names {
		r, err := e.svc.ReferralOf(e.ctx, m)
		if err != nil {
			continue
		}
		bound++
		if len(r.Ancestors) > 2 || len(r.Ancestors) == 0 || r.Ancestors[0] != r.Inviter {
			t.Errorf("%s's chain = %v", m, r.Ancestors)
			continue
		}
		var up []string
		if p, err := e.svc.ReferralOf(e.ctx, r.Inviter); err == nil {
			up = p.Ancestors
		}
		if fmt.Sprint(r.Ancestors[1:]) != fmt.Sprint(up) {
			t.Errorf("%s's chain %v is not its inviter's %v plus the inviter", m, r.Ancestors, up)
		}
	}
	if bound != len(out.ok) || bound == 0 {
		t.Errorf("%d members bound, %d redemptions succeeded", bound, len(out.ok))
	}
	t.Logf("%d bound, refusals %v", bound, out.reasons)
}

// testCampaignRace: invitees of a campaign's codes register at once; the
// campaign's coupon goes to exactly its first CampaignFirst.
func testCampaignRace(t *testing.T, e *env, o Options) {
	first := int64(o.Cap)
	e.rules(func(r *invite.Rules) { r.Rewards.CampaignFirst = first })
	cp, err := e.svc.SaveCampaign(e.ctx, invite.Campaign{ID: "spring", Name: "Spring", StartsAt: e.clock().Add(-time.Hour),
		EndsAt: e.clock().Add(24 * time.Hour), Coupon: "campaign"}, "op")
	if err != nil {
		t.Fatalf("SaveCampaign: %v", err)
	}
	const inviters = 8
	var codes []string
	for i := range inviters {
		_, text, err := e.svc.OwnCode(e.ctx, fmt.Sprintf("ci%d", i), invite.KindCampaign, cp.ID)
		if err != nil {
			t.Fatalf("OwnCode(campaign): %v", err)
		}
		codes = append(codes, text)
	}
	total := int(first) * 3 / 2
	cmds := make([]invite.RedeemCmd, total)
	for i := range cmds {
		cmds[i] = invite.RedeemCmd{Code: codes[i%inviters], Invitee: fmt.Sprintf("cv%04d", i), Registration: true}
	}
	out, _ := e.race(cmds, o.Workers)
	if len(out.errs) > 0 || len(out.ok) != total {
		t.Fatalf("bound %d of %d, refusals %v, errors %v", len(out.ok), total, out.reasons, out.errs)
	}
	got := 0
	for _, c := range cmds {
		n := e.coupons(c.Invitee, "campaign")
		if n > 1 {
			t.Errorf("%s has %d campaign coupons", c.Invitee, n)
		}
		got += n
	}
	if got != int(first) {
		t.Errorf("campaign coupons issued %d times, want %d", got, first)
	}
}

// testHotCodeBare is the hot code race with nothing else to serialize the
// writes (no points or red packet for the inviter, whose summary would):
// the code's capped counter alone keeps the cap, and the count of
// successful invites alone grants the privilege exactly once.
func testHotCodeBare(t *testing.T, e *env, o Options) {
	race, capped := o.Race/4, o.Cap/4
	e.rules(func(r *invite.Rules) {
		k := r.Kinds[invite.KindMPShare]
		k.Cap = int64(capped)
		r.Kinds[invite.KindMPShare] = k
		r.Rewards.InviterPoints, r.Rewards.RedPacketFen = 0, 0
	})
	code := e.code("bare")
	cmds := make([]invite.RedeemCmd, race)
	for i := range cmds {
		cmds[i] = invite.RedeemCmd{Code: code, Invitee: fmt.Sprintf("x%04d", i), Registration: true}
	}
	out, _ := e.race(cmds, o.Workers)
	if len(out.errs) > 0 || len(out.ok) != capped || out.reasons[invite.ReasonUsedUp] != race-capped {
		t.Errorf("bound %d, refused %v, errors %v; want %d bound", len(out.ok), out.reasons, out.errs, capped)
	}
	if n, _ := e.svc.Uses(e.ctx, e.id(code)); n != int64(capped) {
		t.Errorf("uses = %d, want %d", n, capped)
	}
	if got := e.coupons("bare", "privilege"); got != 1 {
		t.Errorf("privilege coupons = %d, want 1", got)
	}
}

// testInterleaved slips a binding in between a redemption's reads and its
// write, both ways round: the write must see it and decide again.
func testInterleaved(t *testing.T, e *env) {
	slip := func(sk, m string, run func()) {
		var fired atomic.Bool
		e.st.AfterGet = func(k store.Key, _ error) bool {
			if k != store.K(member.Partition(m), sk) || !fired.CompareAndSwap(false, true) {
				return false
			}
			run()
			return true
		}
	}
	// I redeems X's code; X is bound under W after I read X's chain: I's
	// chain must be [X W], not the [X] it read.
	w, x := e.code("W"), e.code("X")
	slip("referral", "X", func() { e.redeem(w, "X") })
	got := e.redeem(x, "I")
	if fmt.Sprint(got.Referral.Ancestors) != "[X W]" || fmt.Sprint(e.referral("I").Ancestors) != "[X W]" {
		t.Errorf("I's chain = %v, want [X W]", e.referral("I").Ancestors)
	}
	// Y redeems V's code; J is bound under Y after Y read that it had no
	// invitees: Y may no longer be bound (J's chain [Y] is fixed).
	v, y := e.code("V"), e.code("Y")
	slip("invbound", "Y", func() { e.redeem(y, "J") })
	_, err := e.svc.Redeem(e.ctx, invite.RedeemCmd{Code: v, Invitee: "Y", Registration: true})
	refused(t, "Y under V after J joined Y", err, invite.ReasonDepth)
	e.unbound("Y")
	if r := e.referral("J"); fmt.Sprint(r.Ancestors) != "[Y]" {
		t.Errorf("J's chain = %v, want [Y]", r.Ancestors)
	}
}
