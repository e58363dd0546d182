package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/wemember/wemember/shared/config"
	"github.com/wemember/wemember/shared/wxoa"
	"github.com/wemember/wemember/shared/wxwork"
	"github.com/wemember/wemember/tests/wxsim/push"
)

func TestRun(t *testing.T) {
	oaEdge, err := wxoa.New(wxoa.Config{Token: push.DefaultOAToken, EncodingAESKey: push.DefaultOAAESKey, AppID: push.DefaultOAAppID})
	if err != nil {
		t.Fatal(err)
	}
	wcEdge, err := wxwork.New(wxwork.Config{Token: push.DefaultWeComToken, EncodingAESKey: push.DefaultWeComAESKey, CorpID: push.DefaultWeComCorpID})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		seen []string
	)
	see := func(s string) { mu.Lock(); seen = append(seen, s); mu.Unlock() }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		q := r.URL.Query()
		switch {
		case r.URL.Path == "/oa-callback" && r.Method == http.MethodGet:
			echo, err := oaEdge.VerifyURL(q)
			if err != nil {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			io.WriteString(w, echo)
		case r.URL.Path == "/oa-callback":
			m, err := oaEdge.Parse(q, body)
			if err != nil {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			scene, _ := m.Scene()
			see(m.Event + ":" + scene)
			reply, _ := oaEdge.ReplyText(m, "hello "+m.FromUserName)
			w.Write(reply)
		case r.URL.Path == "/wecom-callback":
			ev, err := wcEdge.Parse(q, body)
			if err != nil {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			see(ev.ChangeType + ":" + ev.State)
		}
	}))
	defer srv.Close()
	tests := []struct {
		args     []string
		wantErr  bool
		wantOut  string
		wantSeen string
	}{
		{[]string{"oa-scan", "--url", srv.URL + "/oa-callback", "--openid", "o-x", "--scene", "123"}, false, "reply (decrypted): <xml><ToUserName><![CDATA[o-x]]>", "SCAN:123"},
		{[]string{"oa-subscribe", "--url", srv.URL + "/oa-callback", "--scene", "9", "--mode", "plain"}, false, "hello o-wxpush-0001", "subscribe:9"},
		{[]string{"oa-verify", "--url", srv.URL + "/oa-callback", "--echostr", "777"}, false, `answer: "777"`, ""},
		{[]string{"wecom-add", "--url", srv.URL + "/wecom-callback", "--state", "inv:K"}, false, "status 200", "add_external_contact:inv:K"},
		{[]string{"oa-scan", "--url", srv.URL + "/oa-callback", "--scene", "1", "--token", "wrong", "--tries", "2"}, true, "copy 1 try 2: status 401", ""},
		{[]string{"oa-scan", "--url", srv.URL + "/oa-callback"}, true, "", ""},
		{[]string{"nope", "--url", srv.URL}, true, "", ""},
		{[]string{"oa-scan", "--scene", "1"}, true, "", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:1], " "), func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			var out bytes.Buffer
			err := run(context.Background(), tt.args, &out)
			if (err != nil) != tt.wantErr {
				t.Fatalf("run(%q) err = %v, want error %v\n%s", tt.args, err, tt.wantErr, out.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("output lacks %q:\n%s", tt.wantOut, out.String())
			}
			mu.Lock()
			got := strings.Join(seen, ",")
			mu.Unlock()
			if got != tt.wantSeen {
				t.Errorf("server saw %q, want %q", got, tt.wantSeen)
			}
		})
	}
}

// TestDefaultsAreTheLocalRunners checks that wxpush signs and encrypts with
// the keys `make run` configures.
func TestDefaultsAreTheLocalRunners(t *testing.T) {
	dev := config.Dev("data", "")
	for _, c := range []struct{ name, got, want string }{
		{"OA token", push.DefaultOAToken, dev["WEMEMBER_OA_TOKEN"]},
		{"OA appid", push.DefaultOAAppID, dev["WEMEMBER_OA_APPID"]},
		{"OA AES key", push.DefaultOAAESKey, dev["WEMEMBER_OA_AES_KEY"]},
		{"WeCom token", push.DefaultWeComToken, dev["WEMEMBER_WECOM_TOKEN"]},
		{"WeCom corpid", push.DefaultWeComCorpID, dev["WEMEMBER_WECOM_CORPID"]},
		{"WeCom AES key", push.DefaultWeComAESKey, dev["WEMEMBER_WECOM_AES_KEY"]},
	} {
		if c.got != c.want {
			t.Errorf("default %s = %q, make run's = %q", c.name, c.got, c.want)
		}
	}
}
