package e2e_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/tests/backends"
	"github.com/wemember/wemember/tests/wxsim"
	"github.com/wemember/wemember/tests/wxsim/push"
)

// A merge keeps every point, coupon, order and referral. Two
// members who turn out to be one person — each with its own history — are
// joined by a real arrival through the functions, on every backend. Orders
// and referral records do not exist yet (payments and invitations are not
// built), so what is kept here is points and growth, coupons, the pending
// inviter attribution, follows and identities.

// mpLogin posts a js_code for which jscode2session answers openid and
// unionid (none when the mini-program is not bound to the Open Platform
// account); it fails the test unless mp-login answers 200.
func (e *env) mpLogin(openid, unionid string) loginReply {
	e.t.Helper()
	code := sim.LoginCode(mpAppID, openid, unionid)
	r := e.do("POST", "/mp-login", "", []byte(`{"code":"`+code+`"}`))
	if r.Status != http.StatusOK {
		e.t.Fatalf("mp-login %s: %d %s", openid, r.Status, r.Body)
	}
	var got loginReply
	r.decode(e.t, &got)
	return got
}

// signIn signs in through member-api and returns the points credited.
func (e *env) signIn(token string) int64 {
	e.t.Helper()
	r := e.do("POST", "/member-api/sign-in", token, nil)
	if r.Status != http.StatusOK {
		e.t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	var got struct {
		Points int64 `json:"points"`
	}
	r.decode(e.t, &got)
	return got.Points
}

// couponIDs lists a member's coupons of every status, sorted.
func (e *env) couponIDs(memberID string) []string {
	e.t.Helper()
	pg, err := e.deps.Coupons.List(context.Background(), coupons.ListQuery{MemberID: memberID, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	var ids []string
	for _, c := range pg.Items {
		if c.MemberID != memberID {
			e.t.Errorf("coupon %s listed for %s is owned by %s", c.ID, memberID, c.MemberID)
		}
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return ids
}

// balance is a member's balance read from the store.
func (e *env) balance(memberID string) loyalty.Balance {
	e.t.Helper()
	b, err := e.deps.Loyalty.Balance(context.Background(), memberID)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// ledger is a member's whole points ledger from the store: the sum of its
// entries and the sum of its merge entries.
func (e *env) ledger(memberID string) (sum, merged int64, n int) {
	e.t.Helper()
	entries, _, err := e.deps.Loyalty.Ledger(context.Background(), memberID, "", 100)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, x := range entries {
		sum += x.Points
		if x.Kind == loyalty.KindMerge {
			merged += x.Points
		}
	}
	return sum, merged, len(entries)
}

// TestEndToEndMerge: alice logs in to a mini-program not yet bound to the
// Open Platform (openid only: member A), gets the registration coupon and
// signs in; an hour later she follows the Official Account through an
// inviter's scene QR (openid and unionid: member B, its own coupon, points,
// growth and pending attribution). Once the mini-program is bound her next
// login carries both identities: the two are merged into A, the older, and
// A has everything of both — through member-api and in the store. A command
// still in flight for B lands after the merge and is moved by the catch-up
// pass a day later; every absorber run again changes nothing.
func TestEndToEndMerge(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := pushEnv(t, b)
		ctx := context.Background()
		cfg := e.deps.Config
		name, scene := "alice-merge-"+b.Name, "inv-merge-"+b.Name
		inv := e.inviter("merge-inviter-"+b.Name, scene, member.Channel{Kind: "oa-qr", Value: "merge"})
		mpOpenID, union := wxsim.OpenID(mpAppID, name), wxsim.UnionID(name)
		mpID := member.Identity{Kind: member.OpenID, Scope: mpAppID, Value: mpOpenID}
		unionID := member.Identity{Kind: member.UnionID, Value: union}

		// 1. The unbound mini-program: member A, openid only.
		la := e.mpLogin(mpOpenID, "")
		if !la.Created {
			t.Fatalf("first login did not register a member: %+v", la)
		}
		a := la.MemberID
		if got := e.signIn(la.Token); got != 5 {
			t.Fatalf("A's sign-in credited %d points, want 5", got)
		}
		e.resolve(unionID, false)
		coupA := e.couponIDs(a)
		cardA := e.card(la.Token)
		if len(coupA) != 1 || cardA.Points.Available != 5 {
			t.Fatalf("A has coupons %v and %d points; want the registration coupon and 5", coupA, cardA.Points.Available)
		}

		// 2. An hour later, the Official Account through the inviter's
		// scene: member B with openid and unionid.
		e.clock.Advance(time.Hour)
		f := sim.Follow(cfg.OAAppID, name, scene)
		oa := e.oa()
		oa.Now = e.clock.Now // Pushes are signed at the functions' time.
		p, err := oa.Build(e.url("oa-callback"), push.OASubscribe(f.OpenID, scene))
		if err != nil {
			t.Fatal(err)
		}
		if r := e.send(p); r.Status != http.StatusOK {
			t.Fatalf("subscribe: %d %s", r.Status, r.Body)
		}
		oaID := member.Identity{Kind: member.OpenID, Scope: cfg.OAAppID, Value: f.OpenID}
		mb := e.resolve(oaID, true)
		bID := mb.ID
		if bID == a || e.resolve(unionID, true).ID != bID {
			t.Fatalf("the follower is member %s (unionid %s); want a second member besides A %s", bID, e.resolve(unionID, true).ID, a)
		}
		tokB, _ := e.deps.Sessions.Issue(bID)
		if got := e.signIn(tokB); got != 5 {
			t.Fatalf("B's sign-in credited %d points, want 5", got)
		}
		if _, err := e.deps.Loyalty.Earn(ctx, loyalty.EarnCmd{MemberID: bID, Points: 20, Reason: "e2e", Key: "e2e:merge:b:" + bID}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.deps.Loyalty.AddGrowth(ctx, loyalty.GrowthCmd{MemberID: bID, Growth: 30, Reason: "e2e", Key: "e2e:merge:g:" + bID}); err != nil {
			t.Fatal(err)
		}
		coupB := e.couponIDs(bID)
		cardB := e.card(tokB)
		if len(coupB) != 1 || cardB.Points.Available != 25 || cardB.Level.Growth < 30 {
			t.Fatalf("B has coupons %v, %d points, growth %d; want 1, 25, at least 30", coupB, cardB.Points.Available, cardB.Level.Growth)
		}
		_, _, nB := e.ledger(bID)

		// 3. The mini-program is bound now: the login carries openid and
		// unionid, owned by A and B.
		lm := e.mpLogin(mpOpenID, union)
		if lm.MemberID != a || lm.Created {
			t.Fatalf("merging login: member %s created %v; want the older A %s", lm.MemberID, lm.Created, a)
		}

		// 4. A has everything; B resolves to A.
		for _, id := range []member.Identity{mpID, oaID, unionID} {
			if got := e.resolve(id, true); got.ID != a {
				t.Errorf("%s %s resolves to %s, want A %s", id.Kind, id.Value, got.ID, a)
			}
		}
		if got, err := e.deps.Members.Get(ctx, bID); err != nil || got.ID != a {
			t.Errorf("Get(B) = %s, %v; want A %s", got.ID, err, a)
		}
		ma, err := e.deps.Members.Get(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if ma.Status != member.Active || !ma.Has(mpID) || !ma.Has(oaID) || !ma.Has(unionID) {
			t.Errorf("A = status %s identities %+v; want active with all three", ma.Status, ma.Identities)
		}
		if !slices.ContainsFunc(ma.Attributions, func(c member.Channel) bool { return c.Kind == "oa-qr" && c.Value == "merge" }) {
			t.Errorf("A's attributions %+v lack B's channel oa-qr/merge", ma.Attributions)
		}

		want := cardA.Points.Available + cardB.Points.Available
		card := e.card(lm.Token)
		if card.Member.ID != a || card.Points.Available != want {
			t.Errorf("card: member %s, %d points; want A %s, %d", card.Member.ID, card.Points.Available, a, want)
		}
		if card.Level.Growth != cardA.Level.Growth+cardB.Level.Growth {
			t.Errorf("growth %d, want %d + %d", card.Level.Growth, cardA.Level.Growth, cardB.Level.Growth)
		}
		if bal := e.balance(a); bal.Available != want || bal.Earned != want {
			t.Errorf("A's balance %+v; want %d available and earned", bal, want)
		}
		if bal := e.balance(bID); bal.Available != 0 || bal.Pending != 0 {
			t.Errorf("B's balance %+v; want nothing left", bal)
		}
		var apiLedger struct {
			Entries []loyalty.Entry `json:"entries"`
		}
		e.do("GET", "/member-api/points?limit=50", lm.Token, nil).decode(t, &apiLedger)
		var apiSum, apiMerged int64
		for _, x := range apiLedger.Entries {
			apiSum += x.Points
			if x.Kind == loyalty.KindMerge {
				apiMerged += x.Points
			}
		}
		if apiSum != want || apiMerged != cardB.Points.Available {
			t.Errorf("A's ledger %+v: sum %d, merged %d; want %d and %d", apiLedger.Entries, apiSum, apiMerged, want, cardB.Points.Available)
		}
		if sum, merged, n := e.ledger(bID); sum != 0 || merged != -cardB.Points.Available || n != nB+1 {
			t.Errorf("B's ledger: sum %d, merged %d, %d entries; want 0, %d, its %d entries and the merge", sum, merged, n, -cardB.Points.Available, nB)
		}

		allCoupons := slices.Sorted(slices.Values(append(slices.Clone(coupA), coupB...)))
		if got := e.couponIDs(a); !slices.Equal(got, allCoupons) {
			t.Errorf("A's coupons %v, want %v", got, allCoupons)
		}
		if got := e.couponIDs(bID); len(got) != 0 {
			t.Errorf("B still lists coupons %v", got)
		}
		if card.Coupons.Available != 2 {
			t.Errorf("card lists %d available coupons, want 2", card.Coupons.Available)
		}
		for _, id := range allCoupons {
			if r := e.do("GET", "/member-api/coupons/qr?id="+id, lm.Token, nil); r.Status != http.StatusOK {
				t.Errorf("coupon QR %s with A's token: %d %s", id, r.Status, r.Body)
			}
		}
		if in, err := e.deps.Coupons.Redeem(ctx, coupons.RedeemCmd{InstanceID: coupB[0], MemberID: a, Clerk: "e2e-clerk", Key: "e2e:redeem:" + coupB[0]}); err != nil || in.Status != coupons.Used {
			t.Errorf("redeem B's coupon as A = %s, %v; want used", in.Status, err)
		}

		if pend, err := e.deps.Channels.PendingOf(ctx, a); err != nil || pend.Inviter != inv.ID || pend.Scene != scene {
			t.Errorf("A's pending attribution = %+v, %v; want inviter %s through %s", pend, err, inv.ID, scene)
		}
		if fl, err := e.deps.Channels.FollowOf(ctx, a, "oa:"+cfg.OAAppID); err != nil || !fl.Active || fl.Scene != scene {
			t.Errorf("A's follow = %+v, %v; want active through %s", fl, err, scene)
		}
		// B's old session is A's now.
		if c := e.card(tokB); c.Member.ID != a || c.Points.Available != want {
			t.Errorf("B's token sees member %s with %d points; want A %s, %d", c.Member.ID, c.Points.Available, a, want)
		}

		// A command in flight for B at the merge lands on B afterwards; the
		// catch-up pass a day later moves it, once.
		if _, err := e.deps.Loyalty.Earn(ctx, loyalty.EarnCmd{MemberID: bID, Points: 7, Reason: "late", Key: "e2e:merge:late:" + bID}); err != nil {
			t.Fatal(err)
		}
		if n, err := e.deps.Members.ResumeMerges(ctx, 10); err != nil || n != 0 {
			t.Errorf("ResumeMerges before a day = %d, %v; want nothing due", n, err)
		}
		e.clock.Advance(25 * time.Hour)
		if n, err := e.deps.Members.ResumeMerges(ctx, 10); err != nil || n != 1 {
			t.Errorf("ResumeMerges a day later = %d, %v; want the one merge", n, err)
		}
		if n, err := e.deps.Members.ResumeMerges(ctx, 10); err != nil || n != 0 {
			t.Errorf("ResumeMerges again = %d, %v; want the merge done", n, err)
		}
		// Every absorber again, as after a crash: nothing moves twice.
		for _, ab := range []member.Absorber{e.deps.Loyalty, e.deps.Coupons, e.deps.Channels} {
			if err := ab.Absorb(ctx, bID, a); err != nil {
				t.Errorf("absorb again: %v", err)
			}
		}
		if bal := e.balance(a); bal.Available != want+7 {
			t.Errorf("after the catch-up pass A has %d points, want %d", bal.Available, want+7)
		}
		if bal := e.balance(bID); bal.Available != 0 {
			t.Errorf("after the catch-up pass B has %d points, want 0", bal.Available)
		}
		if got := e.couponIDs(a); !slices.Equal(got, allCoupons) {
			t.Errorf("after the catch-up pass A's coupons %v, want %v", got, allCoupons)
		}
		tokA, _ := e.deps.Sessions.Issue(a)
		if c := e.card(tokA); c.Points.Available != want+7 || c.Level.Growth != cardA.Level.Growth+cardB.Level.Growth || c.Coupons.Available != 1 {
			t.Errorf("final card: %d points, growth %d, %d coupons available; want %d, %d, 1 (one redeemed)",
				c.Points.Available, c.Level.Growth, c.Coupons.Available, want+7, cardA.Level.Growth+cardB.Level.Growth)
		}
	})
}
