package wechat_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/tests/wxsim"
)

const tplExpiry = "tpl-points-expiry"

func TestSendSubscribe(t *testing.T) {
	e := setup(t)
	mp := e.client()
	ctx := context.Background()
	alice := e.sim.AcceptSubscribeFor(appID, "alice", tplExpiry, 1)
	bob := wxsim.OpenID(appID, "bob")
	e.sim.LoginCodeFor(appID, "bob") // Known, never accepted.
	data := map[string]string{"thing1": "120 积分将于 12 月 31 日过期", "date2": "2026-12-31"}

	if err := mp.SendSubscribe(ctx, alice, tplExpiry, "pages/points/index", data); err != nil {
		t.Fatal(err)
	}
	msgs := e.sim.SubscribeMessages(appID)
	if len(msgs) != 1 || msgs[0].ToUser != alice || msgs[0].TemplateID != tplExpiry || msgs[0].Page != "pages/points/index" ||
		len(msgs[0].Data) != 2 || msgs[0].Data["thing1"] != data["thing1"] || msgs[0].Data["date2"] != "2026-12-31" {
		t.Fatalf("sent = %+v", msgs)
	}

	for _, tc := range []struct {
		name, openid, tpl string
		data              map[string]string
		kind              errs.Kind
		msg               string
	}{
		{"acceptance used up", alice, tplExpiry, data, errs.Permission, "user has not subscribed"},
		{"never accepted", bob, tplExpiry, data, errs.Permission, "user has not subscribed"},
		{"openid of another app", wxsim.OpenID("wxother", "alice"), tplExpiry, data, errs.Invalid, "invalid openid"},
		{"empty value", alice, tplExpiry, map[string]string{"thing1": ""}, errs.Invalid, "invalid subscribe message"},
		{"no data", alice, tplExpiry, nil, errs.Invalid, "invalid subscribe message"},
	} {
		err := mp.SendSubscribe(ctx, tc.openid, tc.tpl, "", tc.data)
		if errs.KindOf(err) != tc.kind || errs.SafeMessage(err) != tc.msg {
			t.Errorf("%s: %v (%q), want %v %q", tc.name, err, errs.SafeMessage(err), tc.kind, tc.msg)
		}
	}
	if n := len(e.sim.SubscribeMessages(appID)); n != 1 {
		t.Errorf("messages after refusals = %d, want 1", n)
	}

	// Token revoked: 40001, refresh, retry; the acceptance is spent once.
	e.sim.AcceptSubscribe(appID, bob, tplExpiry, 1)
	e.sim.RevokeTokens(appID)
	if err := mp.SendSubscribe(ctx, bob, tplExpiry, "", data); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if got := e.sim.SubscribeAllowance(appID, bob, tplExpiry); got != 0 {
		t.Errorf("allowance left = %d, want 0", got)
	}
}

// TestSlowWeChat checks a call silenceper makes without a context still
// ends with the caller's context.
func TestSlowWeChat(t *testing.T) {
	e := setup(t)
	mp := e.client()
	openid := e.sim.AcceptSubscribeFor(appID, "alice", tplExpiry, 1)
	if _, err := e.tokens().GetAccessToken(); err != nil { // Cache a token first.
		t.Fatal(err)
	}
	release := make(chan struct{})
	t.Cleanup(func() { close(release); serve(e.sim.Handler()) })
	serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := mp.SendSubscribe(ctx, openid, tplExpiry, "", map[string]string{"thing1": "x"})
	if errs.KindOf(err) != errs.Transient {
		t.Fatalf("slow WeChat: %v, want transient", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned after %v, want about 100ms", d)
	}
}
