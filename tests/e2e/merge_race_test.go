package e2e_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/store/storetest"
	"github.com/wemember/wemember/tests/backends"
	"github.com/wemember/wemember/tests/wxsim"
	"github.com/wemember/wemember/tests/wxsim/push"
)

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
		hs := &storetest.Faults{Store: e.deps.Store}
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
			hs.AfterGet = func(k store.Key, err error) bool {
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
			hs.AfterGet = func(k store.Key, err error) bool {
				// The look-up's last read: the unionid's index item, still
				// naming B. Link then writes on the version of B it read.
				if !strings.Contains(k.PK, union.Value) || err != nil {
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
			hs.AfterGet = func(k store.Key, err error) bool {
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
