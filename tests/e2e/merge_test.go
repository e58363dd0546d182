package e2e_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/tests/backends"
	"github.com/wemember/wemember/tests/wxsim"
	"github.com/wemember/wemember/tests/wxsim/push"
)

// Issue 3: "a merge keeps every point, coupon, order and referral". Two
// members who turn out to be one person — each with its own history — are
// joined by a real arrival through the functions, on every backend. Orders
// and referral records do not exist yet (payments and invitations are later
// issues), so what is kept here is points and growth, coupons, the pending
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

// TestEndToEndMergeRace: the merging mini-program login and an Official
// Account SCAN of the same person arrive at once, each with its openid and
// the unionid. Either the follower already had the unionid (only the login
// spans both members) or nobody had it yet (both arrivals claim it, so
// either may find two members and merge). Every way the race goes ends
// with one survivor, the older A, holding both members' points once, both
// coupons and the inviter.
func TestEndToEndMergeRace(t *testing.T) {
	cases := []struct {
		name         string
		followerHasU bool
	}{
		{"follower-has-unionid", true},
		{"unionid-unclaimed", false},
	}
	const rounds = 2
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := pushEnv(t, b)
		ctx := context.Background()
		cfg := e.deps.Config
		oa := e.oa()
		oa.Now = e.clock.Now // Pushes are signed at the functions' time.
		scene := "inv-race-" + b.Name
		inv := e.inviter("race-inviter-"+b.Name, scene, member.Channel{Kind: "oa-qr", Value: "race"})
		merged := map[string]string{} // B → A, for the catch-up pass.
		for _, tc := range cases {
			for round := range rounds {
				name := fmt.Sprintf("race-%s-%d-%s", tc.name, round, b.Name)
				mpOpenID, union := wxsim.OpenID(mpAppID, name), wxsim.UnionID(name)
				la := e.mpLogin(mpOpenID, "")
				a := la.MemberID
				if got := e.signIn(la.Token); got != 5 {
					t.Fatalf("%s: sign-in credited %d", name, got)
				}
				e.clock.Advance(time.Minute)

				fl := wxsim.Follower{AppID: cfg.OAAppID, OpenID: wxsim.OpenID(cfg.OAAppID, name),
					Scene: wxsim.SceneQRCode, QRSceneStr: scene}
				if tc.followerHasU {
					fl.UnionID = union
				}
				sim.FollowAs(fl)
				sub, err := oa.Build(e.url("oa-callback"), push.OASubscribe(fl.OpenID, scene))
				if err != nil {
					t.Fatal(err)
				}
				if r := e.send(sub); r.Status != http.StatusOK {
					t.Fatalf("%s: subscribe %d %s", name, r.Status, r.Body)
				}
				oaID := member.Identity{Kind: member.OpenID, Scope: cfg.OAAppID, Value: fl.OpenID}
				bID := e.resolve(oaID, true).ID
				if bID == a {
					t.Fatalf("%s: the follower is already A", name)
				}
				if _, err := e.deps.Loyalty.Earn(ctx, loyalty.EarnCmd{MemberID: bID, Points: 20, Reason: "e2e", Key: "e2e:race:" + bID}); err != nil {
					t.Fatal(err)
				}

				// Both apps bound now; the two arrivals race.
				fl.UnionID = union
				sim.FollowAs(fl)
				code := sim.LoginCode(mpAppID, mpOpenID, union)
				scan, err := oa.Build(e.url("oa-callback"), push.OAScan(fl.OpenID, scene))
				if err != nil {
					t.Fatal(err)
				}
				var (
					wg     sync.WaitGroup
					login  reply
					logErr error
					scanR  push.Result
				)
				start := make(chan struct{})
				wg.Add(2)
				go func() {
					defer wg.Done()
					<-start
					resp, err := e.http.Client().Post(e.http.URL+"/mp-login", "application/json", strings.NewReader(`{"code":"`+code+`"}`))
					if err != nil {
						logErr = err
						return
					}
					defer resp.Body.Close()
					login.Status = resp.StatusCode
					login.Body, _ = io.ReadAll(resp.Body)
				}()
				go func() {
					defer wg.Done()
					<-start
					scanR = push.Sender{Client: e.http.Client(), Tries: 1}.Send(ctx, scan)
				}()
				close(start)
				wg.Wait()

				if logErr != nil || login.Status != http.StatusOK {
					t.Fatalf("%s: login %d %s %v", name, login.Status, login.Body, logErr)
				}
				var lr loginReply
				login.decode(t, &lr)
				if lr.MemberID != a {
					t.Errorf("%s: login answered member %s, want A %s", name, lr.MemberID, a)
				}
				if s := scanR.Last(); s.Err != nil || s.Status != http.StatusOK || string(s.Body) != "success" {
					t.Errorf("%s: SCAN %d %q %v; want success", name, s.Status, s.Body, s.Err)
				}
				for _, id := range []member.Identity{oaID, {Kind: member.UnionID, Value: union}, {Kind: member.OpenID, Scope: mpAppID, Value: mpOpenID}} {
					if got := e.resolve(id, true); got.ID != a {
						t.Errorf("%s: %s resolves to %s, want A %s", name, id.Kind, got.ID, a)
					}
				}
				if got, err := e.deps.Members.Get(ctx, bID); err != nil || got.ID != a {
					t.Errorf("%s: Get(B) = %s, %v; want A", name, got.ID, err)
				}
				if bal := e.balance(a); bal.Available != 25 {
					t.Errorf("%s: A has %d points, want 5 + 20", name, bal.Available)
				}
				if _, m, _ := e.ledger(a); m != 20 {
					t.Errorf("%s: A's merge entries add %d points, want 20", name, m)
				}
				if n, nb := len(e.couponIDs(a)), len(e.couponIDs(bID)); n != 2 || nb != 0 {
					t.Errorf("%s: A has %d coupons, B %d; want 2 and 0", name, n, nb)
				}
				if pend, err := e.deps.Channels.PendingOf(ctx, a); err != nil || pend.Inviter != inv.ID {
					t.Errorf("%s: A's pending = %+v, %v; want inviter %s", name, pend, err, inv.ID)
				}
				merged[bID] = a
			}
		}

		// The catch-up pass a day later finds nothing more to move.
		e.clock.Advance(25 * time.Hour)
		if n, err := e.deps.Members.ResumeMerges(ctx, 100); err != nil || n != len(merged) {
			t.Errorf("ResumeMerges = %d, %v; want %d merges", n, err, len(merged))
		}
		for bID, a := range merged {
			if bal := e.balance(a); bal.Available != 25 {
				t.Errorf("after the catch-up pass %s has %d points, want 25", a, bal.Available)
			}
			if bal := e.balance(bID); bal.Available != 0 {
				t.Errorf("after the catch-up pass merged %s has %d points", bID, bal.Available)
			}
		}
	})
}

// hookStore calls after once, after the first Get for which it reports
// true: the point where a test slips a concurrent command in.
type hookStore struct {
	store.Store
	mu    sync.Mutex
	after func(k store.Key, err error) bool
}

func (h *hookStore) Get(ctx context.Context, k store.Key) (store.Item, error) {
	it, err := h.Store.Get(ctx, k)
	h.mu.Lock()
	f := h.after
	h.mu.Unlock()
	if f != nil && f(k, err) {
		h.mu.Lock()
		h.after = nil
		h.mu.Unlock()
	}
	return it, err
}

// TestEndToEndMergeInterleavings replays, deterministically, the two
// interleavings of TestEndToEndMergeRace that the scheduler only sometimes
// produces: the SCAN's arrival (OA openid + unionid) runs on a member
// service over a store that lets the login's arrival (mini-program openid +
// unionid) or its merge happen at one chosen read. Either way the SCAN must
// end on the one surviving member.
func TestEndToEndMergeInterleavings(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		hs := &hookStore{Store: e.deps.Store}
		scanSide := member.NewService(hs, e.deps.Box, e.clock.Now, member.NewID)
		for _, ab := range []member.Absorber{e.deps.Loyalty, e.deps.Coupons, e.deps.Channels} {
			scanSide.AddAbsorber(ab)
		}
		arrive := func(s *member.Service, ids ...member.Identity) member.Result {
			t.Helper()
			res, err := s.Arrive(ctx, member.Arrival{Identities: ids})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		person := func(name string) (mp, oaID, union member.Identity) {
			return member.Identity{Kind: member.OpenID, Scope: mpAppID, Value: wxsim.OpenID(mpAppID, name)},
				member.Identity{Kind: member.OpenID, Scope: e.deps.Config.OAAppID, Value: wxsim.OpenID(e.deps.Config.OAAppID, name)},
				member.Identity{Kind: member.UnionID, Value: wxsim.UnionID(name)}
		}

		// The unionid is claimed by the login after the SCAN looked it up
		// (not found) and before the SCAN links it to the follower.
		t.Run("unionid claimed between look-up and link", func(t *testing.T) {
			mp, oaID, union := person("interleave-claim-" + b.Name)
			a := arrive(e.deps.Members, mp).Member
			e.clock.Advance(time.Minute)
			bm := arrive(e.deps.Members, oaID).Member
			hs.after = func(k store.Key, err error) bool {
				if !strings.Contains(k.PK, union.Value) || !errs.Is(errs.NotExist, err) {
					return false
				}
				arrive(e.deps.Members, union, mp) // The login, in between.
				return true
			}
			res := arrive(scanSide, oaID, union)
			byOA, byU := e.resolve(oaID, true), e.resolve(union, true)
			if res.Member.ID != a.ID || byOA.ID != a.ID || byU.ID != a.ID {
				t.Errorf("SCAN answered %s; OA openid → %s, unionid → %s; want all the older A %s (B was %s)",
					res.Member.ID, byOA.ID, byU.ID, a.ID, bm.ID)
			}
		})

		// The login merges B into A after the SCAN resolved B (live) and
		// before the SCAN writes B's profile.
		t.Run("merged between look-up and link", func(t *testing.T) {
			mp, oaID, union := person("interleave-merge-" + b.Name)
			a := arrive(e.deps.Members, mp).Member
			e.clock.Advance(2 * time.Hour) // Past link's "nothing worth a write" hour.
			bm := arrive(e.deps.Members, oaID, union).Member
			e.clock.Advance(2 * time.Hour)
			reads := 0
			hs.after = func(k store.Key, err error) bool {
				if k != store.K(member.Partition(bm.ID), "profile") {
					return false
				}
				if reads++; reads < 2 { // The second read ends the SCAN's look-up.
					return false
				}
				arrive(e.deps.Members, union, mp) // The login merges.
				return true
			}
			res := arrive(scanSide, oaID, union)
			if res.Member.ID != a.ID || res.Member.Status != member.Active {
				t.Errorf("SCAN answered member %s (status %s); want the survivor A %s, active (B was %s)",
					res.Member.ID, res.Member.Status, a.ID, bm.ID)
			}
			if got, err := e.deps.Members.Get(ctx, bm.ID); err != nil || got.ID != a.ID {
				t.Errorf("Get(B) = %s, %v; want A", got.ID, err)
			}
		})

		// A command in flight for B earns on B after the absorber read B's
		// points summary and before it lists B's lots.
		t.Run("earned on B while its points move", func(t *testing.T) {
			mp, oaID, _ := person("interleave-earn-" + b.Name)
			a := arrive(e.deps.Members, mp).Member
			bm := arrive(e.deps.Members, oaID).Member
			earn := func(id string, pts int64, key string) {
				t.Helper()
				if _, err := e.deps.Loyalty.Earn(ctx, loyalty.EarnCmd{MemberID: id, Points: pts, Reason: "e2e", Key: key}); err != nil {
					t.Fatal(err)
				}
			}
			earn(a.ID, 5, "e2e:ia:"+a.ID)
			earn(bm.ID, 20, "e2e:ib:"+bm.ID)
			absorber := loyalty.New(hs, e.clock.Now, member.NewID)
			hs.after = func(k store.Key, err error) bool {
				if k != store.K(member.Partition(bm.ID), "points") {
					return false
				}
				earn(bm.ID, 7, "e2e:ib-late:"+bm.ID)
				return true
			}
			if err := absorber.Absorb(ctx, bm.ID, a.ID); err != nil {
				t.Errorf("Absorb with an earning in flight: %v", err)
			}
			if err := absorber.Absorb(ctx, bm.ID, a.ID); err != nil { // The catch-up pass.
				t.Errorf("catch-up Absorb: %v", err)
			}
			if ga, gb := e.balance(a.ID).Available, e.balance(bm.ID).Available; ga != 32 || gb != 0 {
				t.Errorf("A has %d points, B %d; want 5 + 20 + 7 and 0", ga, gb)
			}
		})
	})
}
