package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/tests/backends"
)

// levelCoupons lists the monthly level coupons a member holds in the store.
func (e *env) levelCoupons(member string) []coupons.Instance {
	e.t.Helper()
	pg, err := e.deps.Coupons.List(context.Background(), coupons.ListQuery{MemberID: member, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []coupons.Instance
	for _, c := range pg.Items {
		if c.Reason == coupons.ReasonLevel+":"+"silver" || c.Reason == coupons.ReasonLevel+":"+"gold" {
			out = append(out, c)
		}
	}
	return out
}

// sweep runs the expiry sweep as an operator until no job has work left
// (a run cut short by its deadline on a loaded machine says more, and the
// schedule's next tick goes on), and fails unless every run succeeds.
func (e *env) sweep() {
	e.t.Helper()
	for run := 0; run < 10; run++ {
		r := e.do("POST", "/expiry-sweep", e.deps.Config.AdminToken, nil)
		var rep struct {
			More bool `json:"more"`
		}
		r.decode(e.t, &rep)
		if r.Status != http.StatusOK {
			e.t.Fatalf("sweep: %d %s", r.Status, r.Body)
		}
		if !rep.More {
			return
		}
	}
	e.t.Fatalf("sweep: still more after 10 runs")
}

// TestMonthlyLevelCoupon: looking at the card issues nothing; the sweep on
// the first of the month (Asia/Shanghai) issues each member of a level with
// a monthly coupon exactly one, and a second run issues nothing.
func TestMonthlyLevelCoupon(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		e.clock.mu.Lock()
		e.clock.now = time.Date(2026, 3, 20, 10, 0, 0, 0, calendar.Zone())
		e.clock.mu.Unlock()
		ctx := context.Background()
		silver, normal := e.login("sue-"+b.Name), e.login("ned-"+b.Name)
		gold := e.login("gil-" + b.Name)
		for _, g := range []struct {
			token  string
			growth int64
		}{{silver.Token, 1000}, {gold.Token, 5000}} {
			id := e.card(g.token).Member.ID
			if _, err := e.deps.Loyalty.AddGrowth(ctx, loyalty.GrowthCmd{MemberID: id, Growth: g.growth, Key: "g-" + id}); err != nil {
				t.Fatal(err)
			}
		}
		sid, nid, gid := e.card(silver.Token).Member.ID, e.card(normal.Token).Member.ID, e.card(gold.Token).Member.ID
		for range 2 {
			if c := e.card(silver.Token); c.Level.ID != "silver" {
				t.Fatalf("card level = %s, want silver", c.Level.ID)
			}
		}
		if got := e.levelCoupons(sid); len(got) != 0 {
			t.Fatalf("after two looks at the card: %d level coupons in the store, want 0", len(got))
		}

		e.clock.Advance(time.Date(2026, 4, 1, 0, 30, 0, 0, calendar.Zone()).Sub(e.clock.Now()))
		e.sweep()
		got := e.levelCoupons(sid)
		if len(got) != 1 || got[0].TemplateID != "level-silver" || got[0].Kind != coupons.AmountOff || got[0].Threshold == 0 {
			t.Fatalf("silver after the sweep on 1 April: %+v; want one level-silver 满减 coupon", got)
		}
		if n, g := len(e.levelCoupons(nid)), len(e.levelCoupons(gid)); n != 0 || g != 0 {
			t.Errorf("normal and gold members got %d and %d level coupons, want none (no monthly coupon)", n, g)
		}
		e.clock.Advance(time.Hour)
		e.sweep()
		e.clock.Advance(14 * 24 * time.Hour)
		e.sweep()
		if got := e.levelCoupons(sid); len(got) != 1 {
			t.Fatalf("after more runs in April: %d level coupons, want still 1", len(got))
		}
		e.clock.Advance(time.Date(2026, 5, 1, 8, 0, 0, 0, calendar.Zone()).Sub(e.clock.Now()))
		e.login("sue-" + b.Name) // Stay active.
		e.sweep()
		if got := e.levelCoupons(sid); len(got) != 2 {
			t.Fatalf("after the sweep on 1 May: %d level coupons, want 2", len(got))
		}
	})
}

// TestStreakDaysRule: the streak coupon comes on every streak_days-th
// sign-in in a row as the loyalty rules say, and by default it is a
// discount coupon.
func TestStreakDaysRule(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		admin := e.deps.Config.AdminToken
		var r loyalty.Rules
		e.do("GET", "/admin-api/rules/loyalty", admin, nil).decode(t, &r)
		r.Coupons.StreakDays = 2
		body, _ := json.Marshal(r)
		if got := e.do("PUT", "/admin-api/rules/loyalty", admin, body); got.Status != http.StatusOK {
			t.Fatalf("PUT rules: %d %s", got.Status, got.Body)
		}
		var reply struct {
			Streak int `json:"streak"`
			Coupon *struct {
				TemplateID string       `json:"template_id"`
				Kind       coupons.Kind `json:"kind"`
			} `json:"coupon"`
		}
		for day := 1; day <= 2; day++ {
			l := e.login("stella-" + b.Name)
			reply.Coupon = nil
			e.do("POST", "/member-api/sign-in", l.Token, nil).decode(t, &reply)
			if day == 1 && reply.Coupon != nil {
				t.Fatalf("day 1: coupon %+v, want none", reply.Coupon)
			}
			e.clock.Advance(24 * time.Hour)
		}
		if reply.Streak != 2 || reply.Coupon == nil || reply.Coupon.TemplateID != "signin-streak" || reply.Coupon.Kind != coupons.Discount {
			t.Fatalf("day 2: streak %d coupon %+v; want the signin-streak discount coupon", reply.Streak, reply.Coupon)
		}
	})
}

// TestStreakCouponOnceAcrossMerge: two members who turn out to be one person
// (the older known through another mini-program of the merchant) both sign
// in two days in a row (streak_days 2); the newer one gets the streak coupon
// first, then they are merged. The survivor's sign-in that
// day is answered as already signed in and issues no second streak coupon.
func TestStreakCouponOnceAcrossMerge(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		admin := e.deps.Config.AdminToken
		var r loyalty.Rules
		e.do("GET", "/admin-api/rules/loyalty", admin, nil).decode(t, &r)
		r.Coupons.StreakDays = 2
		body, _ := json.Marshal(r)
		if got := e.do("PUT", "/admin-api/rules/loyalty", admin, body); got.Status != http.StatusOK {
			t.Fatalf("PUT rules: %d %s", got.Status, got.Body)
		}
		older, newer := "streak-old-"+b.Name, "streak-new-"+b.Name
		var reply struct {
			Streak          int  `json:"streak"`
			AlreadySignedIn bool `json:"already_signed_in"`
			Coupon          *struct {
				ID string `json:"id"`
			} `json:"coupon"`
		}
		ctx := context.Background()
		ids := map[string]string{} // Members known through the other mini-program.
		signIn := func(openid string) {
			t.Helper()
			reply.Coupon, reply.AlreadySignedIn = nil, false
			tok, _ := e.deps.Sessions.Issue(ids[openid])
			if ids[openid] == "" {
				tok = e.mpLogin(openid, "").Token
			}
			if got := e.do("POST", "/member-api/sign-in", tok, nil); got.Status != http.StatusOK {
				t.Fatalf("sign-in of %s: %d %s", openid, got.Status, got.Body)
			} else {
				got.decode(t, &reply)
			}
		}
		o, err := e.deps.Members.Arrive(ctx, member.Arrival{Identities: []member.Identity{{Kind: member.OpenID, Scope: "wxOTHERMP", Value: older}}})
		if err != nil {
			t.Fatal(err)
		}
		ids[older] = o.Member.ID
		signIn(older)
		e.clock.Advance(time.Minute)
		signIn(newer)
		e.clock.Advance(24 * time.Hour)
		signIn(newer)
		if reply.Streak != 2 || reply.Coupon == nil {
			t.Fatalf("newer's second day: streak %d coupon %+v; want the streak coupon", reply.Streak, reply.Coupon)
		}
		streakCoupon := reply.Coupon.ID
		n := e.mpLogin(newer, "")
		survivor, err := e.deps.Members.Merge(ctx, o.Member.ID, n.MemberID)
		if err != nil || survivor.ID != o.Member.ID {
			t.Fatalf("Merge = %s, %v; want %s", survivor.ID, err, o.Member.ID)
		}
		for i := range 2 {
			signIn(older)
			if !reply.AlreadySignedIn || reply.Streak != 2 || reply.Coupon != nil {
				t.Errorf("survivor's sign-in %d after the merge: already %v streak %d coupon %+v; want already signed in, streak 2, no coupon",
					i+1, reply.AlreadySignedIn, reply.Streak, reply.Coupon)
			}
		}
		pg, err := e.deps.Coupons.List(ctx, coupons.ListQuery{MemberID: o.Member.ID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var streak []string
		for _, c := range pg.Items {
			if c.Reason == coupons.ReasonStreak {
				streak = append(streak, c.ID)
			}
		}
		if len(streak) != 1 || streak[0] != streakCoupon {
			t.Errorf("survivor's streak coupons = %v; want only the merged member's %s", streak, streakCoupon)
		}

		// A member's own streak day whose coupon could not be issued (the
		// template paused) gets it on a repeat sign-in that day.
		retrier := "streak-retry-" + b.Name
		signIn(retrier)
		e.clock.Advance(24 * time.Hour)
		if _, err := e.deps.Coupons.SetTemplateStatus(ctx, "signin-streak", coupons.Paused, "test"); err != nil {
			t.Fatal(err)
		}
		signIn(retrier)
		if reply.Streak != 2 || reply.Coupon != nil {
			t.Fatalf("sign-in with the template paused: streak %d coupon %+v; want streak 2, no coupon", reply.Streak, reply.Coupon)
		}
		if _, err := e.deps.Coupons.SetTemplateStatus(ctx, "signin-streak", coupons.Active, "test"); err != nil {
			t.Fatal(err)
		}
		signIn(retrier)
		if !reply.AlreadySignedIn || reply.Coupon == nil {
			t.Errorf("repeat sign-in once the template is active: already %v coupon %+v; want the streak coupon", reply.AlreadySignedIn, reply.Coupon)
		}
	})
}
