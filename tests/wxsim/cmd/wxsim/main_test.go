package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/wemember/wemember/shared/config"
	"github.com/wemember/wemember/tests/wxsim"
)

func TestLoginCodeCommand(t *testing.T) {
	sim := wxsim.New()
	sim.AddApp(demoAppID, demoSecret)
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()

	var out, errOut bytes.Buffer
	if rc := run(context.Background(), []string{"login-code", "--sim", srv.URL, "--user", "alice"}, &out, &errOut); rc != 0 {
		t.Fatalf("rc %d: %s", rc, errOut.String())
	}
	code := strings.TrimSpace(out.String())
	q := url.Values{"appid": {demoAppID}, "secret": {demoSecret}, "js_code": {code}, "grant_type": {"authorization_code"}}
	res, err := srv.Client().Get(srv.URL + "/sns/jscode2session?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body bytes.Buffer
	body.ReadFrom(res.Body)
	if !strings.Contains(body.String(), wxsim.OpenID(demoAppID, "alice")) {
		t.Errorf("exchange of printed code = %s, want alice's openid", body.String())
	}

	out.Reset()
	if rc := run(context.Background(), []string{"login-code", "--sim", srv.URL, "--appid", "wxnope", "--user", "alice"}, &out, &errOut); rc != 1 || out.Len() != 0 {
		t.Errorf("unknown app: rc %d, out %q; want 1 and nothing printed", rc, out.String())
	}
	if rc := run(context.Background(), []string{"bogus"}, &out, &errOut); rc != 1 {
		t.Errorf("unknown command: rc %d", rc)
	}
}

func TestContactAndFollowCommands(t *testing.T) {
	sim := wxsim.New()
	sim.AddApp(demoAppID, demoSecret)
	sim.AddCorp(demoCorpID, demoCorpSecret, false)
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	ctx := context.Background()

	var out, errOut bytes.Buffer
	if rc := run(ctx, []string{"contact", "--sim", srv.URL, "--user", "alice", "--userid", "sales1", "--state", "inv_7"}, &out, &errOut); rc != 0 {
		t.Fatalf("contact: rc %d: %s", rc, errOut.String())
	}
	var added wxsim.ContactAdded
	if err := json.Unmarshal(out.Bytes(), &added); err != nil {
		t.Fatal(err)
	}
	c, ok := sim.ContactOf(demoCorpID, added.ExternalUserID)
	if !ok || added.ExternalUserID != wxsim.ExternalUserID(demoCorpID, "alice") || added.WelcomeCode == "" ||
		len(c.Follows) != 1 || c.Follows[0].UserID != "sales1" || c.Follows[0].State != "inv_7" {
		t.Fatalf("contact printed %+v, sim holds %+v", added, c)
	}

	out.Reset()
	if rc := run(ctx, []string{"follow", "--sim", srv.URL, "--user", "alice", "--scene", "12345678"}, &out, &errOut); rc != 0 {
		t.Fatalf("follow: rc %d: %s", rc, errOut.String())
	}
	fs := sim.Followers(demoAppID)
	if len(fs) != 1 || fs[0].OpenID != wxsim.OpenID(demoAppID, "alice") || fs[0].QRSceneStr != "12345678" || !fs[0].Subscribed {
		t.Errorf("followers after the command = %+v", fs)
	}

	out.Reset()
	if rc := run(ctx, []string{"subscribe", "--sim", srv.URL, "--user", "bob", "--template", "tpl1", "--times", "2"}, &out, &errOut); rc != 0 {
		t.Fatalf("subscribe: rc %d: %s", rc, errOut.String())
	}
	if got := sim.SubscribeAllowance(demoAppID, wxsim.OpenID(demoAppID, "bob"), "tpl1"); got != 2 {
		t.Errorf("allowance after the command = %d, want 2", got)
	}
}

// TestDefaultsAreTheLocalRunners checks that wxsim without --appid or
// --corpid drives the apps `make run` configures.
func TestDefaultsAreTheLocalRunners(t *testing.T) {
	dev := config.Dev("data", "")
	sim := wxsim.New()
	sim.AddApp(dev["WEMEMBER_MP_APPID"], dev["WEMEMBER_MP_SECRET"])
	sim.AddCorp(dev["WEMEMBER_WECOM_CORPID"], dev["WEMEMBER_WECOM_SECRET"], false)
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()

	var out, errOut bytes.Buffer
	if rc := run(context.Background(), []string{"login-code", "--sim", srv.URL, "--user", "alice"}, &out, &errOut); rc != 0 {
		t.Errorf("login-code without --appid: rc %d: %s", rc, errOut.String())
	}
	out.Reset()
	errOut.Reset()
	if rc := run(context.Background(), []string{"contact", "--sim", srv.URL, "--user", "alice", "--userid", "zhangsan"}, &out, &errOut); rc != 0 {
		t.Errorf("contact without --corpid: rc %d: %s", rc, errOut.String())
	}
}
