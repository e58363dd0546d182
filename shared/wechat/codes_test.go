package wechat_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/wechat"
	"github.com/wemember/wemember/tests/wxsim"
)

const invitePage = "pages/invite/index"

func TestUnlimitedCode(t *testing.T) {
	e := setup(t)
	e.sim.PublishPages(appID, invitePage)
	mp := e.client()
	ctx := context.Background()

	for _, scene := range []string{"k7Hq2mZP9xRtW4vN", "c=AB12&i=9", strings.Repeat("x", 32)} {
		img, err := mp.UnlimitedCode(ctx, scene, invitePage, 0)
		if err != nil {
			t.Fatalf("UnlimitedCode(%q): %v", scene, err)
		}
		if got := http.DetectContentType(img); got != "image/png" {
			t.Fatalf("UnlimitedCode(%q) gave %s, want image/png", scene, got)
		}
		text, err := wxsim.DecodeQR(img)
		if err != nil {
			t.Fatalf("UnlimitedCode(%q): %v", scene, err)
		}
		got, ok := wxsim.ParseWXACode(text)
		want := wxsim.WXACode{AppID: appID, Page: invitePage, Scene: scene, EnvVersion: "release"}
		if !ok || got != want {
			t.Errorf("code of %q holds %+v (%q), want %+v", scene, got, text, want)
		}
	}
	// The home page needs no release; the width is WeChat's to bound.
	img, err := mp.UnlimitedCode(ctx, "home", "", 2000)
	if err != nil {
		t.Fatal(err)
	}
	if text, err := wxsim.DecodeQR(img); err != nil || !strings.Contains(text, "scene=home") {
		t.Errorf("home code holds %q, %v", text, err)
	}
	if got := e.sim.Calls(wxsim.EventWXACodeIssued); got != 4 {
		t.Errorf("codes drawn = %d, want 4", got)
	}

	for _, tc := range []struct {
		name, scene, page string
		width             int
		kind              errs.Kind
		msg               string
		calls             bool
	}{
		{"scene too long", strings.Repeat("x", 33), invitePage, 0, errs.Invalid, "invalid mini-program code scene", false},
		{"empty scene", "", invitePage, 0, errs.Invalid, "invalid mini-program code scene", false},
		{"percent in scene", "a%20b", invitePage, 0, errs.Invalid, "invalid mini-program code scene", false},
		{"Chinese scene", "邀请", invitePage, 0, errs.Invalid, "invalid mini-program code scene", false},
		{"page with query", "abc", invitePage + "?c=1", 0, errs.Invalid, "mini-program page must be a plain path without a leading / or a query", false},
		{"negative width", "abc", invitePage, -1, errs.Invalid, "negative mini-program code width", false},
		{"unreleased page", "abc", "pages/secret/index", 0, errs.Invalid, "mini-program page not released", true},
	} {
		before := e.sim.Calls("/wxa/getwxacodeunlimit")
		img, err := mp.UnlimitedCode(ctx, tc.scene, tc.page, tc.width)
		if img != nil || errs.KindOf(err) != tc.kind || errs.SafeMessage(err) != tc.msg {
			t.Errorf("%s: %d bytes, %v; want %v %q", tc.name, len(img), err, tc.kind, tc.msg)
		}
		if called := e.sim.Calls("/wxa/getwxacodeunlimit") > before; called != tc.calls {
			t.Errorf("%s: called WeChat = %v, want %v", tc.name, called, tc.calls)
		}
		if tc.calls && wechat.ErrCode(err) != wxsim.ErrInvalidPage {
			t.Errorf("%s: errcode %d, want %d", tc.name, wechat.ErrCode(err), wxsim.ErrInvalidPage)
		}
	}

	// The cached token is revoked behind our back: 40001, refresh, retry.
	e.sim.RevokeTokens(appID)
	if _, err := mp.UnlimitedCode(ctx, "after-revoke", invitePage, 0); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
}

// TestUnlimitedCodeNotAnImage: an answer that is neither an image nor an
// errcode (a gateway page, an empty body) is Transient, never image bytes.
func TestUnlimitedCodeNotAnImage(t *testing.T) {
	e := setup(t)
	real := e.sim.Handler()
	for _, body := range []string{"<html>502 Bad Gateway</html>", "", `{"errcode":0}`} {
		serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/wxa/") {
				w.Header().Set("Content-Type", "image/jpeg")
				_, _ = w.Write([]byte(body))
				return
			}
			real.ServeHTTP(w, r)
		}))
		img, err := e.client().UnlimitedCode(context.Background(), "abc", "", 0)
		if img != nil || errs.KindOf(err) != errs.Transient {
			t.Errorf("answer %q: %d bytes, %v; want Transient", body, len(img), err)
		}
	}
}

func TestSceneQR(t *testing.T) {
	e := setup(t)
	oa := e.officialAccount()
	ctx := context.Background()

	for _, tc := range []struct {
		name   string
		scene  string
		expire time.Duration
	}{
		{"temporary", "inv:48213377", 72 * time.Hour},
		{"permanent", "campaign-spring", 0},
		{"longest", strings.Repeat("s", 64), wechat.MaxQRExpire},
	} {
		qr, err := oa.SceneQR(ctx, tc.scene, tc.expire)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if qr.Expire != tc.expire || qr.Ticket == "" || !strings.HasPrefix(qr.URL, "http://weixin.qq.com/q/") {
			t.Errorf("%s: %+v, want expire %v", tc.name, qr, tc.expire)
		}
		tk, ok := e.sim.Ticket(qr.Ticket)
		if !ok || tk.SceneStr != tc.scene || tk.URL != qr.URL || tk.Expires.IsZero() != (tc.expire == 0) {
			t.Errorf("%s: WeChat holds %+v, %v", tc.name, tk, ok)
		}
		img, err := oa.QRImage(ctx, qr.Ticket)
		if err != nil {
			t.Fatalf("%s: QRImage: %v", tc.name, err)
		}
		if text, err := wxsim.DecodeQR(img); err != nil || text != qr.URL {
			t.Errorf("%s: image holds %q, %v; want %q", tc.name, text, err, qr.URL)
		}
		// Following by the code carries its scene.
		if f, ok := e.sim.ScanQR(qr.Ticket, "scanner-"+tc.name); !ok || f.QRSceneStr != tc.scene {
			t.Errorf("%s: scan gave %+v, %v", tc.name, f, ok)
		}
	}

	for _, tc := range []struct {
		name   string
		scene  string
		expire time.Duration
	}{
		{"empty scene", "", time.Hour},
		{"scene too long", strings.Repeat("s", 65), time.Hour},
		{"negative life", "x", -time.Second},
		{"life over 30 days", "x", wechat.MaxQRExpire + time.Second},
		{"fraction of a second", "x", 1500 * time.Millisecond},
	} {
		before := e.sim.Calls("/cgi-bin/qrcode/create")
		if qr, err := oa.SceneQR(ctx, tc.scene, tc.expire); errs.KindOf(err) != errs.Invalid || qr != (wechat.SceneQR{}) {
			t.Errorf("%s: %+v, %v; want Invalid", tc.name, qr, err)
		}
		if e.sim.Calls("/cgi-bin/qrcode/create") != before {
			t.Errorf("%s: called WeChat", tc.name)
		}
	}

	// A temporary code's image is gone once it expires: 404, NotExist.
	qr, err := oa.SceneQR(ctx, "short", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	e.sim.Advance(time.Minute)
	if img, err := oa.QRImage(ctx, qr.Ticket); img != nil || errs.KindOf(err) != errs.NotExist {
		t.Errorf("expired: %d bytes, %v; want NotExist", len(img), err)
	}
	for _, ticket := range []string{"gQH47joAAAAAAAAAASxodHRwOi8v", "a+b/c="} {
		if img, err := oa.QRImage(ctx, ticket); img != nil || errs.KindOf(err) != errs.NotExist {
			t.Errorf("unknown ticket %q: %d bytes, %v; want NotExist", ticket, len(img), err)
		}
	}
	if _, err := oa.QRImage(ctx, ""); errs.KindOf(err) != errs.Invalid {
		t.Errorf("empty ticket: %v, want Invalid", err)
	}

	// The cached token is revoked behind our back: 40001, refresh, retry.
	e.sim.RevokeTokens(appID)
	if _, err := oa.SceneQR(ctx, "after-revoke", time.Hour); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
}
