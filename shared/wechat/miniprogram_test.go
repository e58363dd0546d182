package wechat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/web"
	"github.com/wemember/wemember/shared/wechat"
	"github.com/wemember/wemember/tests/wxsim"
)

func TestCode2Session(t *testing.T) {
	e := setup(t)
	mp := e.client()
	ctx := context.Background()
	openid, unionid := wxsim.OpenID(appID, "alice"), wxsim.UnionID("alice")

	used := e.sim.LoginCodeFor(appID, "alice")
	s, err := mp.Code2Session(ctx, used)
	if err != nil {
		t.Fatal(err)
	}
	if s.OpenID != openid || s.UnionID != unionid || len(s.SessionKey.Reveal()) != 24 {
		t.Fatalf("session = %+v, want alice's ids and a 24-char key", s)
	}
	expired := e.sim.LoginCodeFor(appID, "bob")
	e.clock.advance(6 * time.Minute)

	tests := []struct {
		name     string
		code     string
		wantKind errs.Kind
		wantMsg  string
	}{
		{"used code", used, errs.Expired, "login code already used"},
		{"expired code", expired, errs.Invalid, "invalid login code"},
		{"garbage", "garbage", errs.Invalid, "invalid login code"},
		{"empty", "", errs.Invalid, "missing login code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := mp.Code2Session(ctx, tt.code)
			if got := errs.KindOf(err); got != tt.wantKind {
				t.Fatalf("kind = %v (%v), want %v", got, err, tt.wantKind)
			}
			if got := errs.SafeMessage(err); got != tt.wantMsg {
				t.Errorf("safe message = %q, want %q", got, tt.wantMsg)
			}
			if s.OpenID != "" || !s.SessionKey.IsZero() {
				t.Errorf("refusal returned a session %+v", s)
			}
			if tt.code != "" && strings.Contains(err.Error(), tt.code) || strings.Contains(err.Error(), secret) {
				t.Errorf("error %q leaks the code or the secret", err)
			}
		})
	}
}

func TestCode2SessionRateLimitAndConfig(t *testing.T) {
	e := setup(t, wxsim.WithLimits(wxsim.Limits{Code2SessionPerUser: 1}))
	ctx := context.Background()
	mp := e.client()
	if _, err := mp.Code2Session(ctx, e.sim.LoginCodeFor(appID, "alice")); err != nil {
		t.Fatal(err)
	}
	_, err := mp.Code2Session(ctx, e.sim.LoginCodeFor(appID, "alice"))
	if got := errs.KindOf(err); got != errs.RateLimited {
		t.Errorf("second login in a minute: kind %v (%v), want rate_limited", got, err)
	}
	if got := wechat.ErrCode(err); got != 45011 {
		t.Errorf("ErrCode = %d, want 45011", got)
	}
	wrong := wechat.NewMiniProgram(appID, "wrong-secret", e.tokens())
	_, err = wrong.Code2Session(ctx, e.sim.LoginCodeFor(appID, "bob"))
	if got := errs.KindOf(err); got != errs.Internal || wechat.ErrCode(err) != 40125 {
		t.Errorf("wrong secret: kind %v errcode %d (%v), want internal 40125", got, wechat.ErrCode(err), err)
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("error %q leaks the secret", err)
	}
}

func TestTransportFailures(t *testing.T) {
	e := setup(t)
	mp := e.client()
	code := e.sim.LoginCodeFor(appID, "alice")
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"connection dropped", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) }},
		{"bad gateway", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			serve(tc.handler)
			_, err := mp.Code2Session(context.Background(), code)
			if got := errs.KindOf(err); got != errs.Transient {
				t.Fatalf("kind = %v (%v), want transient", got, err)
			}
			if msg := err.Error(); strings.Contains(msg, secret) || strings.Contains(msg, code) {
				t.Errorf("error %q leaks the secret or the code", msg)
			}
		})
	}
	serve(e.sim.Handler())
	if _, err := mp.Code2Session(context.Background(), code); err != nil {
		t.Errorf("code after failed attempts: %v", err)
	}
}

func TestSessionKeyRedacted(t *testing.T) {
	s := wechat.Session{OpenID: "o1", UnionID: "u1", SessionKey: wechat.NewSessionKey("c2VjcmV0LWtleS0xMjM0NQ==")}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("login", "session", s, "key", s.SessionKey)
	j, _ := json.Marshal(s)
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", s), "%+v": fmt.Sprintf("%+v", s), "%#v": fmt.Sprintf("%#v", s),
		"%s key": fmt.Sprintf("%s", s.SessionKey), "slog": logged.String(), "json": string(j),
	}
	for how, out := range outputs {
		if strings.Contains(out, "c2VjcmV0") || !strings.Contains(out, "[redacted]") {
			t.Errorf("%s = %q, want the key redacted", how, out)
		}
	}
	if !strings.Contains(logged.String(), `"openid":"o1"`) {
		t.Errorf("slog = %s, want the openid", logged.String())
	}
	if got := s.SessionKey.Reveal(); got != "c2VjcmV0LWtleS0xMjM0NQ==" {
		t.Errorf("Reveal = %q", got)
	}
}

func TestPhoneNumber(t *testing.T) {
	e := setup(t)
	mp := e.client()
	ctx := context.Background()
	code := e.sim.PhoneCode(appID, "o-alice", "13800138000")
	got, err := mp.PhoneNumber(ctx, code)
	if err != nil || got != (pii.Phone{Country: "86", Number: "13800138000"}) {
		t.Fatalf("PhoneNumber = %+v, %v; want +86 13800138000", got, err)
	}
	_, err = mp.PhoneNumber(ctx, code)
	if errs.KindOf(err) != errs.Invalid || errs.SafeMessage(err) != "invalid phone code" {
		t.Errorf("used code: %v, want invalid \"invalid phone code\"", err)
	}
	if got := e.sim.Calls("/cgi-bin/stable_token"); got != 1 {
		t.Errorf("stable_token calls = %d, want 1 (token cached)", got)
	}
	// Foreign numbers keep their country, as WeChat's countryCode and
	// purePhoneNumber give it: +1 3855550124 is not the mainland 13855550124.
	for sent, want := range map[string]pii.Phone{
		"+44 7700900123": {Country: "44", Number: "7700900123"},
		"+1 3855550124":  {Country: "1", Number: "3855550124"},
		"+852 91234567":  {Country: "852", Number: "91234567"},
	} {
		foreign, err := mp.PhoneNumber(ctx, e.sim.PhoneCode(appID, "o-bob", sent))
		if err != nil || foreign != want || foreign.Mainland() {
			t.Errorf("foreign number %s = %+v, %v; want %+v", sent, foreign, err, want)
		}
	}

	// The cached token is revoked behind our back: the call gets 40001, the
	// source refreshes (normal mode yields a new token, no force), retry works.
	e.sim.RevokeTokens(appID)
	code = e.sim.PhoneCode(appID, "o-carol", "13900139000")
	got, err = mp.PhoneNumber(ctx, code)
	if err != nil || got.E164() != "+8613900139000" {
		t.Fatalf("after revocation: %+v, %v", got, err)
	}
	if calls, forced := e.sim.Calls("/cgi-bin/stable_token"), e.sim.Calls(wxsim.EventStableForced); calls != 2 || forced != 0 {
		t.Errorf("stable_token calls %d forced %d, want 2 and 0", calls, forced)
	}
	if calls := e.sim.Calls("/wxa/business/getuserphonenumber"); calls != 7 {
		t.Errorf("getuserphonenumber calls = %d, want 7 (one retried)", calls)
	}
	_, err = mp.PhoneNumber(ctx, "")
	if errs.KindOf(err) != errs.Invalid {
		t.Errorf("empty code: %v", err)
	}
}

func TestSessionLogHidesUnionID(t *testing.T) {
	const unionid = "oUnion-secret-0123456789abcd"
	for name, s := range map[string]wechat.Session{
		"with unionid":    {OpenID: "o1", UnionID: unionid, SessionKey: wechat.NewSessionKey("k")},
		"without unionid": {OpenID: "o1", SessionKey: wechat.NewSessionKey("k")},
	} {
		t.Run(name, func(t *testing.T) {
			var logged bytes.Buffer
			slog.New(slog.NewJSONHandler(&logged, nil)).Info("login", "session", s)
			var line struct {
				Session map[string]any `json:"session"`
			}
			if err := json.Unmarshal(logged.Bytes(), &line); err != nil {
				t.Fatalf("log line %q: %v", logged.String(), err)
			}
			if strings.Contains(logged.String(), unionid) {
				t.Errorf("log line %s carries the unionid", logged.String())
			}
			if _, ok := line.Session["unionid"]; ok {
				t.Errorf("log line %s has a unionid field", logged.String())
			}
			if got, want := line.Session["has_unionid"], s.UnionID != ""; got != want {
				t.Errorf("has_unionid = %v, want %v", got, want)
			}
			if got := line.Session["openid"]; got != "o1" {
				t.Errorf("openid = %v, want o1", got)
			}
		})
	}
}

// TestUnreadableAnswer checks that a 200 whose body is not WeChat's JSON (a
// gateway's HTML page, an empty or cut-off body) is an upstream failure the
// caller may retry, answered 503, not a bug of ours.
func TestUnreadableAnswer(t *testing.T) {
	e := setup(t)
	mp := e.client()
	ctx := context.Background()
	if _, err := e.tokens().GetAccessToken(); err != nil { // Cache a token first.
		t.Fatal(err)
	}
	login := e.sim.LoginCodeFor(appID, "alice")
	phoneCode := e.sim.PhoneCode(appID, "o-alice", "13800138000")
	t.Cleanup(func() { serve(e.sim.Handler()) })
	for _, body := range []string{
		"<html><body>502 Bad Gateway</body></html>",
		"",
		`{"openid":"o-cut`,
		`["not","an","object"]`,
	} {
		serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, body)
		}))
		for api, call := range map[string]func() error{
			"jscode2session":     func() error { _, err := mp.Code2Session(ctx, login); return err },
			"getuserphonenumber": func() error { _, err := mp.PhoneNumber(ctx, phoneCode); return err },
		} {
			err := call()
			if got := errs.KindOf(err); got != errs.Transient {
				t.Errorf("%s answering %q: kind %v (%v), want transient", api, body, got, err)
			}
			if got := web.Status(err); got != http.StatusServiceUnavailable {
				t.Errorf("%s answering %q: status %d, want 503", api, body, got)
			}
			if err != nil && (strings.Contains(err.Error(), login) || strings.Contains(err.Error(), phoneCode) || strings.Contains(err.Error(), secret)) {
				t.Errorf("error %q leaks a code or the secret", err)
			}
		}
	}
	serve(e.sim.Handler())
	if _, err := mp.Code2Session(ctx, login); err != nil {
		t.Errorf("login code after unreadable answers: %v", err)
	}
}

// TestPhoneNumberAnswerWithoutCountry checks that an answer whose countryCode
// or purePhoneNumber is missing or malformed is refused rather than guessed
// to be a mainland number.
func TestPhoneNumberAnswerWithoutCountry(t *testing.T) {
	e := setup(t)
	mp := e.client()
	ctx := context.Background()
	if _, err := e.tokens().GetAccessToken(); err != nil { // Cache a token first.
		t.Fatal(err)
	}
	t.Cleanup(func() { serve(e.sim.Handler()) })
	for _, info := range []string{
		`{"phoneNumber":"13855550124","purePhoneNumber":"13855550124"}`,
		`{"phoneNumber":"+1 3855550124","purePhoneNumber":"","countryCode":"1"}`,
		`{"phoneNumber":"12025550199","purePhoneNumber":"12025550199","countryCode":"86"}`,
	} {
		serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"errcode":0,"errmsg":"ok","phone_info":%s}`, info)
		}))
		got, err := mp.PhoneNumber(ctx, "a-code")
		if err == nil || !got.IsZero() {
			t.Errorf("phone_info %s: %+v, %v; want an error", info, got, err)
		}
		// WeChat, not this service, failed: a bad gateway, not a 500.
		if errs.KindOf(err).String() != "upstream" || web.Status(err) != http.StatusBadGateway {
			t.Errorf("phone_info %s: kind %s status %d; want upstream, 502", info, errs.KindOf(err), web.Status(err))
		}
		if err != nil && strings.Contains(err.Error(), "5550") {
			t.Errorf("error %q shows the number", err)
		}
	}
}
