package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/tests/backends"
	"github.com/wemember/wemember/tests/wxsim"
)

type loginReply struct {
	Token    string `json:"token"`
	MemberID string `json:"member_id"`
	Created  bool   `json:"created"`
}

// TestEndToEndLogin logs the same person in through every platform's real
// event shape and adapter: one member, the same card everywhere.
func TestEndToEndLogin(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		openid, unionid := wxsim.OpenID(mpAppID, "alice-"+b.Name), wxsim.UnionID("alice-"+b.Name)
		vars := map[string]string{"openid": openid, "unionid": unionid}
		var first loginReply
		tokens := map[string]string{}
		for i, fx := range []string{"lambda-http-v2.json", "lambda-function-url.json", "scf-apigw.json", "scf-function-url.json", "cloudbase-call.json"} {
			vars["code"] = sim.LoginCode(mpAppID, openid, unionid)
			r := e.invoke("mp-login", fx, vars)
			if r.Status != http.StatusOK {
				t.Fatalf("%s: status %d %s", fx, r.Status, r.Body)
			}
			var got loginReply
			r.decode(t, &got)
			if i == 0 {
				first = got
				if !got.Created {
					t.Fatalf("%s: first login did not register a member", fx)
				}
			} else if got.Created || got.MemberID != first.MemberID {
				t.Fatalf("%s: member %s created=%v; want existing %s", fx, got.MemberID, got.Created, first.MemberID)
			}
			tokens[fx] = got.Token
			if bytes.Contains(r.Body, []byte("session_key")) {
				t.Fatalf("%s: reply mentions the session key: %s", fx, r.Body)
			}
		}
		m, err := e.deps.Members.Resolve(context.Background(), member.Identity{Kind: member.UnionID, Value: unionid})
		if err != nil || m.ID != first.MemberID {
			t.Fatalf("Resolve(unionid) = %s, %v; want %s", m.ID, err, first.MemberID)
		}
		cardVars := map[string]string{"openid": openid, "unionid": unionid, "token": tokens["lambda-http-v2.json"]}
		var want []byte
		for _, fx := range []string{"lambda-http-v2-me.json", "lambda-function-url-me.json", "scf-apigw-me.json", "scf-function-url-me.json", "cloudbase-call-me.json"} {
			r := e.invoke("member-api", fx, cardVars)
			if r.Status != http.StatusOK {
				t.Fatalf("%s: status %d %s", fx, r.Status, r.Body)
			}
			var card struct {
				Member struct {
					ID string `json:"id"`
				} `json:"member"`
			}
			r.decode(t, &card)
			if card.Member.ID != first.MemberID {
				t.Fatalf("%s: card of %q, want %q", fx, card.Member.ID, first.MemberID)
			}
			if want == nil {
				want = r.Body
			} else if !bytes.Equal(normalize(t, r.Body), normalize(t, want)) {
				t.Fatalf("%s: card differs:\n got %s\nwant %s", fx, r.Body, want)
			}
		}
	})
}

// normalize re-encodes JSON so key order and spacing do not matter.
func normalize(t *testing.T, b []byte) []byte {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	return out
}

// TestEndToEndBadInput sends every kind of bad login and card request: each
// gets a clear 4xx with a safe message, and nothing is stored.
func TestEndToEndBadInput(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		openid, unionid := wxsim.OpenID(mpAppID, "mallory-"+b.Name), wxsim.UnionID("mallory-"+b.Name)
		used := sim.LoginCode(mpAppID, wxsim.OpenID(mpAppID, "used-"+b.Name), "")
		if r := e.do("POST", "/mp-login", "", []byte(`{"code":"`+used+`"}`)); r.Status != http.StatusOK {
			t.Fatalf("first use of a code: %d %s", r.Status, r.Body)
		}
		expired := sim.LoginCode(mpAppID, openid, unionid)
		sim.Advance(6 * time.Minute)
		tests := []struct {
			name       string
			body       []byte
			wantStatus int
			wantMsg    string
		}{
			{"missing code", []byte(`{}`), 400, "code is required"},
			{"malformed code", []byte(`{"code":"a b<script>"}`), 400, "code is malformed"},
			{"unknown code", []byte(`{"code":"nosuchcode"}`), 400, "invalid login code"},
			{"used code", []byte(`{"code":"` + used + `"}`), 410, "login code already used"},
			{"expired code", []byte(`{"code":"` + expired + `"}`), 400, "invalid login code"},
			{"malformed json", []byte(`{"code":`), 400, "request body is not valid JSON"},
			{"not json", []byte(`code=abc`), 400, "request body is not valid JSON"},
			{"empty body", nil, 400, "request body is empty; JSON expected"},
			{"2 MiB body", append(append([]byte(`{"code":"`), bytes.Repeat([]byte("a"), 2<<20)...), `"}`...), 413, "request body over 1048576 bytes"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do("POST", "/mp-login", "", tt.body)
				var body struct {
					Error struct{ Message string } `json:"error"`
				}
				r.decode(t, &body)
				if r.Status != tt.wantStatus || body.Error.Message != tt.wantMsg {
					t.Fatalf("got %d %q, want %d %q", r.Status, body.Error.Message, tt.wantStatus, tt.wantMsg)
				}
			})
		}
		if _, err := e.deps.Members.Resolve(context.Background(), member.Identity{Kind: member.OpenID, Scope: mpAppID, Value: openid}); !errs.Is(errs.NotExist, err) {
			t.Fatalf("a refused login stored a member: %v", err)
		}

		good := sim.LoginCode(mpAppID, openid, unionid)
		var login loginReply
		e.do("POST", "/mp-login", "", []byte(`{"code":"`+good+`"}`)).decode(t, &login)
		forged := login.Token[:len(login.Token)-4] + "AAAA"
		for _, tt := range []struct{ name, token, msg string }{
			{"no token", "", "a bearer session token is required"},
			{"forged token", forged, "invalid session token"},
			{"garbage token", "abc.def", "invalid session token"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do("GET", "/member-api/me", tt.token, nil)
				var body struct {
					Error struct{ Message string } `json:"error"`
				}
				r.decode(t, &body)
				if r.Status != http.StatusUnauthorized || body.Error.Message != tt.msg {
					t.Fatalf("got %d %q, want 401 %q", r.Status, body.Error.Message, tt.msg)
				}
			})
		}
		e.clock.Advance(e.deps.Config.SessionTTL)
		r := e.do("GET", "/member-api/me", login.Token, nil)
		if r.Status != http.StatusUnauthorized || !bytes.Contains(r.Body, []byte("session expired")) {
			t.Fatalf("expired token: got %d %s, want 401 session expired", r.Status, r.Body)
		}
	})
}
