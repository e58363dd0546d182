package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

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
