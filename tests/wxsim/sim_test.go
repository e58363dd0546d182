package wxsim_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/tests/wxsim"
)

const (
	appA, secretA = "wxaaaaaaaaaaaaaaaa", "secret-a"
	appB, secretB = "wxbbbbbbbbbbbbbbbb", "secret-b"
)

// start returns a Sim with two apps behind a loopback server, its clock
// fixed at a known instant (moved with Advance).
func start(t *testing.T, opts ...wxsim.Option) (*wxsim.Sim, string) {
	t.Helper()
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	opts = append([]wxsim.Option{wxsim.WithClock(func() time.Time { return t0 })}, opts...)
	sim := wxsim.New(opts...)
	sim.AddApp(appA, secretA)
	sim.AddApp(appB, secretB)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return sim, srv.URL
}

// answer is the union of the JSON bodies the tests read.
type answer struct {
	ErrCode     int    `json:"errcode"`
	ErrMsg      string `json:"errmsg"`
	OpenID      string `json:"openid"`
	UnionID     string `json:"unionid"`
	SessionKey  string `json:"session_key"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	Code        string `json:"code"`
	PhoneInfo   struct {
		PhoneNumber     string `json:"phoneNumber"`
		PurePhoneNumber string `json:"purePhoneNumber"`
		CountryCode     string `json:"countryCode"`
		Watermark       struct {
			Timestamp int64  `json:"timestamp"`
			AppID     string `json:"appid"`
		} `json:"watermark"`
	} `json:"phone_info"`
}

func do(t *testing.T, method, u string, body []byte, ctype string) answer {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: status %d", method, u, res.StatusCode)
	}
	var a answer
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a
}

func get(t *testing.T, u string) answer { t.Helper(); return do(t, http.MethodGet, u, nil, "") }

func postJSON(t *testing.T, u string, v any) answer {
	t.Helper()
	b, _ := json.Marshal(v)
	return do(t, http.MethodPost, u, b, "application/json")
}

func postForm(t *testing.T, u string, v url.Values) answer {
	t.Helper()
	return do(t, http.MethodPost, u, []byte(v.Encode()), "application/x-www-form-urlencoded")
}

func code2session(t *testing.T, base, appid, secret, code string) answer {
	t.Helper()
	q := url.Values{"appid": {appid}, "secret": {secret}, "js_code": {code}, "grant_type": {"authorization_code"}}
	return get(t, base+"/sns/jscode2session?"+q.Encode())
}

func TestCode2Session(t *testing.T) {
	sim, base := start(t)
	ok := sim.LoginCode(appA, "o-alice", "u-alice")
	a := code2session(t, base, appA, secretA, ok)
	if a.ErrCode != 0 || a.OpenID != "o-alice" || a.UnionID != "u-alice" || len(a.SessionKey) != 24 {
		t.Fatalf("first exchange = %+v, want openid o-alice, unionid u-alice, a 24-char session_key", a)
	}
	noUnion := sim.LoginCode(appA, "o-bob", "")
	if a := code2session(t, base, appA, secretA, noUnion); a.ErrCode != 0 || a.UnionID != "" {
		t.Fatalf("exchange without unionid = %+v", a)
	}
	expiring := sim.LoginCode(appA, "o-carol", "")
	foreign := sim.LoginCode(appB, "o-dave", "")
	sim.Advance(4 * time.Minute)
	fresh := sim.LoginCode(appA, "o-erin", "")
	sim.Advance(2 * time.Minute) // expiring is now 6 minutes old, fresh 2.

	tests := []struct {
		name          string
		appid, secret string
		code          string
		wantErr       int
		wantOpenID    string
	}{
		{"used code", appA, secretA, ok, wxsim.ErrCodeBeenUsed, ""},
		{"expired code", appA, secretA, expiring, wxsim.ErrInvalidCode, ""},
		{"garbage", appA, secretA, "not-a-code", wxsim.ErrInvalidCode, ""},
		{"other app's code", appA, secretA, foreign, wxsim.ErrInvalidCode, ""},
		{"unknown appid", "wxnope", secretA, fresh, wxsim.ErrInvalidAppID, ""},
		{"wrong secret", appA, "wrong", fresh, wxsim.ErrInvalidSecret, ""},
		{"missing code", appA, secretA, "", wxsim.ErrMissingCode, ""},
		{"fresh code after refusals", appA, secretA, fresh, 0, "o-erin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := code2session(t, base, tt.appid, tt.secret, tt.code)
			if got.ErrCode != tt.wantErr || got.OpenID != tt.wantOpenID {
				t.Errorf("got errcode %d openid %q, want %d %q (%+v)", got.ErrCode, got.OpenID, tt.wantErr, tt.wantOpenID, got)
			}
			if tt.wantErr != 0 && got.SessionKey != "" {
				t.Errorf("refusal carries a session_key")
			}
		})
	}
	if got := sim.Calls("/sns/jscode2session"); got != 10 {
		t.Errorf("Calls(jscode2session) = %d, want 10", got)
	}
	if got := sim.Calls(wxsim.EventSessionIssued); got != 3 {
		t.Errorf("successful exchanges = %d, want 3", got)
	}
}

func TestCode2SessionRateLimit(t *testing.T) {
	sim, base := start(t, wxsim.WithLimits(wxsim.Limits{Code2SessionPerUser: 3}))
	for i := 1; i <= 4; i++ {
		want := 0
		if i == 4 {
			want = wxsim.ErrMinuteQuota
		}
		if got := code2session(t, base, appA, secretA, sim.LoginCode(appA, "o-alice", "")); got.ErrCode != want {
			t.Fatalf("call %d: errcode %d, want %d", i, got.ErrCode, want)
		}
	}
	// Another user is not limited by alice's calls, and alice's refused code
	// was not consumed.
	if got := code2session(t, base, appA, secretA, sim.LoginCode(appA, "o-bob", "")); got.ErrCode != 0 {
		t.Fatalf("other user: errcode %d", got.ErrCode)
	}
	held := sim.LoginCode(appA, "o-alice", "")
	if got := code2session(t, base, appA, secretA, held); got.ErrCode != wxsim.ErrMinuteQuota {
		t.Fatalf("5th alice call: errcode %d, want 45011", got.ErrCode)
	}
	sim.Advance(time.Minute)
	if got := code2session(t, base, appA, secretA, held); got.ErrCode != 0 || got.OpenID != "o-alice" {
		t.Fatalf("next minute: %+v, want success with the code refused before", got)
	}
}

func TestCode2SessionAppRateLimit(t *testing.T) {
	sim, base := start(t, wxsim.WithLimits(wxsim.Limits{Code2SessionPerApp: 2}))
	got := []int{}
	for _, u := range []string{"a", "b", "c"} {
		got = append(got, code2session(t, base, appA, secretA, sim.LoginCode(appA, u, "")).ErrCode)
	}
	if want := []int{0, 0, wxsim.ErrMinuteQuota}; got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("errcodes %v, want %v", got, want)
	}
	if a := code2session(t, base, appB, secretB, sim.LoginCode(appB, "a", "")); a.ErrCode != 0 {
		t.Fatalf("other app limited: %+v", a)
	}
}

func phone(t *testing.T, base, tok, code string) answer {
	t.Helper()
	return postJSON(t, base+"/wxa/business/getuserphonenumber?access_token="+url.QueryEscape(tok), map[string]string{"code": code})
}

func TestPhoneNumber(t *testing.T) {
	sim, base := start(t)
	tok := stable(t, base, false).AccessToken
	code := sim.PhoneCode(appA, "o-alice", "13800138000")
	got := phone(t, base, tok, code)
	if got.ErrCode != 0 || got.ErrMsg != "ok" || got.PhoneInfo.PhoneNumber != "13800138000" ||
		got.PhoneInfo.PurePhoneNumber != "13800138000" || got.PhoneInfo.CountryCode != "86" ||
		got.PhoneInfo.Watermark.AppID != appA || got.PhoneInfo.Watermark.Timestamp != sim.Now().Unix() {
		t.Fatalf("phone = %+v", got)
	}
	foreignNum := phone(t, base, tok, sim.PhoneCode(appA, "o-bob", "+1 2025550100"))
	if foreignNum.PhoneInfo.PhoneNumber != "+1 2025550100" || foreignNum.PhoneInfo.PurePhoneNumber != "2025550100" || foreignNum.PhoneInfo.CountryCode != "1" {
		t.Fatalf("foreign phone = %+v", foreignNum.PhoneInfo)
	}
	otherApp := sim.PhoneCode(appB, "o-x", "13800138001")
	expiring := sim.PhoneCode(appA, "o-y", "13800138002")
	unused := sim.PhoneCode(appA, "o-z", "13800138003")
	sim.Advance(6 * time.Minute)
	for _, tc := range []struct {
		name, tok, code string
		want            int
	}{
		{"used", tok, code, wxsim.ErrInvalidCode},
		{"other app's code", tok, otherApp, wxsim.ErrInvalidCode},
		{"expired", tok, expiring, wxsim.ErrInvalidCode},
		{"garbage", tok, "nope", wxsim.ErrInvalidCode},
		{"missing token", "", unused, wxsim.ErrMissingToken},
		{"unknown token", "nope", unused, wxsim.ErrInvalidCredential},
	} {
		if got := phone(t, base, tc.tok, tc.code); got.ErrCode != tc.want || got.PhoneInfo.PhoneNumber != "" {
			t.Errorf("%s: %+v, want errcode %d", tc.name, got, tc.want)
		}
	}
	fresh := sim.PhoneCode(appA, "o-z", "13800138003")
	sim.RevokeTokens(appA)
	if got := phone(t, base, tok, fresh); got.ErrCode != wxsim.ErrInvalidCredential {
		t.Errorf("revoked token: errcode %d, want 40001", got.ErrCode)
	}
	tok2 := stable(t, base, false).AccessToken
	if got := phone(t, base, tok2, fresh); got.PhoneInfo.PhoneNumber != "13800138003" {
		t.Errorf("code refused only for its token was consumed: %+v", got)
	}
}

func TestControls(t *testing.T) {
	sim, base := start(t)
	c := postForm(t, base+"/sim/mp/code", url.Values{"appid": {appA}, "user": {"alice"}})
	if c.Code == "" || c.OpenID != wxsim.OpenID(appA, "alice") || c.UnionID != wxsim.UnionID("alice") {
		t.Fatalf("code for alice = %+v", c)
	}
	s := code2session(t, base, appA, secretA, c.Code)
	if s.OpenID != wxsim.OpenID(appA, "alice") || s.UnionID != wxsim.UnionID("alice") {
		t.Fatalf("session = %+v", s)
	}
	byOpenID := postForm(t, base+"/sim/mp/code", url.Values{"appid": {appA}, "openid": {"o-raw"}})
	if got := code2session(t, base, appA, secretA, byOpenID.Code); got.OpenID != "o-raw" || got.UnionID != "" {
		t.Fatalf("session by openid = %+v", got)
	}
	pc := postForm(t, base+"/sim/mp/phone-code", url.Values{"appid": {appA}, "user": {"alice"}})
	tok := stable(t, base, false).AccessToken
	if got := phone(t, base, tok, pc.Code); got.PhoneInfo.PhoneNumber != wxsim.PhoneOf("alice") {
		t.Fatalf("alice's phone = %+v, want %s", got.PhoneInfo, wxsim.PhoneOf("alice"))
	}
	sim.AddUser(wxsim.User{Name: "bob", Phone: "13900000000"})
	pc = postForm(t, base+"/sim/mp/phone-code", url.Values{"appid": {appA}, "user": {"bob"}})
	if got := phone(t, base, tok, pc.Code); got.PhoneInfo.PhoneNumber != "13900000000" {
		t.Fatalf("bob's phone = %+v", got.PhoneInfo)
	}

	res, err := http.Post(base+"/sim/mp/code", "application/x-www-form-urlencoded", strings.NewReader("appid=wxnope&user=alice"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("code for unknown app: status %d, want 404", res.StatusCode)
	}

	res, err = http.Get(base + "/sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var stats wxsim.StatsBody
	if err := json.NewDecoder(res.Body).Decode(&stats); err != nil {
		t.Fatal(err)
	}
	if stats.Calls["/sns/jscode2session"] != 2 || stats.Calls["/cgi-bin/stable_token"] != 1 || stats.Calls["/sim/mp/code"] != 3 {
		t.Errorf("stats = %v", stats.Calls)
	}
}

func TestDerivedIdentities(t *testing.T) {
	a, b := wxsim.OpenID(appA, "alice"), wxsim.OpenID(appB, "alice")
	if len(a) != 28 || a[0] != 'o' || a == b || a != wxsim.OpenID(appA, "alice") {
		t.Errorf("OpenID: %q (app A), %q (app B): want 28 chars, o-prefixed, per app, stable", a, b)
	}
	if wxsim.UnionID("alice") == wxsim.UnionID("bob") || len(wxsim.UnionID("alice")) != 28 {
		t.Errorf("UnionID not distinct per user")
	}
	if p := wxsim.PhoneOf("alice"); len(p) != 11 || !strings.HasPrefix(p, "139") || p != wxsim.PhoneOf("alice") {
		t.Errorf("PhoneOf(alice) = %q", p)
	}
}
