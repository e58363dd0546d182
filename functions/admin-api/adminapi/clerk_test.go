package adminapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/functions/admin-api/adminapi"
	"github.com/wemember/wemember/shared/auth"
	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/session"
	"github.com/wemember/wemember/shared/web"
)

// clerkEnv is the admin API over a fresh store with the default coupon
// templates and one imported member.
type clerkEnv struct {
	h        web.Handler
	sessions *session.Issuer
	coupons  *coupons.Service
	memberID string
}

func newClerkEnv(t *testing.T) clerkEnv {
	t.Helper()
	st, err := bolt.Open(t.TempDir() + "/clerk.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	cps := coupons.New(st, coupons.Config{})
	if err := cps.InstallDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	box, _ := pii.New([]byte(strings.Repeat("k", 32)))
	members := member.NewService(st, box, time.Now, member.NewID)
	res, err := members.Import(ctx, []member.ImportRow{{Phone: "13900000001", Name: "李雷"}})
	if err != nil || res.Created != 1 {
		t.Fatalf("import = %+v, %v", res, err)
	}
	sessions, err := session.NewIssuer([]byte(strings.Repeat("s", 32)), time.Hour, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	h := &adminapi.Handler{Members: members, Coupons: cps, Sessions: sessions, Now: time.Now}
	return clerkEnv{h: web.Chain(h.Mux().Serve, web.Errors(), auth.Operator(token)), sessions: sessions,
		coupons: cps, memberID: res.MemberIDs[0]}
}

// issue issues a registration coupon to the member through the API.
func (e clerkEnv) issue(t *testing.T, key string) (*web.Response, map[string]any) {
	t.Helper()
	return call(t, e.h, http.MethodPost, "/admin-api/coupons/issue", "",
		`{"template_id":"registration","member_id":"`+e.memberID+`","key":"`+key+`"}`, true)
}

// storeFields are what the store keeps on a coupon for itself: no answer
// carries them.
var storeFields = []string{"key", "lot_sk", "shard", "issue_key", "redeem_key"}

func assertNoStoreFields(t *testing.T, what string, resp *web.Response, v map[string]any) {
	t.Helper()
	for _, f := range storeFields {
		if _, ok := v[f]; ok {
			t.Errorf("%s answers %q: %s", what, f, resp.Body)
		}
	}
}

// TestCouponAnswersShowNoStoreFields: the coupon an operator issues and the
// one a clerk redeems are answered as a view, without the store's
// bookkeeping.
func TestCouponAnswersShowNoStoreFields(t *testing.T) {
	e := newClerkEnv(t)
	resp, out := e.issue(t, "k-1")
	if resp.Status != http.StatusOK {
		t.Fatalf("issue = %d %s", resp.Status, resp.Body)
	}
	issued, _ := out["coupon"].(map[string]any)
	if issued == nil || issued["id"] == "" || issued["status"] != "available" || issued["member_id"] != e.memberID {
		t.Fatalf("issue answer = %s, want the available coupon of %s under \"coupon\"", resp.Body, e.memberID)
	}
	assertNoStoreFields(t, "issue", resp, issued)
	assertNoStoreFields(t, "issue", resp, out)

	id, _ := issued["id"].(string)
	qr, _ := e.sessions.IssueScoped(adminapi.CouponQRScope, e.memberID+":"+id, time.Minute)
	resp, out = call(t, e.h, http.MethodPost, "/admin-api/clerk/redeem", "",
		`{"qr":"`+qr+`","clerk":"till-1","order_id":"o-1","order_amount":5000}`, true)
	if resp.Status != http.StatusOK || out["status"] != "used" || out["order_id"] != "o-1" || out["id"] != id {
		t.Fatalf("redeem = %d %s, want coupon %s used for o-1", resp.Status, resp.Body, id)
	}
	assertNoStoreFields(t, "redeem", resp, out)
	got, err := e.coupons.Get(context.Background(), id)
	if err != nil || got.Status != coupons.Used || got.RedeemKey == "" || got.IssueKey == "" {
		t.Errorf("stored coupon = %+v, %v; want used with its keys kept", got, err)
	}
}

// TestAdminBodiesRefuseUnknownFields: a misspelt field in an operator's or
// clerk's request is refused naming it, and nothing happens.
func TestAdminBodiesRefuseUnknownFields(t *testing.T) {
	e := newClerkEnv(t)
	issued, err := e.coupons.Issue(context.Background(), coupons.IssueCmd{TemplateID: "registration",
		MemberID: e.memberID, Reason: "operator", Key: "op#k-1"})
	if err != nil {
		t.Fatal(err)
	}
	id := issued.Instance.ID
	qr, _ := e.sessions.IssueScoped(adminapi.CouponQRScope, e.memberID+":"+id, time.Minute)
	cases := []struct{ name, path, ct, body, field string }{
		{"redeem with order for order_id", "/admin-api/clerk/redeem", "",
			`{"qr":"` + qr + `","clerk":"till-1","order":"o-1"}`, `"order"`},
		{"issue with member for member_id", "/admin-api/coupons/issue", "",
			`{"template_id":"registration","member":"` + e.memberID + `","key":"k-2"}`, `"member"`},
		{"import with row for rows", "/admin-api/members/import", "application/json",
			`{"row":[{"phone":"13900000002","name":"韩梅梅"}]}`, `"row"`},
		{"import row with mobile for phone", "/admin-api/members/import", "",
			`{"rows":[{"mobile":"13900000002","name":"韩梅梅"}]}`, `"mobile"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, out := call(t, e.h, http.MethodPost, tc.path, tc.ct, tc.body, true)
			refusal, _ := out["error"].(map[string]any)
			msg, _ := refusal["message"].(string)
			if resp.Status != http.StatusBadRequest || !strings.Contains(msg, "unknown field "+tc.field) {
				t.Errorf("status = %d %s, want 400 naming unknown field %s", resp.Status, resp.Body, tc.field)
			}
		})
	}
	got, err := e.coupons.Get(context.Background(), id)
	if err != nil || got.Status != coupons.Available {
		t.Errorf("coupon after a refused redeem = %+v, %v; want available", got, err)
	}
}

// TestRedeemRefusesAmbiguousKeys: a redeem body that gives order_amount
// twice, or again in capitals, is refused naming the key, and the coupon
// stays available (encoding/json alone would judge the order on the last).
func TestRedeemRefusesAmbiguousKeys(t *testing.T) {
	e := newClerkEnv(t)
	issued, err := e.coupons.Issue(context.Background(), coupons.IssueCmd{TemplateID: "registration",
		MemberID: e.memberID, Reason: "operator", Key: "op#k-1"})
	if err != nil {
		t.Fatal(err)
	}
	id := issued.Instance.ID
	qr, _ := e.sessions.IssueScoped(adminapi.CouponQRScope, e.memberID+":"+id, time.Minute)
	for body, key := range map[string]string{
		`{"qr":"` + qr + `","clerk":"till-1","order_amount":20000,"ORDER_AMOUNT":1}`: `"ORDER_AMOUNT"`,
		`{"qr":"` + qr + `","clerk":"till-1","order_amount":20000,"order_amount":1}`: `"order_amount"`,
		`{"qr":"` + qr + `","Clerk":"till-1","order_amount":20000}`:                  `"Clerk"`,
	} {
		resp, out := call(t, e.h, http.MethodPost, "/admin-api/clerk/redeem", "", body, true)
		refusal, _ := out["error"].(map[string]any)
		msg, _ := refusal["message"].(string)
		if resp.Status != http.StatusBadRequest || !strings.Contains(msg, key) {
			t.Errorf("redeem %s = %d %s; want 400 naming %s", body, resp.Status, resp.Body, key)
		}
	}
	got, err := e.coupons.Get(context.Background(), id)
	if err != nil || got.Status != coupons.Available {
		t.Errorf("coupon after refused redeems = %+v, %v; want available", got, err)
	}
}
