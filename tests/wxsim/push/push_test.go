package push_test

import (
	"encoding/xml"
	"slices"
	"strings"
	"testing"

	"github.com/wemember/wemember/tests/wxsim/push"
)

// TestOAWireFormat checks the query parameters and body shape of each mode
// against WeChat's documented format.
func TestOAWireFormat(t *testing.T) {
	tests := []struct {
		mode       push.Mode
		wantParams []string
		wantPlain  bool // The body shows the plain fields.
		wantEnc    bool // The body holds <Encrypt>.
	}{
		{push.Plain, []string{"nonce", "openid", "signature", "timestamp"}, true, false},
		{push.Compat, []string{"encrypt_type", "msg_signature", "nonce", "openid", "signature", "timestamp"}, true, true},
		{push.Safe, []string{"encrypt_type", "msg_signature", "nonce", "openid", "signature", "timestamp"}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			o := push.DefaultOA()
			o.Mode = tt.mode
			p, err := o.Build("http://127.0.0.1:1/oa-callback?x=1", push.OAScan("o-alice", "123"))
			if err != nil {
				t.Fatal(err)
			}
			q := p.Query()
			var got []string
			for k := range q {
				if k != "x" {
					got = append(got, k)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.wantParams) || q.Get("x") != "1" {
				t.Errorf("query = %v, want %v plus x=1", q, tt.wantParams)
			}
			if tt.mode != push.Plain && q.Get("encrypt_type") != "aes" {
				t.Errorf("encrypt_type = %q, want aes", q.Get("encrypt_type"))
			}
			var body struct {
				ToUserName, FromUserName, Event, EventKey, Encrypt string
			}
			if err := xml.Unmarshal(p.Body, &body); err != nil {
				t.Fatalf("body is not XML: %v", err)
			}
			if body.ToUserName != push.DefaultOAOriginalID {
				t.Errorf("ToUserName = %q", body.ToUserName)
			}
			if (body.FromUserName == "o-alice" && body.Event == "SCAN" && body.EventKey == "123") != tt.wantPlain {
				t.Errorf("plain fields shown = %v, want %v: %s", !tt.wantPlain, tt.wantPlain, p.Body)
			}
			if (body.Encrypt != "") != tt.wantEnc {
				t.Errorf("Encrypt present = %v, want %v", body.Encrypt != "", tt.wantEnc)
			}
			if tt.wantEnc && strings.Contains(body.Encrypt, "o-alice") {
				t.Error("Encrypt holds plaintext")
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	for s, want := range map[string]push.Mode{"safe": push.Safe, "aes": push.Safe, "compat": push.Compat, "plain": push.Plain, "raw": push.Plain} {
		if got, err := push.ParseMode(s); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %v, %v, want %v", s, got, err, want)
		}
	}
	if _, err := push.ParseMode("des"); err == nil {
		t.Error(`ParseMode("des") succeeded`)
	}
}

func TestWithQueryCopies(t *testing.T) {
	p, err := push.DefaultWeCom().Build("http://127.0.0.1:1/w", push.WeComAdd("u", "e", "s"))
	if err != nil {
		t.Fatal(err)
	}
	sig := p.Query().Get("msg_signature")
	q := p.WithQuery("msg_signature", "x")
	if p.Query().Get("msg_signature") != sig || q.Query().Get("msg_signature") != "x" {
		t.Errorf("WithQuery changed the original or did not set the copy: %v / %v", p.URL, q.URL)
	}
	if p.WithQuery("nonce", "").Query().Has("nonce") {
		t.Error("WithQuery with empty value kept the parameter")
	}
}
