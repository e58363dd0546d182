package e2e_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/wemember/wemember/tests/backends"
)

// TestEndToEndNewcomerAnswers: what a developer trying the API by hand
// meets: a wrong method says which methods the route takes, an unknown
// route says which function answered, every JSON answer ends with a
// newline, and a repeated sign-in says so.
func TestEndToEndNewcomerAnswers(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		l := e.login("newcomer-" + b.Name)
		req, _ := http.NewRequest("DELETE", e.http.URL+"/member-api/me", nil)
		req.Header.Set("Authorization", "Bearer "+l.Token)
		resp, err := e.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" || !bytes.HasSuffix(body, []byte("}\n")) {
			t.Errorf("DELETE /member-api/me = %d, Allow %q, %q; want 405, Allow GET, HEAD, a JSON line", resp.StatusCode, resp.Header.Get("Allow"), body)
		}
		if r := e.do("HEAD", "/member-api/me", l.Token, nil); r.Status != http.StatusOK || len(r.Body) != 0 {
			t.Errorf("HEAD /member-api/me = %d %q; want 200 without a body", r.Status, r.Body)
		}
		if r := e.do("GET", "/member-api//me", l.Token, nil); r.Status != http.StatusNotFound || !bytes.Contains(r.Body, []byte(`"member-api has no route GET //me"`)) {
			t.Errorf("GET /member-api//me = %d %s; want a JSON 404 naming member-api", r.Status, r.Body)
		}
		r := e.do("GET", "/member-api/nope", l.Token, nil)
		if r.Status != http.StatusNotFound || !bytes.Contains(r.Body, []byte(`"member-api has no route GET /nope"`)) {
			t.Errorf("GET /member-api/nope = %d %s; want a JSON 404 naming member-api", r.Status, r.Body)
		}
		if r := e.do("GET", "/admin-api/nope", e.deps.Config.AdminToken, nil); r.Status != http.StatusNotFound || !bytes.Contains(r.Body, []byte(`"admin-api has no route GET /nope"`)) {
			t.Errorf("GET /admin-api/nope = %d %s; want a JSON 404 naming admin-api", r.Status, r.Body)
		}

		first := e.do("POST", "/member-api/sign-in", l.Token, nil)
		again := e.do("POST", "/member-api/sign-in", l.Token, nil)
		var f, a struct {
			Already *bool `json:"already_signed_in"`
			Streak  int   `json:"streak"`
		}
		first.decode(t, &f)
		again.decode(t, &a)
		if first.Status != 200 || f.Already == nil || *f.Already || a.Already == nil || !*a.Already || a.Streak != f.Streak {
			t.Errorf("sign-in then again = %s then %s; want already_signed_in false, then true with the same streak", first.Body, again.Body)
		}
		for _, r := range []reply{first, again, e.do("GET", "/member-api/me", l.Token, nil)} {
			if !bytes.HasSuffix(r.Body, []byte("}\n")) {
				t.Errorf("answer %q does not end with a newline", r.Body)
			}
		}
	})
}

// TestEndToEndMemberAnswersHideInternals: the member's coupons, ledger,
// card and sign-in answers carry no store internals.
func TestEndToEndMemberAnswersHideInternals(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		l := e.login("internals-" + b.Name)
		answers := map[string]reply{
			"sign-in": e.do("POST", "/member-api/sign-in", l.Token, nil),
			"card":    e.do("GET", "/member-api/me", l.Token, nil),
			"coupons": e.do("GET", "/member-api/coupons", l.Token, nil),
			"points":  e.do("GET", "/member-api/points", l.Token, nil),
		}
		for name, r := range answers {
			if r.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", name, r.Status, r.Body)
			}
			var v any
			r.decode(t, &v)
			for _, k := range keys(v) {
				switch k {
				case "shard", "issue_key", "redeem_key", "lot_sk", "key", "member_id", "issued_by", "used_by", "closed_by":
					t.Errorf("%s answers internal field %q: %s", name, k, r.Body)
				}
			}
		}
		// What a member does need is still there.
		var list struct {
			Coupons []struct {
				ID, TemplateID, Status string
				AmountOff              int64 `json:"amount_off"`
			} `json:"coupons"`
		}
		json.Unmarshal(answers["coupons"].Body, &list)
		if len(list.Coupons) != 1 || list.Coupons[0].ID == "" || list.Coupons[0].AmountOff != 1000 || list.Coupons[0].Status != "available" {
			t.Errorf("coupons = %s; want the registration coupon", answers["coupons"].Body)
		}
		var ledger struct {
			Entries []struct {
				Points int64  `json:"points"`
				Reason string `json:"reason"`
			} `json:"entries"`
		}
		json.Unmarshal(answers["points"].Body, &ledger)
		if len(ledger.Entries) != 1 || ledger.Entries[0].Points != 5 || ledger.Entries[0].Reason == "" {
			t.Errorf("points = %s; want the sign-in entry", answers["points"].Body)
		}
	})
}

// keys lists every object key in a decoded JSON value, at any depth.
func keys(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			out = append(out, k)
			out = append(out, keys(y)...)
		}
	case []any:
		for _, y := range x {
			out = append(out, keys(y)...)
		}
	}
	return out
}

// TestEndToEndRuleDocuments: an operator's rule documents refuse unknown
// fields and absurd amounts naming the field, and a PUT of the loyalty
// rules says whether its version is missing or stale (in the body or as
// If-Match).
func TestEndToEndRuleDocuments(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		put := func(path string, doc map[string]any, ifMatch string) reply {
			raw, _ := json.Marshal(doc)
			req, _ := http.NewRequest("PUT", e.http.URL+"/admin-api"+path, bytes.NewReader(raw))
			req.Header.Set("Authorization", "Bearer "+e.deps.Config.AdminToken)
			if ifMatch != "" {
				req.Header.Set("If-Match", ifMatch)
			}
			resp, err := e.http.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return reply{Status: resp.StatusCode, Body: body}
		}
		req, _ := http.NewRequest("GET", e.http.URL+"/admin-api/rules/loyalty", nil)
		req.Header.Set("Authorization", "Bearer "+e.deps.Config.AdminToken)
		resp, err := e.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != `"1"` {
			t.Fatalf("get rules: %d, ETag %q; want 200, ETag \"1\"", resp.StatusCode, resp.Header.Get("ETag"))
		}
		fresh := func() map[string]any {
			var rules map[string]any
			e.admin("GET", "/rules/loyalty", nil).decode(t, &rules)
			return rules
		}
		expect := func(name string, r reply, status int, msg string) {
			t.Helper()
			if r.Status != status || !strings.Contains(string(r.Body), msg) {
				t.Errorf("%s: %d %s; want %d %q", name, r.Status, r.Body, status, msg)
			}
		}

		rules := fresh()
		rules["levls"] = rules["levels"]
		expect("unknown field", put("/rules/loyalty", rules, ""), 400, `unknown field \"levls\"`)
		rules = fresh()
		rules["levels"].(map[string]any)["table"].([]any)[1].(map[string]any)["min_grwth"] = 800
		expect("unknown nested field", put("/rules/loyalty", rules, ""), 400, `unknown field \"min_grwth\"`)

		rules = fresh()
		delete(rules, "version")
		expect("missing version", put("/rules/loyalty", rules, ""), 400, "version is required")
		rules = fresh()
		expect("current version", put("/rules/loyalty", rules, ""), 200, `"version":2`)
		expect("stale version", put("/rules/loyalty", rules, ""), 409, "version 1 is stale: the rules are at version 2")
		delete(rules, "version")
		expect("stale If-Match", put("/rules/loyalty", rules, `"1"`), 409, "version 1 is stale: the rules are at version 2")
		expect("If-Match and version disagree", put("/rules/loyalty", fresh(), `"1"`), 400, "If-Match")
		expect("current If-Match", put("/rules/loyalty", rules, `"2"`), 200, `"version":3`)

		tpl := map[string]any{"id": "huge", "name": "huge", "kind": "amount_off", "amount_off": 4.6e18,
			"scope": map[string]any{"kind": "all"}, "validity": map[string]any{"kind": "relative", "days": 7}, "status": "active"}
		expect("huge amount_off", put("/coupon-templates", tpl, ""), 400, "amount_off must be")
		tpl["amount_off"], tpl["amount_of"] = 500, 500
		expect("template unknown field", put("/coupon-templates", tpl, ""), 400, `unknown field \"amount_of\"`)
		expect("member rules unknown field", put("/rules/members", map[string]any{"bind": "progressive", "unsubscribe": "unlink", "bnd": 1}, ""), 400, `unknown field \"bnd\"`)
		expect("scene unknown field", put("/scenes", map[string]any{"id": "s1", "channel": map[string]any{"kind": "poster"}, "invter": "m1"}, ""), 400, `unknown field \"invter\"`)
		expect("replies unknown field", put("/rules/oa-replies", map[string]any{"welcome": "hi", "keyword": []any{}}, ""), 400, `unknown field \"keyword\"`)
	})
}
