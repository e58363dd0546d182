package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/functions/member-api/memberapi"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/store/storetest"
	"github.com/wemember/wemember/shared/web"
	"github.com/wemember/wemember/tests/backends"
	"github.com/wemember/wemember/tests/wxsim"
)

// TestEndToEndSignInDuringMerge replays, deterministically, the two ways a
// sign-in and the phone login that merges its member into an imported record
// can interleave. Whichever way, the person is credited the day once, gets
// one streak coupon (streak_days 1), and everything ends on the survivor.
func TestEndToEndSignInDuringMerge(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		admin := e.deps.Config.AdminToken
		var r loyalty.Rules
		e.do("GET", "/admin-api/rules/loyalty", admin, nil).decode(t, &r)
		r.Coupons.StreakDays = 1
		body, _ := json.Marshal(r)
		if got := e.do("PUT", "/admin-api/rules/loyalty", admin, body); got.Status != http.StatusOK {
			t.Fatalf("PUT rules: %d %s", got.Status, got.Body)
		}
		hs := &storetest.Faults{Store: e.deps.Store}

		// setup imports a phone and logs a new WeChat user in without it.
		setup := func(t *testing.T, name, number string) (rec string, x loginReply, arrival member.Arrival) {
			t.Helper()
			imp, err := e.deps.Members.Import(ctx, []member.ImportRow{{Phone: number, Name: "合并"}})
			if err != nil || imp.Created != 1 {
				t.Fatalf("Import = %+v, %v", imp, err)
			}
			e.clock.Advance(time.Minute) // The record is the older member: it survives.
			openid := wxsim.OpenID(mpAppID, name+"-"+b.Name)
			x = e.mpLogin(openid, "")
			return imp.MemberIDs[0], x, member.Arrival{
				Identities: []member.Identity{{Kind: member.OpenID, Scope: mpAppID, Value: openid}},
				Phone:      pii.Phone{Country: "86", Number: number},
			}
		}
		signIn := func(t *testing.T, token string) (points int64, repeat bool) {
			t.Helper()
			got := e.do("POST", "/member-api/sign-in", token, nil)
			if got.Status != http.StatusOK {
				t.Fatalf("sign-in: %d %s", got.Status, got.Body)
			}
			var out struct {
				Points          int64 `json:"points"`
				AlreadySignedIn bool  `json:"already_signed_in"`
			}
			got.decode(t, &out)
			return out.Points, out.AlreadySignedIn
		}
		streakCoupons := func(t *testing.T, id string) int {
			t.Helper()
			pg, err := e.deps.Coupons.List(ctx, coupons.ListQuery{MemberID: id, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, c := range pg.Items {
				if c.TemplateID == r.Coupons.Streak {
					n++
				}
			}
			return n
		}
		check := func(t *testing.T, rec, x string) {
			t.Helper()
			if got, err := e.deps.Members.Get(ctx, x); err != nil || got.ID != rec {
				t.Fatalf("Get(merged-away) = %s, %v; want the record %s", got.ID, err, rec)
			}
			if bal := e.balance(rec); bal.Available != 5 || bal.Earned != 5 {
				t.Errorf("survivor has %d points available, %d earned; want the day's 5 once", bal.Available, bal.Earned)
			}
			if bal := e.balance(x); bal.Available != 0 {
				t.Errorf("merged-away member keeps %d points; want 0", bal.Available)
			}
			if n, nx := streakCoupons(t, rec), streakCoupons(t, x); n != 1 || nx != 0 {
				t.Errorf("streak coupons: survivor %d, merged-away %d; want 1 and 0", n, nx)
			}
		}

		// The login merges X into the record; between the flip and the
		// absorbers, a sign-in with X's token (now the survivor's) runs.
		t.Run("sign-in between merge and absorb", func(t *testing.T) {
			rec, x, arrival := setup(t, "signin-mid", "13855560101")
			if pts, _ := signIn(t, x.Token); pts != 5 {
				t.Fatalf("first sign-in credited %d, want 5", pts)
			}
			mergeSide := member.NewService(hs, e.deps.Box, e.clock.Now, member.NewID)
			for _, ab := range []member.Absorber{e.deps.Loyalty, e.deps.Coupons, e.deps.Channels} {
				mergeSide.AddAbsorber(ab)
			}
			hs.AfterGet = func(k store.Key, err error) bool {
				if k != store.K("merge#"+x.MemberID, "merge") || err != nil {
					return false
				}
				if pts, repeat := signIn(t, x.Token); pts != 0 && !repeat {
					t.Errorf("sign-in during the merge credited %d again", pts)
				}
				return true
			}
			if res, err := mergeSide.Arrive(ctx, arrival); err != nil || res.Member.ID != rec {
				t.Fatalf("phone login = %s, %v; want the record %s", res.Member.ID, err, rec)
			}
			check(t, rec, x.MemberID)
		})

		// A sign-in resolved X before the merge and writes after it
		// finished: it must land on the survivor, and the next sign-in that
		// day credits nothing.
		t.Run("sign-in on the merged-away member after the merge", func(t *testing.T) {
			rec, x, arrival := setup(t, "signin-late", "13855560102")
			late := memberapi.New(e.deps.Members, loyalty.New(hs, e.clock.Now, member.NewID, loyalty.WithCoupons(e.deps.Coupons)),
				e.deps.Coupons, e.deps.Sessions, mpAppID, e.clock.Now, e.deps.Funnel)
			hs.AfterGet = func(k store.Key, err error) bool {
				if k.PK != member.Partition(x.MemberID) || !strings.Contains(k.SK, "signin") {
					return false
				}
				if res, err := e.deps.Members.Arrive(ctx, arrival); err != nil || res.Member.ID != rec {
					t.Errorf("phone login = %s, %v; want the record %s", res.Member.ID, err, rec)
				}
				return true
			}
			resp, err := late(ctx, &web.Request{Method: "POST", Path: "/member-api/sign-in", Query: url.Values{},
				Header: http.Header{"Authorization": {"Bearer " + x.Token}}})
			if err != nil || resp.Status != http.StatusOK {
				t.Fatalf("late sign-in: %+v, %v", resp, err)
			}
			if hs.AfterGet != nil {
				t.Fatal("the merge did not run inside the sign-in")
			}
			if pts, repeat := signIn(t, x.Token); pts != 0 && !repeat {
				t.Errorf("sign-in after the merge credited %d again", pts)
			}
			check(t, rec, x.MemberID)
		})
	})
}
