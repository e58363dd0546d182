package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/tests/backends"
	"github.com/wemember/wemember/tests/wxsim"
)

// TestEndToEndLoginChannel: a registering client may say how it was
// launched (a scene, a share, UTM parameters), stored as claimed; it cannot
// claim an attribution that pays (an invitation, an Official Account scene,
// a WeCom state), which only verified sources set.
func TestEndToEndLoginChannel(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		login := func(name string, body map[string]any) (reply, string) {
			openid := wxsim.OpenID(mpAppID, name+"-"+b.Name)
			body["code"] = sim.LoginCode(mpAppID, openid, wxsim.UnionID(name+"-"+b.Name))
			raw, _ := json.Marshal(body)
			return e.do("POST", "/mp-login", "", raw), openid
		}
		stored := func(openid string) (member.Member, error) {
			return e.deps.Members.Resolve(context.Background(), member.Identity{Kind: member.OpenID, Scope: mpAppID, Value: openid})
		}
		for _, kind := range []string{"invite", "oa-qr", "oa-follow", "wecom", "import", "mini-program"} {
			r, openid := login("spoof-"+kind, map[string]any{"channel": map[string]any{"kind": kind, "value": "spoofed", "inviter": "mvictim"}})
			if r.Status != http.StatusBadRequest || !bytes.Contains(r.Body, []byte("channel.kind")) {
				t.Errorf("claimed channel %q: %d %s, want 400 naming channel.kind", kind, r.Status, r.Body)
			}
			if _, err := stored(openid); !errs.Is(errs.NotExist, err) {
				t.Errorf("claimed channel %q: a member was stored (%v)", kind, err)
			}
		}
		for _, tt := range []struct {
			name string
			body map[string]any
			want member.Channel
		}{
			{"share", map[string]any{"channel": map[string]any{"kind": "share", "value": "poster-7", "inviter": "mvictim"}},
				member.Channel{Kind: "share", Value: "poster-7", Claimed: true}},
			{"utm", map[string]any{"channel": map[string]any{"kind": "utm", "utm": map[string]string{"source": "weibo", "campaign": "spring"}}},
				member.Channel{Kind: "utm", UTM: map[string]string{"source": "weibo", "campaign": "spring"}, Claimed: true}},
			{"launch scene", map[string]any{"scene": "1047"}, member.Channel{Kind: "mp-scene", Value: "1047", Claimed: true}},
			{"none", map[string]any{}, member.Channel{Kind: "mini-program"}},
		} {
			r, openid := login("claim-"+tt.name, tt.body)
			if r.Status != http.StatusOK {
				t.Errorf("%s: %d %s", tt.name, r.Status, r.Body)
				continue
			}
			m, err := stored(openid)
			got, _ := json.Marshal(m.Channel)
			want, _ := json.Marshal(tt.want)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: stored channel %s (%v), want %s", tt.name, got, err, want)
			}
		}
		for _, tt := range []struct{ name, body, msg string }{
			{"NUL nickname", `{"nickname":"ab\u0000cd"}`, "nickname must not contain control characters"},
			{"bidi nickname", `{"nickname":"admin\u202Enimda"}`, "nickname must not contain direction-override characters"},
			{"javascript avatar", `{"avatar":"javascript:alert(1)"}`, "avatar must be an https URL"},
			{"control in channel value", `{"channel":{"kind":"share","value":"a\nb"}}`, "channel.value must not contain control characters"},
			{"long utm value", `{"channel":{"kind":"utm","utm":{"source":"` + string(bytes.Repeat([]byte("x"), 200)) + `"}}}`, "channel.utm values must be at most 128 bytes"},
		} {
			var body map[string]any
			if err := json.Unmarshal([]byte(tt.body), &body); err != nil {
				t.Fatal(err)
			}
			r, openid := login("text-"+tt.name, body)
			if r.Status != http.StatusBadRequest || !bytes.Contains(r.Body, []byte(tt.msg)) {
				t.Errorf("%s: %d %s, want 400 %q", tt.name, r.Status, r.Body, tt.msg)
			}
			if _, err := stored(openid); !errs.Is(errs.NotExist, err) {
				t.Errorf("%s: a member was stored (%v)", tt.name, err)
			}
		}
	})
}
