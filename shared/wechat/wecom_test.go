package wechat_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/wechat"
	"github.com/wemember/wemember/tests/wxsim"
)

const corpID, corpSecret = "ww1234567890abcdef", "the-corp-secret"

func (e *env) wecomTokens(opts ...wechat.TokenOption) *wechat.TokenSource {
	return wechat.NewWeComTokenSource(e.st, corpID, corpSecret, append([]wechat.TokenOption{wechat.WithTokenClock(e.clock.now)}, opts...)...)
}

func (e *env) wecom() *wechat.WeCom {
	e.sim.AddCorp(corpID, corpSecret, false)
	return wechat.NewWeCom(corpID, corpSecret, e.wecomTokens())
}

func TestWeComTokenSource(t *testing.T) {
	e := setup(t)
	e.sim.AddCorp(corpID, corpSecret, false)
	got := make([]string, 10)
	var wg sync.WaitGroup
	for i := range got {
		src := e.wecomTokens()
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			tok, err := src.GetAccessTokenContext(ctx)
			if err != nil {
				t.Error(err)
			}
			got[i] = tok
		}()
	}
	wg.Wait()
	for i, tok := range got {
		if tok == "" || tok != got[0] {
			t.Fatalf("instance %d got %q, instance 0 %q", i, tok, got[0])
		}
	}
	if corp, code, _ := e.sim.CheckWeComToken(got[0]); code != 0 || corp != corpID {
		t.Errorf("token refused by WeCom: %d (%s)", code, corp)
	}
	if n := e.sim.Calls("/cgi-bin/gettoken"); n != 1 {
		t.Errorf("gettoken calls = %d, want 1", n)
	}
	if n := e.sim.Calls("/cgi-bin/stable_token"); n != 0 {
		t.Errorf("stable_token calls = %d, want 0", n)
	}
	var cached struct {
		Token string `json:"token"`
	}
	if _, err := store.GetJSON(context.Background(), e.st, store.K("wxtoken#wecom/"+corpID, "access_token"), &cached); err != nil || cached.Token != got[0] {
		t.Errorf("cached = %+v, %v; want %q", cached, err, got[0])
	}

	wrong := wechat.NewWeComTokenSource(e.st, "wwother", "wrong-corp-secret", wechat.WithTokenClock(e.clock.now))
	e.sim.AddCorp("wwother", "right", false)
	_, err := wrong.GetAccessToken()
	if errs.KindOf(err) != errs.Internal || wechat.ErrCode(err) != 40001 {
		t.Errorf("wrong secret: %v, want internal with errcode 40001", err)
	}
	if err != nil && strings.Contains(err.Error(), "wrong-corp-secret") {
		t.Errorf("error %q leaks the secret", err)
	}
}

func TestExternalContact(t *testing.T) {
	e := setup(t)
	wc := e.wecom()
	ctx := context.Background()
	c, _ := e.sim.AddContact(corpID, "alice", "sales1", "inv_ABC")
	e.clock.advance(time.Minute)
	e.sim.AddContact(corpID, "alice", "sales2", "")

	got, err := wc.ExternalContact(ctx, c.ExternalUserID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ExternalUserID != c.ExternalUserID || got.UnionID != wxsim.UnionID("alice") || got.Name != "alice" || got.Type != 1 {
		t.Fatalf("contact = %+v", got)
	}
	want := []wechat.FollowUser{
		{UserID: "sales1", State: "inv_ABC", AddedAt: time.Unix(e.clock.now().Add(-time.Minute).Unix(), 0)},
		{UserID: "sales2", AddedAt: time.Unix(e.clock.now().Unix(), 0)},
	}
	if len(got.FollowUsers) != len(want) {
		t.Fatalf("follow users = %+v, want %+v", got.FollowUsers, want)
	}
	for i := range want {
		if g := got.FollowUsers[i]; g.UserID != want[i].UserID || g.State != want[i].State || !g.AddedAt.Equal(want[i].AddedAt) {
			t.Errorf("follow user %d = %+v, want %+v", i, g, want[i])
		}
	}

	for _, tc := range []struct {
		name, id string
		kind     errs.Kind
	}{
		{"unknown", "wmnobody", errs.NotExist},
		{"empty", "", errs.Invalid},
	} {
		if _, err := wc.ExternalContact(ctx, tc.id); errs.KindOf(err) != tc.kind {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.kind)
		}
	}

	// A token revoked behind our back: 40014, refresh, retry.
	e.sim.RevokeTokens(corpID)
	if _, err := wc.ExternalContact(ctx, c.ExternalUserID); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if n := e.sim.Calls("/cgi-bin/gettoken"); n != 2 {
		t.Errorf("gettoken calls = %d, want 2", n)
	}
	// Every member deleted the customer: 84061.
	e.sim.RemoveFollow(corpID, c.ExternalUserID, "sales1")
	e.sim.RemoveFollow(corpID, c.ExternalUserID, "sales2")
	if _, err := wc.ExternalContact(ctx, c.ExternalUserID); errs.KindOf(err) != errs.NotExist || wechat.ErrCode(err) != 84061 {
		t.Errorf("contact no member has: %v, want not_exist with errcode 84061", err)
	}

	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("contact", "contact", got)
	if out := logged.String(); strings.Contains(out, "alice") || strings.Contains(out, got.UnionID) || !strings.Contains(out, got.ExternalUserID) {
		t.Errorf("logged %s: want the external_userid, no name or unionid", out)
	}
}

func TestSendWelcome(t *testing.T) {
	e := setup(t)
	wc := e.wecom()
	ctx := context.Background()
	c, code := e.sim.AddContact(corpID, "alice", "sales1", "inv")

	if err := wc.SendWelcome(ctx, code, "欢迎 alice, 10 元券已到账"); err != nil {
		t.Fatal(err)
	}
	// A retried push sends again: 41051 is no error, and nothing more is sent.
	if err := wc.SendWelcome(ctx, code, "second"); err != nil {
		t.Fatalf("second send with the same code: %v, want nil", err)
	}
	msgs := e.sim.WelcomeMessages(corpID)
	if len(msgs) != 1 || msgs[0].WelcomeCode != code || msgs[0].Text != "欢迎 alice, 10 元券已到账" || msgs[0].ExternalUserID != c.ExternalUserID {
		t.Fatalf("welcome messages = %+v, want exactly the first", msgs)
	}

	_, late := e.sim.AddContact(corpID, "bob", "sales1", "")
	e.clock.advance(wxsim.WelcomeCodeTTL)
	_, fresh := e.sim.AddContact(corpID, "carol", "sales1", "")
	for _, tc := range []struct {
		name, code, text string
		kind             errs.Kind
		msg              string
	}{
		{"older than 20 s", late, "hi", errs.Expired, "welcome code expired or invalid"},
		{"unknown code", "nope", "hi", errs.Expired, "welcome code expired or invalid"},
		{"empty code", "", "hi", errs.Invalid, "missing welcome code"},
		{"empty text", fresh, "", errs.Invalid, "empty welcome message"},
		{"text too long", fresh, strings.Repeat("长", 1400), errs.TooLarge, "welcome message too long"},
	} {
		err := wc.SendWelcome(ctx, tc.code, tc.text)
		if errs.KindOf(err) != tc.kind || errs.SafeMessage(err) != tc.msg {
			t.Errorf("%s: %v (%q), want %v %q", tc.name, err, errs.SafeMessage(err), tc.kind, tc.msg)
		}
	}
	if n := len(e.sim.WelcomeMessages(corpID)); n != 1 {
		t.Errorf("welcome messages after refusals = %d, want 1", n)
	}
}

// TestSendWelcomeConcurrent has several instances handle the same push at
// once: every one succeeds and exactly one message is sent.
func TestSendWelcomeConcurrent(t *testing.T) {
	e := setup(t)
	e.wecom()
	_, code := e.sim.AddContact(corpID, "alice", "sales1", "")
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for range 8 {
		wc := wechat.NewWeCom(corpID, corpSecret, e.wecomTokens())
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			errc <- wc.SendWelcome(ctx, code, "hi")
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Errorf("concurrent send: %v", err)
		}
	}
	if n := len(e.sim.WelcomeMessages(corpID)); n != 1 {
		t.Errorf("welcome messages = %d, want exactly 1", n)
	}
	if n := e.sim.Calls("/cgi-bin/gettoken"); n != 1 {
		t.Errorf("gettoken calls = %d, want 1", n)
	}
}
