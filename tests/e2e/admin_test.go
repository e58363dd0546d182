package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/tests/backends"
)

// admin sends an operator request to admin-api.
func (e *env) admin(method, path string, body any) reply {
	e.t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			e.t.Fatal(err)
		}
	}
	return e.do(method, "/admin-api"+path, e.deps.Config.AdminToken, b)
}

// TestEndToEndClerkRedeem: a member shows a coupon QR code, a clerk scans
// it; the coupon is used once, and a second scan answers the same coupon.
func TestEndToEndClerkRedeem(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		l := e.login("carol-" + b.Name)
		c := e.card(l.Token)
		if len(c.Coupons.Items) != 1 {
			t.Fatalf("coupons = %+v", c.Coupons)
		}
		var qr struct{ Token string }
		e.do("GET", "/member-api/coupons/qr?id="+c.Coupons.Items[0].ID, l.Token, nil).decode(t, &qr)

		if r := e.do("POST", "/admin-api/clerk/redeem", "", []byte(`{"qr":"`+qr.Token+`","clerk":"c1"}`)); r.Status != http.StatusUnauthorized {
			t.Fatalf("no operator token: %d, want 401", r.Status)
		}
		// A bad code is the scanned input's fault (400), not the operator's
		// credentials (401).
		if r := e.admin("POST", "/clerk/redeem", map[string]any{"qr": qr.Token[:len(qr.Token)-3] + "AAA", "clerk": "c1"}); r.Status != http.StatusBadRequest || !bytes.Contains(r.Body, []byte(`"qr: invalid coupon token"`)) {
			t.Fatalf("forged QR: %d %s, want 400 qr: invalid coupon token", r.Status, r.Body)
		}
		if r := e.admin("POST", "/clerk/redeem", map[string]any{"qr": l.Token, "clerk": "c1"}); r.Status != http.StatusBadRequest {
			t.Fatalf("a session token as QR: %d, want 400", r.Status)
		}
		first := e.admin("POST", "/clerk/redeem", map[string]any{"qr": qr.Token, "clerk": "c1", "order_id": "o-1"})
		if first.Status != http.StatusOK || !bytes.Contains(first.Body, []byte(`"status":"used"`)) {
			t.Fatalf("redeem: %d %s", first.Status, first.Body)
		}
		again := e.admin("POST", "/clerk/redeem", map[string]any{"qr": qr.Token, "clerk": "c1", "order_id": "o-1"})
		if again.Status != http.StatusOK {
			t.Fatalf("second scan of the same code: %d %s, want the redeemed coupon", again.Status, again.Body)
		}
		if c := e.card(l.Token); c.Coupons.Available != 0 {
			t.Fatalf("after redemption: %d available, want 0", c.Coupons.Available)
		}
		if r := e.do("GET", "/member-api/coupons/qr?id="+c.Coupons.Items[0].ID, l.Token, nil); r.Status != http.StatusConflict {
			t.Fatalf("QR for a used coupon: %d, want 409", r.Status)
		}
	})
}

// TestEndToEndRules: operators change rules through admin-api; a bad change
// is refused with a reason and changes nothing; a good one is versioned.
func TestEndToEndRules(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		var rules map[string]any
		r := e.admin("GET", "/rules/loyalty", nil)
		if r.Status != http.StatusOK {
			t.Fatalf("get rules: %d %s", r.Status, r.Body)
		}
		r.decode(t, &rules)
		levels := rules["levels"].(map[string]any)
		table := levels["table"].([]any)
		silver := table[1].(map[string]any)
		silver["min_growth"] = 6000 // Above gold's 5000: overlapping.
		bad := e.admin("PUT", "/rules/loyalty", rules)
		if bad.Status != http.StatusBadRequest || !bytes.Contains(bad.Body, []byte("levels.table[2].min_growth")) {
			t.Fatalf("overlapping thresholds: %d %s, want 400 naming levels.table[2].min_growth", bad.Status, bad.Body)
		}
		silver["min_growth"] = 800
		good := e.admin("PUT", "/rules/loyalty", rules)
		if good.Status != http.StatusOK {
			t.Fatalf("good change: %d %s", good.Status, good.Body)
		}
		stale := e.admin("PUT", "/rules/loyalty", rules) // Same version again.
		if stale.Status != http.StatusConflict {
			t.Fatalf("stale version: %d, want 409", stale.Status)
		}
		l := e.login("dan-" + b.Name)
		if c := e.card(l.Token); c.Level.ToNext != 800 {
			t.Fatalf("to next level = %d, want 800 under the new rules", c.Level.ToNext)
		}
		var hist struct {
			Changes []struct {
				By string `json:"by"`
			} `json:"changes"`
		}
		e.admin("GET", "/rules/loyalty/history", nil).decode(t, &hist)
		if len(hist.Changes) != 2 {
			t.Fatalf("history = %+v, want defaults + one change", hist.Changes)
		}
	})
}

// TestEndToEndClerkRescanAndIssue: a clerk scanning a used coupon's code
// again for another order is refused naming the first order, which the
// coupon records with its amount; an operator cannot issue a coupon to a
// member that does not exist.
func TestEndToEndClerkRescanAndIssue(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		l := e.login("rescan-" + b.Name)
		c := e.card(l.Token)
		var qr struct{ Token string }
		e.do("GET", "/member-api/coupons/qr?id="+c.Coupons.Items[0].ID, l.Token, nil).decode(t, &qr)
		scan := func(order string, amount int64) reply {
			return e.admin("POST", "/clerk/redeem", map[string]any{"qr": qr.Token, "clerk": "c1", "order_id": order, "order_amount": amount})
		}
		if r := scan("o-1", 5000); r.Status != http.StatusOK {
			t.Fatalf("first scan: %d %s", r.Status, r.Body)
		}
		if r := scan("o-1", 5000); r.Status != http.StatusOK {
			t.Fatalf("the same scan again: %d %s, want the first redemption", r.Status, r.Body)
		}
		r := scan("o-2", 7000)
		if r.Status != http.StatusConflict || !bytes.Contains(r.Body, []byte("already used for order o-1")) {
			t.Fatalf("rescan for another order: %d %s, want 409 already used for order o-1", r.Status, r.Body)
		}
		e.clock.Advance(6 * time.Minute)
		if r := scan("o-1", 5000); r.Status != http.StatusBadRequest || !bytes.Contains(r.Body, []byte(`"qr: coupon token expired"`)) {
			t.Fatalf("an expired QR: %d %s, want 400 qr: coupon token expired", r.Status, r.Body)
		}
		got, err := e.deps.Coupons.Get(context.Background(), c.Coupons.Items[0].ID)
		if err != nil || got.OrderID != "o-1" || got.OrderAmount != 5000 {
			t.Fatalf("stored coupon = %+v, %v; want order o-1 of 5000 fen", got, err)
		}

		r = e.admin("POST", "/coupons/issue", map[string]any{"template_id": "birthday", "member_id": "mnosuchmember", "key": "orphan-1"})
		if r.Status != http.StatusNotFound || !bytes.Contains(r.Body, []byte("member not found")) {
			t.Fatalf("issue to a missing member: %d %s, want 404 member not found", r.Status, r.Body)
		}
		page, err := e.deps.Coupons.List(context.Background(), coupons.ListQuery{MemberID: "mnosuchmember"})
		if err != nil || len(page.Items) != 0 {
			t.Fatalf("coupons of the missing member = %+v, %v; want none stored", page.Items, err)
		}
		r = e.admin("POST", "/coupons/issue", map[string]any{"template_id": "birthday", "member_id": l.MemberID, "key": "orphan-1"})
		if r.Status != http.StatusOK {
			t.Fatalf("the same key for a real member: %d %s; the refused issue must not have claimed it", r.Status, r.Body)
		}
	})
}
