package e2e_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/tests/backends"
	"github.com/wemember/wemember/tests/wxsim"
)

type card struct {
	Member struct {
		ID string `json:"id"`
	} `json:"member"`
	Level struct {
		ID       string  `json:"id"`
		Growth   int64   `json:"growth"`
		Next     string  `json:"next"`
		ToNext   int64   `json:"to_next"`
		Progress float64 `json:"progress"`
	} `json:"level"`
	Points struct {
		Available int64 `json:"available"`
	} `json:"points"`
	Coupons struct {
		Available int `json:"available"`
		Items     []struct {
			ID         string `json:"id"`
			TemplateID string `json:"template_id"`
			AmountOff  int64  `json:"amount_off"`
		} `json:"items"`
	} `json:"coupons"`
}

func (e *env) login(name string) loginReply {
	e.t.Helper()
	code := sim.LoginCode(mpAppID, wxsim.OpenID(mpAppID, name), wxsim.UnionID(name))
	var got loginReply
	r := e.do("POST", "/mp-login", "", []byte(`{"code":"`+code+`"}`))
	if r.Status != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", name, r.Status, r.Body)
	}
	r.decode(e.t, &got)
	return got
}

func (e *env) card(token string) card {
	e.t.Helper()
	r := e.do("GET", "/member-api/me", token, nil)
	if r.Status != http.StatusOK {
		e.t.Fatalf("card: %d %s", r.Status, r.Body)
	}
	var c card
	r.decode(e.t, &c)
	return c
}

// TestEndToEndLoyalty walks a new member through the loyalty basics over
// HTTP: the registration coupon, the level card, daily sign-in (once a day,
// streak), the ledger and a coupon QR code.
func TestEndToEndLoyalty(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		l := e.login("bob-" + b.Name)
		c := e.card(l.Token)
		if c.Level.ID != "normal" || c.Level.Next != "silver" || c.Level.ToNext != 1000 {
			t.Fatalf("level card = %+v; want normal, 1000 growth to silver", c.Level)
		}
		if c.Coupons.Available != 1 || c.Coupons.Items[0].AmountOff != 1000 {
			t.Fatalf("coupons = %+v; want the 10-yuan registration coupon", c.Coupons)
		}
		// Logging in again grants nothing twice.
		e.login("bob-" + b.Name)
		if c := e.card(l.Token); c.Coupons.Available != 1 {
			t.Fatalf("after a second login: %d coupons, want 1", c.Coupons.Available)
		}

		var first, again struct {
			Streak int   `json:"streak"`
			Points int64 `json:"points"`
		}
		r := e.do("POST", "/member-api/sign-in", l.Token, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("sign-in: %d %s", r.Status, r.Body)
		}
		r.decode(t, &first)
		e.do("POST", "/member-api/sign-in", l.Token, nil).decode(t, &again)
		if first.Streak != 1 || first.Points != 5 || again != first {
			t.Fatalf("sign-in = %+v then %+v; want streak 1, 5 points, once", first, again)
		}
		e.clock.Advance(24 * time.Hour)
		l = e.login("bob-" + b.Name) // Yesterday's session has expired.
		var second struct {
			Streak int `json:"streak"`
		}
		e.do("POST", "/member-api/sign-in", l.Token, nil).decode(t, &second)
		if second.Streak != 2 {
			t.Fatalf("next day streak = %d, want 2", second.Streak)
		}
		if c := e.card(l.Token); c.Points.Available != 10 {
			t.Fatalf("points = %d, want 10", c.Points.Available)
		}
		var ledger struct {
			Entries []struct {
				Points int64  `json:"points"`
				Reason string `json:"reason"`
			} `json:"entries"`
		}
		e.do("GET", "/member-api/points?limit=10", l.Token, nil).decode(t, &ledger)
		if len(ledger.Entries) != 2 || ledger.Entries[0].Points != 5 {
			t.Fatalf("ledger = %+v; want two sign-in entries", ledger.Entries)
		}
		if r := e.do("GET", "/member-api/points?limit=1000", l.Token, nil); r.Status != http.StatusBadRequest {
			t.Fatalf("limit 1000: %d, want 400", r.Status)
		}

		var qr struct {
			Token string `json:"token"`
		}
		r = e.do("GET", "/member-api/coupons/qr?id="+c.Coupons.Items[0].ID, l.Token, nil)
		r.decode(t, &qr)
		if r.Status != http.StatusOK || qr.Token == "" {
			t.Fatalf("coupon QR: %d %s", r.Status, r.Body)
		}
		// Reaching silver: looking at the card issues nothing; the level's
		// monthly coupon comes from the sweep's first run of the month.
		if _, err := e.deps.Loyalty.AddGrowth(context.Background(), loyalty.GrowthCmd{MemberID: l.MemberID,
			Growth: 1000, Reason: "test", Key: "grow-" + b.Name}); err != nil {
			t.Fatal(err)
		}
		silver := e.card(l.Token)
		if silver.Level.ID != "silver" || silver.Coupons.Available != 1 {
			t.Fatalf("at silver: level %s, %d coupons; want silver with only the registration coupon", silver.Level.ID, silver.Coupons.Available)
		}

		// The sweep, by an operator and by each cloud's schedule, runs every
		// job without failing.
		// A run cut short by its deadline (a loaded machine) says more: the
		// next run goes on, as the schedule's next tick would.
		var rep struct {
			Failed bool `json:"failed"`
			More   bool `json:"more"`
			Jobs   []struct {
				Name  string `json:"name"`
				Error string `json:"error"`
			} `json:"jobs"`
		}
		for run := 0; run == 0 || rep.More; run++ {
			if run == 10 {
				t.Fatalf("sweep: still more after %d runs: %s", run, r.Body)
			}
			rep.More = false
			r = e.do("POST", "/expiry-sweep", e.deps.Config.AdminToken, nil)
			r.decode(t, &rep)
			if r.Status != http.StatusOK || rep.Failed || len(rep.Jobs) < 8 {
				t.Fatalf("sweep: %d %s", r.Status, r.Body)
			}
		}
		if again := e.card(l.Token); again.Coupons.Available != 2 {
			t.Fatalf("after the sweep: %d coupons, want 2 with the monthly coupon", again.Coupons.Available)
		}
		if r := e.do("POST", "/expiry-sweep", l.Token, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("a member ran the sweep: %d", r.Status)
		}
		for _, fx := range []string{"eventbridge-schedule.json", "scf-timer.json"} {
			if r := e.invoke("expiry-sweep", fx, nil); r.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", fx, r.Status, r.Body)
			}
		}

		other := e.login("eve-" + b.Name)
		if r := e.do("GET", "/member-api/coupons/qr?id="+c.Coupons.Items[0].ID, other.Token, nil); r.Status != http.StatusNotFound {
			t.Fatalf("another member's coupon QR: %d, want 404", r.Status)
		}
	})
}
