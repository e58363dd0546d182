package wechat_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/wechat"
	"github.com/wemember/wemember/tests/wxsim"
)

func (e *env) officialAccount() *wechat.OfficialAccount {
	return wechat.NewOfficialAccount(appID, secret, e.tokens())
}

func TestUserInfo(t *testing.T) {
	e := setup(t)
	oa := e.officialAccount()
	ctx := context.Background()
	alice := e.sim.Follow(appID, "alice", "12345678")
	e.sim.FollowAs(wxsim.Follower{AppID: appID, OpenID: "o-scan", QRScene: 42, Scene: wxsim.SceneQRCode})
	e.sim.LoginCodeFor(appID, "bob") // bob is known to WeChat but never followed.
	carol := e.sim.Follow(appID, "carol", "")
	e.sim.Unfollow(appID, carol.OpenID)
	since := time.Unix(e.sim.Now().Unix(), 0)

	tests := []struct {
		name   string
		openid string
		want   wechat.OAUser
	}{
		{"follower by invite QR", alice.OpenID, wechat.OAUser{OpenID: alice.OpenID, UnionID: wxsim.UnionID("alice"),
			Subscribed: true, Since: since, Scene: "ADD_SCENE_QR_CODE", QRSceneStr: "12345678"}},
		{"follower by numeric QR", "o-scan", wechat.OAUser{OpenID: "o-scan", Subscribed: true, Since: since,
			Scene: "ADD_SCENE_QR_CODE", QRScene: 42}},
		{"never followed", wxsim.OpenID(appID, "bob"), wechat.OAUser{OpenID: wxsim.OpenID(appID, "bob"), UnionID: wxsim.UnionID("bob")}},
		{"unfollowed", carol.OpenID, wechat.OAUser{OpenID: carol.OpenID, UnionID: wxsim.UnionID("carol")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := oa.UserInfo(ctx, tt.openid)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Since.Equal(tt.want.Since) {
				t.Errorf("Since = %v, want %v", got.Since, tt.want.Since)
			}
			got.Since, tt.want.Since = time.Time{}, time.Time{}
			if got != tt.want {
				t.Errorf("UserInfo = %+v, want %+v", got, tt.want)
			}
		})
	}

	for _, tc := range []struct{ name, openid string }{
		{"other app's openid", wxsim.OpenID("wxother", "alice")},
		{"garbage", "o-nobody"},
		{"empty", ""},
	} {
		_, err := oa.UserInfo(ctx, tc.openid)
		if errs.KindOf(err) != errs.Invalid || errs.SafeMessage(err) != "invalid openid" {
			t.Errorf("%s: %v, want invalid \"invalid openid\"", tc.name, err)
		}
	}
	if got := e.sim.Calls("/cgi-bin/user/info"); got != 6 {
		t.Errorf("user/info calls = %d, want 6 (the empty openid is refused locally)", got)
	}

	// The cached token is revoked behind our back: 40001, refresh, retry.
	e.sim.RevokeTokens(appID)
	if got, err := oa.UserInfo(ctx, alice.OpenID); err != nil || !got.Subscribed {
		t.Fatalf("after revocation: %+v, %v", got, err)
	}
	if calls := e.sim.Calls("/cgi-bin/stable_token"); calls != 2 {
		t.Errorf("stable_token calls = %d, want 2", calls)
	}

	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("follow", "user", wechat.OAUser{OpenID: "o1", UnionID: "u-secret", Subscribed: true})
	if strings.Contains(logged.String(), "u-secret") || !strings.Contains(logged.String(), `"openid":"o1"`) {
		t.Errorf("logged %s: want the openid and no unionid", logged.String())
	}
}

func TestUserInfoUnboundAccount(t *testing.T) {
	e := setup(t)
	e.sim.RegisterApp(wxsim.App{AppID: appID, Secret: secret, Unbound: true})
	f := e.sim.Follow(appID, "alice", "")
	got, err := e.officialAccount().UserInfo(context.Background(), f.OpenID)
	if err != nil || !got.Subscribed || got.UnionID != "" || got.Scene != wxsim.SceneSearch {
		t.Errorf("UserInfo = %+v, %v; want subscribed by search, no unionid", got, err)
	}
}
