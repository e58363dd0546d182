package wxsim_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/wemember/wemember/tests/wxsim"
)

// userInfo is /cgi-bin/user/info's body; pointers tell absent from zero.
type userInfo struct {
	ErrCode        int     `json:"errcode"`
	Subscribe      *int    `json:"subscribe"`
	OpenID         string  `json:"openid"`
	UnionID        *string `json:"unionid"`
	SubscribeTime  int64   `json:"subscribe_time"`
	SubscribeScene string  `json:"subscribe_scene"`
	QRScene        int     `json:"qr_scene"`
	QRSceneStr     string  `json:"qr_scene_str"`
	Language       string  `json:"language"`
}

func getInto(t *testing.T, u string, v any) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", u, res.StatusCode)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func decode(t *testing.T, res *http.Response, v any) {
	t.Helper()
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d", res.Request.URL.Path, res.StatusCode)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func info(t *testing.T, base, tok, openid string) userInfo {
	t.Helper()
	var got userInfo
	q := url.Values{"access_token": {tok}, "openid": {openid}, "lang": {"zh_CN"}}
	getInto(t, base+"/cgi-bin/user/info?"+q.Encode(), &got)
	return got
}

func TestUserInfo(t *testing.T) {
	sim, base := start(t)
	sim.RegisterApp(wxsim.App{AppID: "wxunbound000000001", Secret: "s", Unbound: true})
	tok := stable(t, base, false).AccessToken
	f := sim.Follow(appA, "alice", "12345678")
	if f.OpenID != wxsim.OpenID(appA, "alice") || f.UnionID != wxsim.UnionID("alice") || !f.Subscribed {
		t.Fatalf("Follow = %+v", f)
	}
	got := info(t, base, tok, f.OpenID)
	if got.ErrCode != 0 || got.Subscribe == nil || *got.Subscribe != 1 || got.OpenID != f.OpenID ||
		got.UnionID == nil || *got.UnionID != wxsim.UnionID("alice") || got.SubscribeTime != sim.Now().Unix() ||
		got.SubscribeScene != wxsim.SceneQRCode || got.QRSceneStr != "12345678" || got.QRScene != 0 || got.Language != "zh_CN" {
		t.Fatalf("alice (follower) = %+v", got)
	}

	// bob is known (he logged in to the mini-program of the same account)
	// but never followed: subscribe 0, still with his unionid.
	sim.LoginCodeFor(appB, "bob")
	bob := info(t, base, tok, wxsim.OpenID(appA, "bob"))
	if bob.ErrCode != 0 || bob.Subscribe == nil || *bob.Subscribe != 0 || bob.UnionID == nil ||
		*bob.UnionID != wxsim.UnionID("bob") || bob.SubscribeScene != "" || bob.SubscribeTime != 0 {
		t.Fatalf("bob (never followed) = %+v", bob)
	}

	sim.Advance(time.Hour)
	if !sim.Unfollow(appA, f.OpenID) || sim.Unfollow(appA, f.OpenID) {
		t.Fatal("Unfollow: want true then false")
	}
	if got := info(t, base, tok, f.OpenID); *got.Subscribe != 0 || got.SubscribeScene != "" {
		t.Fatalf("alice after unfollow = %+v", got)
	}
	again := sim.Follow(appA, "alice", "")
	if got := info(t, base, tok, f.OpenID); *got.Subscribe != 1 || got.SubscribeScene != wxsim.SceneSearch ||
		got.QRSceneStr != "" || got.SubscribeTime != again.Since.Unix() || again.Since.Equal(f.Since) {
		t.Fatalf("alice after refollow = %+v", got)
	}

	for _, tc := range []struct {
		name, tok, openid string
		want              int
	}{
		{"openid of another app", tok, wxsim.OpenID(appB, "alice"), wxsim.ErrInvalidOpenID},
		{"unknown openid", tok, "o-nobody", wxsim.ErrInvalidOpenID},
		{"missing openid", tok, "", wxsim.ErrMissingOpenID},
		{"bad token", "nope", f.OpenID, wxsim.ErrInvalidCredential},
	} {
		if got := info(t, base, tc.tok, tc.openid); got.ErrCode != tc.want || got.Subscribe != nil {
			t.Errorf("%s: %+v, want errcode %d and no subscribe field", tc.name, got, tc.want)
		}
	}

	// An account not bound to the Open Platform account gets no unionid.
	ub := sim.Follow("wxunbound000000001", "alice", "")
	if ub.UnionID != "" {
		t.Errorf("follower of an unbound account has unionid %q", ub.UnionID)
	}
}

func TestFollowControls(t *testing.T) {
	sim, base := start(t)
	postForm(t, base+"/sim/oa/follow", url.Values{"appid": {appA}, "user": {"carol"}, "scene_id": {"42"}})
	fs := sim.Followers(appA)
	if len(fs) != 1 || fs[0].OpenID != wxsim.OpenID(appA, "carol") || fs[0].QRScene != 42 || fs[0].Scene != wxsim.SceneQRCode {
		t.Fatalf("followers = %+v", fs)
	}
	postForm(t, base+"/sim/oa/follow", url.Values{"appid": {appA}, "openid": {"o-raw"}, "unionid": {"u-raw"}, "subscribe_scene": {"ADD_SCENE_PAID"}})
	postForm(t, base+"/sim/oa/unfollow", url.Values{"appid": {appA}, "user": {"carol"}})
	var list struct {
		Followers []wxsim.FollowerBody `json:"followers"`
	}
	getInto(t, base+"/sim/oa/followers?appid="+appA, &list)
	if len(list.Followers) != 2 {
		t.Fatalf("followers = %+v", list)
	}
	for _, f := range list.Followers {
		switch f.OpenID {
		case "o-raw":
			if f.Subscribe != 1 || f.UnionID != "u-raw" || f.Scene != "ADD_SCENE_PAID" {
				t.Errorf("raw follower = %+v", f)
			}
		case wxsim.OpenID(appA, "carol"):
			if f.Subscribe != 0 {
				t.Errorf("carol after unfollow = %+v", f)
			}
		default:
			t.Errorf("unexpected follower %+v", f)
		}
	}
	tok := stable(t, base, false).AccessToken
	if got := info(t, base, tok, "o-raw"); got.UnionID == nil || *got.UnionID != "u-raw" || *got.Subscribe != 1 {
		t.Errorf("user/info of the raw follower = %+v", got)
	}
	resp, err := http.PostForm(base+"/sim/oa/follow", url.Values{"appid": {"wxnope"}, "user": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("follow on unknown app: status %d, want 404", resp.StatusCode)
	}
}
