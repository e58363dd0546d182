package adminapi_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/functions/admin-api/adminapi"
	"github.com/wemember/wemember/shared/auth"
	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/web"
)

// newRulesHandler serves the admin API over a fresh store with the default
// coupon templates installed and the loyalty rules checking them.
func newRulesHandler(t *testing.T) web.Handler {
	t.Helper()
	st, err := bolt.Open(t.TempDir() + "/rules.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cps := coupons.New(st, coupons.Config{})
	if err := cps.InstallDefaults(context.Background()); err != nil {
		t.Fatal(err)
	}
	loy := loyalty.New(st, time.Now, member.NewID, loyalty.WithTemplateCheck(func(ctx context.Context, id string) error {
		_, err := cps.Template(ctx, id)
		return err
	}))
	box, _ := pii.New([]byte(strings.Repeat("k", 32)))
	members := member.NewService(st, box, time.Now, member.NewID)
	h := &adminapi.Handler{Loyalty: loy, Coupons: cps, Members: members, Now: time.Now}
	return web.Chain(h.Mux().Serve, web.Errors(), auth.Operator(token))
}

// loyaltyRules reads the stored loyalty rules through the API.
func loyaltyRules(t *testing.T, h web.Handler) loyalty.Rules {
	t.Helper()
	resp, _ := call(t, h, http.MethodGet, "/admin-api/rules/loyalty", "", "", true)
	var r loyalty.Rules
	if err := json.Unmarshal(resp.Body, &r); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("GET rules = %d %s", resp.Status, resp.Body)
	}
	return r
}

// TestPutLoyaltyRulesBounds puts rules with one value out of what the
// commands accept: each is refused with a 400 naming the field, and the
// stored rules stay as they were.
func TestPutLoyaltyRulesBounds(t *testing.T) {
	h := newRulesHandler(t)
	before := loyaltyRules(t, h)
	huge := int64(math.MaxInt64)
	cases := []struct {
		field string // What the refusal must name.
		edit  func(r *loyalty.Rules)
	}{
		{"growth.per_yuan", func(r *loyalty.Rules) { r.Growth.PerYuan = huge }},
		{"growth.signin", func(r *loyalty.Rules) { r.Growth.SignIn = huge }},
		{"growth.review", func(r *loyalty.Rules) { r.Growth.Review = huge }},
		{"points.per_yuan", func(r *loyalty.Rules) { r.Points.PerYuan = huge }},
		{"points.review", func(r *loyalty.Rules) { r.Points.Review = huge }},
		{"points.share", func(r *loyalty.Rules) { r.Points.Share = huge }},
		{"points.signin.table[6]", func(r *loyalty.Rules) { r.Points.SignIn.Table[6] = huge }},
		{"points.offset.points_per_yuan", func(r *loyalty.Rules) { r.Points.Offset.PointsPerYuan = huge }},
		{"points.offset.max_points", func(r *loyalty.Rules) { r.Points.Offset.MaxPoints = huge }},
		{"levels.table[2].min_growth", func(r *loyalty.Rules) { r.Levels.Table[2].MinGrowth = huge }},
		{"levels.table[2].min_spend_fen", func(r *loyalty.Rules) {
			r.Levels.Basis = loyalty.BasisSpend
			r.Levels.Table[2].MinSpendFen = huge
		}},
		{"levels.table[1].name", func(r *loyalty.Rules) { r.Levels.Table[1].Name = "" }},
		{"levels.table[1].name", func(r *loyalty.Rules) { r.Levels.Table[1].Name = "白银\x00会员" }},
		{"levels.table[1].name", func(r *loyalty.Rules) { r.Levels.Table[1].Name = "白银\u202e员会" }},
		{"levels.table[1].name", func(r *loyalty.Rules) { r.Levels.Table[1].Name = "白银\u2028会员" }},
		{"levels.table[1].name", func(r *loyalty.Rules) { r.Levels.Table[1].Name = strings.Repeat("银", 33) }},
		{"levels.table[1].id", func(r *loyalty.Rules) { r.Levels.Table[1].ID = "silver#1" }},
		{"levels.table[1].benefits.monthly_coupon_template", func(r *loyalty.Rules) {
			r.Levels.Table[1].Benefits.MonthlyCouponTemplate = "no-such-template"
		}},
		{"coupons.streak", func(r *loyalty.Rules) { r.Coupons.Streak = "no-such-template" }},
		{"coupons.welcome", func(r *loyalty.Rules) { r.Coupons.Welcome = "no-such-template" }},
		{"coupons.birthday", func(r *loyalty.Rules) { r.Coupons.Birthday = "" }},
		{"coupons.streak_days", func(r *loyalty.Rules) { r.Coupons.StreakDays = 0 }},
		{"coupons.birthday_lead_days", func(r *loyalty.Rules) { r.Coupons.BirthdayLeadDays = 400 }},
		{"reminders.ahead_days", func(r *loyalty.Rules) { r.Reminders.AheadDays = -1 }},
		{"reminders.ahead_days", func(r *loyalty.Rules) { r.Reminders.AheadDays = 0 }},
	}
	for _, c := range cases {
		r := loyaltyRules(t, h)
		c.edit(&r)
		body, _ := json.Marshal(r)
		resp, out := call(t, h, http.MethodPut, "/admin-api/rules/loyalty", "application/json", string(body), true)
		e, _ := out["error"].(map[string]any)
		msg, _ := e["message"].(string)
		if resp.Status != http.StatusBadRequest || !strings.Contains(msg, c.field) {
			t.Errorf("PUT with bad %s = %d %q; want 400 naming %s", c.field, resp.Status, msg, c.field)
		}
		if got := loyaltyRules(t, h); got.Version != before.Version {
			t.Fatalf("after refused %s: rules version %d, want %d (nothing stored)", c.field, got.Version, before.Version)
		}
	}
}

// TestPutLoyaltyRulesGrowthOnly stores a level table by growth whose spend
// thresholds are all left at zero: only the basis's threshold counts.
func TestPutLoyaltyRulesGrowthOnly(t *testing.T) {
	h := newRulesHandler(t)
	r := loyaltyRules(t, h)
	for i := range r.Levels.Table {
		r.Levels.Table[i].MinSpendFen = 0
	}
	body, _ := json.Marshal(r)
	resp, _ := call(t, h, http.MethodPut, "/admin-api/rules/loyalty", "application/json", string(body), true)
	if resp.Status != http.StatusOK {
		t.Fatalf("PUT growth-only table = %d %s; want 200", resp.Status, resp.Body)
	}
	if got := loyaltyRules(t, h); got.Version != r.Version+1 || got.Levels.Table[2].MinSpendFen != 0 {
		t.Errorf("stored = version %d, gold spend %d; want version %d, 0", got.Version, got.Levels.Table[2].MinSpendFen, r.Version+1)
	}
}

// putRulesDoc puts the document at path after edit changed its JSON form.
func putRulesDoc(t *testing.T, h web.Handler, path string, edit func(doc map[string]any)) (*web.Response, string) {
	t.Helper()
	resp, doc := call(t, h, http.MethodGet, path, "", "", true)
	if resp.Status != http.StatusOK {
		t.Fatalf("GET %s = %d %s", path, resp.Status, resp.Body)
	}
	edit(doc)
	body, _ := json.Marshal(doc)
	resp, out := call(t, h, http.MethodPut, path, "application/json", string(body), true)
	e, _ := out["error"].(map[string]any)
	msg, _ := e["message"].(string)
	return resp, msg
}

// obj is the object at a dotted path of a JSON document ("levels.table.1").
func obj(doc map[string]any, path string) map[string]any {
	var cur any = doc
	for p := range strings.SplitSeq(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[p]
		case []any:
			i, _ := strconv.Atoi(p)
			cur = c[i]
		}
	}
	m, _ := cur.(map[string]any)
	return m
}

// TestPutRulesRequiredFields puts rules documents lacking a field, or with
// it null: each is refused with a 400 naming the field and nothing is
// stored; fields that may be left out (server-set, or optional) are not
// required.
func TestPutRulesRequiredFields(t *testing.T) {
	h := newRulesHandler(t)
	cases := []struct {
		path, field string // What the refusal must name.
		edit        func(doc map[string]any)
	}{
		{"/admin-api/rules/loyalty", "growth.signin", func(d map[string]any) { delete(obj(d, "growth"), "signin") }},
		{"/admin-api/rules/loyalty", "growth.signin", func(d map[string]any) { obj(d, "growth")["signin"] = nil }},
		{"/admin-api/rules/loyalty", "levels.table[1].name", func(d map[string]any) { delete(obj(d, "levels.table.1"), "name") }},
		{"/admin-api/rules/loyalty", "levels.table[0].benefits.discount_percent", func(d map[string]any) {
			delete(obj(d, "levels.table.0.benefits"), "discount_percent")
		}},
		{"/admin-api/rules/loyalty", "points.signin.table", func(d map[string]any) { delete(obj(d, "points.signin"), "table") }},
		{"/admin-api/rules/loyalty", "reminders", func(d map[string]any) { delete(d, "reminders") }},
		{"/admin-api/rules/loyalty", "points.signin.table[0]", func(d map[string]any) {
			obj(d, "points.signin")["table"].([]any)[0] = nil
		}},
		{"/admin-api/rules/members", "login_limit.calls", func(d map[string]any) { delete(obj(d, "login_limit"), "calls") }},
		{"/admin-api/rules/members", "archive_after_days", func(d map[string]any) { d["archive_after_days"] = nil }},
		{"/admin-api/rules/members", "import", func(d map[string]any) { delete(d, "import") }},
	}
	for _, c := range cases {
		before := loyaltyRules(t, h)
		resp, msg := putRulesDoc(t, h, c.path, c.edit)
		if resp.Status != http.StatusBadRequest || !strings.Contains(msg, c.field) {
			t.Errorf("PUT %s without %s = %d %q; want 400 naming %s", c.path, c.field, resp.Status, msg, c.field)
		}
		if got := loyaltyRules(t, h); got.Version != before.Version {
			t.Fatalf("after refused %s: rules version %d, want %d", c.field, got.Version, before.Version)
		}
	}
	resp, msg := putRulesDoc(t, h, "/admin-api/rules/loyalty", func(d map[string]any) {
		delete(obj(d, "levels.table.1.benefits"), "monthly_coupon_template")
		for _, k := range []string{"installed_at", "updated_at", "updated_by"} {
			delete(d, k)
		}
	})
	if resp.Status != http.StatusOK {
		t.Errorf("PUT loyalty rules without optional and server-set fields = %d %q; want 200", resp.Status, msg)
	}
	resp, msg = putRulesDoc(t, h, "/admin-api/rules/members", func(d map[string]any) {
		delete(d, "updated_at")
		delete(d, "updated_by")
	})
	if resp.Status != http.StatusOK {
		t.Errorf("PUT member rules without server-set fields = %d %q; want 200", resp.Status, msg)
	}
}

// TestPutLoyaltyRulesNegativeVersion: a negative version is a bad request,
// not a stale one.
func TestPutLoyaltyRulesNegativeVersion(t *testing.T) {
	h := newRulesHandler(t)
	resp, msg := putRulesDoc(t, h, "/admin-api/rules/loyalty", func(d map[string]any) { d["version"] = -1 })
	if resp.Status != http.StatusBadRequest || !strings.Contains(msg, "version") {
		t.Errorf("PUT with version -1 = %d %q; want 400 naming version", resp.Status, msg)
	}
}

// TestPutMemberRulesVersion: the member rules carry a version, as the
// loyalty rules do: shown by GET (and as ETag), required on PUT (in the body
// or as If-Match), and a stale one is refused naming the current version.
func TestPutMemberRulesVersion(t *testing.T) {
	h := newRulesHandler(t)
	resp, doc := call(t, h, http.MethodGet, "/admin-api/rules/members", "", "", true)
	if resp.Status != http.StatusOK || doc["version"] != 1.0 || resp.Header.Get("ETag") != `"1"` {
		t.Fatalf("GET member rules = %d version %v ETag %q; want 200, version 1, ETag \"1\"", resp.Status, doc["version"], resp.Header.Get("ETag"))
	}
	put := func(edit func(d map[string]any), ifMatch string) (*web.Response, string) {
		d := map[string]any{}
		for k, v := range doc {
			d[k] = v
		}
		edit(d)
		body, _ := json.Marshal(d)
		r := web.NewRequest(http.MethodPut, "/admin-api/rules/members", body)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+token)
		if ifMatch != "" {
			r.Header.Set("If-Match", ifMatch)
		}
		resp, _ := h(context.Background(), r)
		return resp, string(resp.Body)
	}
	expect := func(name string, resp *web.Response, body string, status int, msg string) {
		t.Helper()
		if resp.Status != status || !strings.Contains(body, msg) {
			t.Errorf("%s: %d %s; want %d %q", name, resp.Status, body, status, msg)
		}
	}
	resp, body := put(func(d map[string]any) { delete(d, "version") }, "")
	expect("missing version", resp, body, 400, "version is required")
	resp, body = put(func(d map[string]any) { d["version"] = -1 }, "")
	expect("negative version", resp, body, 400, "version")
	resp, body = put(func(d map[string]any) { d["archive_after_days"] = 90 }, "")
	expect("current version", resp, body, 200, `"version":2`)
	if resp.Header.Get("ETag") != `"2"` {
		t.Errorf("PUT ETag = %q, want \"2\"", resp.Header.Get("ETag"))
	}
	resp, body = put(func(d map[string]any) { d["archive_after_days"] = 60 }, "")
	expect("stale version", resp, body, 409, "the rules are at version 2")
	resp, body = put(func(d map[string]any) { delete(d, "version"); d["archive_after_days"] = 45 }, `"2"`)
	expect("current If-Match", resp, body, 200, `"version":3`)
	_, got := call(t, h, http.MethodGet, "/admin-api/rules/members", "", "", true)
	if got["archive_after_days"] != 45.0 || got["version"] != 3.0 {
		t.Errorf("stored member rules: archive_after_days %v version %v; want 45, 3", got["archive_after_days"], got["version"])
	}
}

// TestPutRulesExplicitZeros puts rules documents that set a bounded value
// to 0: each is refused with a 400 naming the field, never replaced by the
// default, and nothing is stored.
func TestPutRulesExplicitZeros(t *testing.T) {
	h := newRulesHandler(t)
	version := func(path string) any {
		t.Helper()
		resp, doc := call(t, h, http.MethodGet, path, "", "", true)
		if resp.Status != http.StatusOK {
			t.Fatalf("GET %s = %d %s", path, resp.Status, resp.Body)
		}
		return doc["version"]
	}
	cases := []struct {
		path, field string // What the refusal must name.
		edit        func(doc map[string]any)
	}{
		{"/admin-api/rules/members", "archive_after_days", func(d map[string]any) { d["archive_after_days"] = 0 }},
		{"/admin-api/rules/members", "import.batch_rows", func(d map[string]any) {
			d["import"] = map[string]any{"batch_rows": 0, "job_rows": 0}
		}},
		{"/admin-api/rules/members", "login_limit.calls", func(d map[string]any) {
			d["login_limit"] = map[string]any{"calls": 0, "window_seconds": 0}
		}},
		{"/admin-api/rules/loyalty", "coupons", func(d map[string]any) {
			d["coupons"] = map[string]any{"welcome": "", "birthday": "", "birthday_lead_days": 0, "streak": "", "streak_days": 0}
		}},
		{"/admin-api/rules/loyalty", "reminders.ahead_days", func(d map[string]any) { d["reminders"] = map[string]any{"ahead_days": 0} }},
	}
	for _, c := range cases {
		before := version(c.path)
		resp, msg := putRulesDoc(t, h, c.path, c.edit)
		if resp.Status != http.StatusBadRequest || !strings.Contains(msg, c.field) {
			t.Errorf("PUT %s with %s zero = %d %q; want 400 naming %s", c.path, c.field, resp.Status, msg, c.field)
		}
		if got := version(c.path); got != before {
			t.Errorf("after refused %s: %s version %v, want %v (nothing stored)", c.field, c.path, got, before)
		}
	}
}
