package wxsim_test

import (
	"bytes"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/tests/wxsim"
)

// raw posts v as JSON and returns the status, Content-Type and body.
func raw(t *testing.T, method, u string, v any) (int, string, []byte) {
	t.Helper()
	var body io.Reader
	if v != nil {
		b, _ := json.Marshal(v)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header.Get("Content-Type"), b
}

func errcode(t *testing.T, b []byte) int {
	t.Helper()
	var a answer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("not a JSON answer (%v): %.40q", err, b)
	}
	return a.ErrCode
}

func TestWXACodeUnlimit(t *testing.T) {
	sim, base := start(t)
	sim.PublishPages(appA, "pages/invite/index")
	tok := stable(t, base, false).AccessToken
	u := base + "/wxa/getwxacodeunlimit?access_token=" + url.QueryEscape(tok)

	status, ctype, b := raw(t, http.MethodPost, u, map[string]any{"scene": "k7Hq2mZP", "page": "pages/invite/index", "width": 300})
	if status != http.StatusOK || ctype != "image/jpeg" {
		t.Fatalf("answer %d %s", status, ctype)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if w := img.Bounds().Dx(); w != 300 {
		t.Errorf("width %d, want 300", w)
	}
	text, err := wxsim.DecodeQR(b)
	if err != nil {
		t.Fatal(err)
	}
	want := wxsim.WXACode{AppID: appA, Page: "pages/invite/index", Scene: "k7Hq2mZP", EnvVersion: "release"}
	if got, ok := wxsim.ParseWXACode(text); !ok || got != want {
		t.Errorf("code holds %+v (%q), want %+v", got, text, want)
	}

	no := false
	for _, tc := range []struct {
		name string
		tok  string
		body map[string]any
		want int
	}{
		{"no token", "", map[string]any{"scene": "a"}, wxsim.ErrMissingToken},
		{"bad token", "nope", map[string]any{"scene": "a"}, wxsim.ErrInvalidCredential},
		{"empty scene", tok, map[string]any{"scene": ""}, wxsim.ErrInvalidScene},
		{"scene of 33", tok, map[string]any{"scene": strings.Repeat("a", 33)}, wxsim.ErrInvalidScene},
		{"percent in scene", tok, map[string]any{"scene": "a%20"}, wxsim.ErrInvalidScene},
		{"page with slash", tok, map[string]any{"scene": "a", "page": "/pages/invite/index"}, wxsim.ErrInvalidPage},
		{"page with query", tok, map[string]any{"scene": "a", "page": "pages/invite/index?x=1"}, wxsim.ErrInvalidPage},
		{"unreleased page", tok, map[string]any{"scene": "a", "page": "pages/other/index"}, wxsim.ErrInvalidPage},
		{"unreleased page, check_path false", tok, map[string]any{"scene": "a", "page": "pages/other/index", "check_path": &no}, 0},
		{"unknown env_version", tok, map[string]any{"scene": "a", "env_version": "beta"}, wxsim.ErrInvalidArgs},
	} {
		_, ctype, b := raw(t, http.MethodPost, base+"/wxa/getwxacodeunlimit?access_token="+url.QueryEscape(tc.tok), tc.body)
		if tc.want == 0 {
			if ctype != "image/jpeg" {
				t.Errorf("%s: %s %.40q, want an image", tc.name, ctype, b)
			}
			continue
		}
		if got := errcode(t, b); got != tc.want {
			t.Errorf("%s: errcode %d, want %d", tc.name, got, tc.want)
		}
	}
	if got := sim.Calls(wxsim.EventWXACodeIssued); got != 2 {
		t.Errorf("codes drawn = %d, want 2", got)
	}

	// The control publishes pages, as a release would.
	postForm(t, base+"/sim/mp/pages", url.Values{"appid": {appA}, "page": {"pages/other/index", "pages/shop/index"}})
	_, ctype, _ = raw(t, http.MethodPost, u, map[string]any{"scene": "a", "page": "pages/shop/index"})
	if ctype != "image/jpeg" {
		t.Errorf("page published through /sim/mp/pages refused: %s", ctype)
	}
}

func TestQRCodeCreate(t *testing.T) {
	sim, base := start(t)
	tok := stable(t, base, false).AccessToken
	create := func(body map[string]any) (qr struct {
		ErrCode       int    `json:"errcode"`
		Ticket        string `json:"ticket"`
		ExpireSeconds *int64 `json:"expire_seconds"`
		URL           string `json:"url"`
	}) {
		t.Helper()
		_, _, b := raw(t, http.MethodPost, base+"/cgi-bin/qrcode/create?access_token="+url.QueryEscape(tok), body)
		if err := json.Unmarshal(b, &qr); err != nil {
			t.Fatal(err)
		}
		return qr
	}
	scene := func(action string, expire any, info map[string]any) map[string]any {
		b := map[string]any{"action_name": action, "action_info": map[string]any{"scene": info}}
		if expire != nil {
			b["expire_seconds"] = expire
		}
		return b
	}
	for _, tc := range []struct {
		name   string
		body   map[string]any
		expire int64 // -1: none in the answer (permanent)
	}{
		{"temporary string", scene("QR_STR_SCENE", 3600, map[string]any{"scene_str": "inv:1"}), 3600},
		{"temporary without life", scene("QR_STR_SCENE", nil, map[string]any{"scene_str": "inv:2"}), 60},
		{"temporary over 30 days", scene("QR_SCENE", 9999999, map[string]any{"scene_id": 7}), 2592000},
		{"permanent string", scene("QR_LIMIT_STR_SCENE", nil, map[string]any{"scene_str": "camp"}), -1},
		{"permanent id", scene("QR_LIMIT_SCENE", nil, map[string]any{"scene_id": 100000}), -1},
	} {
		qr := create(tc.body)
		if qr.ErrCode != 0 || qr.Ticket == "" || !strings.HasPrefix(qr.URL, "http://weixin.qq.com/q/") {
			t.Fatalf("%s: %+v", tc.name, qr)
		}
		got := int64(-1)
		if qr.ExpireSeconds != nil {
			got = *qr.ExpireSeconds
		}
		if got != tc.expire {
			t.Errorf("%s: expire_seconds %v, want %d", tc.name, qr.ExpireSeconds, tc.expire)
		}
		status, _, img := raw(t, http.MethodGet, base+"/cgi-bin/showqrcode?ticket="+url.QueryEscape(qr.Ticket), nil)
		if text, err := wxsim.DecodeQR(img); status != http.StatusOK || err != nil || text != qr.URL {
			t.Errorf("%s: showqrcode %d holds %q, %v; want %q", tc.name, status, text, err, qr.URL)
		}
	}
	for _, tc := range []struct {
		name string
		body map[string]any
		want int
	}{
		{"unknown action", scene("QR_FOREVER", nil, map[string]any{"scene_str": "x"}), wxsim.ErrInvalidActionName},
		{"empty scene_str", scene("QR_STR_SCENE", 60, map[string]any{"scene_str": ""}), wxsim.ErrInvalidActionInfo},
		{"scene_str of 65", scene("QR_LIMIT_STR_SCENE", nil, map[string]any{"scene_str": strings.Repeat("s", 65)}), wxsim.ErrInvalidActionInfo},
		{"scene_id 0", scene("QR_SCENE", 60, map[string]any{"scene_id": 0}), wxsim.ErrInvalidActionInfo},
		{"permanent scene_id over 100000", scene("QR_LIMIT_SCENE", nil, map[string]any{"scene_id": 100001}), wxsim.ErrInvalidActionInfo},
	} {
		if qr := create(tc.body); qr.ErrCode != tc.want || qr.Ticket != "" {
			t.Errorf("%s: %+v, want errcode %d", tc.name, qr, tc.want)
		}
	}

	// An expired code's image is gone (404), as is an unknown ticket's;
	// scanning it follows no one.
	qr := create(scene("QR_STR_SCENE", 60, map[string]any{"scene_str": "short"}))
	if f, ok := sim.ScanQR(qr.Ticket, "alice"); !ok || f.QRSceneStr != "short" || f.Scene != wxsim.SceneQRCode {
		t.Errorf("scan: %+v, %v", f, ok)
	}
	sim.Advance(time.Minute)
	for _, ticket := range []string{qr.Ticket, "unknown"} {
		if status, _, _ := raw(t, http.MethodGet, base+"/cgi-bin/showqrcode?ticket="+url.QueryEscape(ticket), nil); status != http.StatusNotFound {
			t.Errorf("showqrcode %q: %d, want 404", ticket, status)
		}
	}
	if _, ok := sim.ScanQR(qr.Ticket, "bob"); ok {
		t.Error("scanned an expired code")
	}
	perm := create(scene("QR_LIMIT_STR_SCENE", nil, map[string]any{"scene_str": "camp"}))
	if f := postForm(t, base+"/sim/oa/scan", url.Values{"ticket": {perm.Ticket}, "user": {"carol"}}); f.OpenID != wxsim.OpenID(appA, "carol") {
		t.Errorf("/sim/oa/scan followed %q", f.OpenID)
	}
}
