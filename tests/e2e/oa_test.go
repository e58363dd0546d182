package e2e_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/lambda"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/scf"
	"github.com/wemember/wemember/tests/backends"
	"github.com/wemember/wemember/tests/eventfix"
	"github.com/wemember/wemember/tests/wxsim/push"
)

// The Official Account and WeCom pushes, played by the
// simulator's push builders exactly as WeChat sends them (signed, encrypted
// in safe mode, retried), through the real platform adapters or the local
// runner over HTTP, on every backend.

// pushEnv is a deployment with the WeCom corp registered in the simulator
// too, so externalcontact/get and send_welcome_msg answer.
func pushEnv(t *testing.T, b backends.Backend) *env {
	t.Helper()
	e := newEnv(t, b)
	cfg := e.deps.Config
	sim.AddCorp(cfg.WeComCorpID, cfg.WeComSecret, false)
	return e
}

// oa is WeChat's side of the deployment's Official Account.
func (e *env) oa() push.OA {
	c := e.deps.Config
	return push.OA{Token: c.OAToken, AppID: c.OAAppID, EncodingAESKey: c.OAAESKey, OriginalID: push.DefaultOAOriginalID}
}

// wecom is WeCom's side of the deployment's corp.
func (e *env) wecom() push.WeCom {
	c := e.deps.Config
	return push.WeCom{Token: c.WeComToken, CorpID: c.WeComCorpID, EncodingAESKey: c.WeComAESKey}
}

// url is where the local runner serves a function.
func (e *env) url(function string) string { return e.http.URL + "/" + function }

// send delivers a push once over HTTP to the local runner.
func (e *env) send(p *push.Push) push.Attempt {
	e.t.Helper()
	res := push.Sender{Client: e.http.Client(), Tries: 1}.Send(context.Background(), p)
	a := res.Last()
	if a.Err != nil {
		e.t.Fatalf("send %s: %v", p.URL.Path, a.Err)
	}
	return a
}

// invokePush delivers a push through a platform adapter: the platform's
// golden HTTP event (fixture) with the push's method, path, query and body
// in place, as API Gateway would deliver WeChat's POST.
func (e *env) invokePush(function, fixture string, p *push.Push) reply {
	e.t.Helper()
	raw, err := eventfix.Load(fixture, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		e.t.Fatal(err)
	}
	path := "/" + function
	single, multi := map[string]any{}, map[string]any{}
	for k, v := range p.Query() {
		single[k] = strings.Join(v, ",")
		multi[k] = v[0]
	}
	headers := ev["headers"].(map[string]any)
	headers["content-type"] = "text/xml"
	headers["user-agent"] = "Mozilla/4.0"
	rc := ev["requestContext"].(map[string]any)
	ev["body"], ev["isBase64Encoded"] = string(p.Body), false
	ev["queryStringParameters"] = single
	ctx := context.Background()
	var out any
	switch platformOf(fixture) {
	case "lambda":
		ev["rawPath"], ev["routeKey"], ev["rawQueryString"] = path, p.Method+" "+path, p.URL.RawQuery
		httpCtx := rc["http"].(map[string]any)
		httpCtx["method"], httpCtx["path"], rc["routeKey"] = p.Method, path, p.Method+" "+path
		raw, _ = json.Marshal(ev)
		out, err = lambda.Invoke(e.handlers[function])(ctx, raw)
	default:
		ev["path"], ev["httpMethod"], ev["queryString"] = path, p.Method, multi
		rc["path"], rc["httpMethod"] = path, p.Method
		raw, _ = json.Marshal(ev)
		fc := &functioncontext.FunctionContext{RequestID: "e2e-push"}
		out, err = scf.Invoke(e.handlers[function])(functioncontext.NewContext(ctx, fc), raw)
	}
	if err != nil {
		e.t.Fatalf("invoke %s through %s: %v", function, fixture, err)
	}
	b, _ := json.Marshal(out)
	var wire struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
		Base64     bool   `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(b, &wire); err != nil {
		e.t.Fatal(err)
	}
	body := []byte(wire.Body)
	if wire.Base64 {
		body, _ = base64.StdEncoding.DecodeString(wire.Body)
	}
	return reply{Status: wire.StatusCode, Body: body}
}

// inviter registers a member and a scene naming it as the inviter.
func (e *env) inviter(name, scene string, ch member.Channel) member.Member {
	e.t.Helper()
	ctx := context.Background()
	res, err := e.deps.Members.Arrive(ctx, member.Arrival{Identities: []member.Identity{{Kind: member.OpenID, Scope: mpAppID, Value: "o-" + name}}})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.deps.Channels.Save(ctx, channels.Scene{ID: scene, Channel: ch, Inviter: res.Member.ID}, "e2e-operator"); err != nil {
		e.t.Fatal(err)
	}
	return res.Member
}

// resolve finds the member of an identity; want says it must exist.
func (e *env) resolve(id member.Identity, want bool) member.Member {
	e.t.Helper()
	m, err := e.deps.Members.Resolve(context.Background(), id)
	switch {
	case want && err != nil:
		e.t.Fatalf("Resolve(%+v): %v", id, err)
	case !want && !errs.Is(errs.NotExist, err):
		e.t.Fatalf("Resolve(%+v) = %s, %v; want not found", id, m.ID, err)
	}
	return m
}

// coupons counts a member's coupons.
func (e *env) coupons(memberID string) int {
	e.t.Helper()
	pg, err := e.deps.Coupons.List(context.Background(), coupons.ListQuery{MemberID: memberID, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(pg.Items)
}

// openReply decrypts an encrypted passive reply and returns its Content.
func openReply(t *testing.T, oa push.OA, body []byte) string {
	t.Helper()
	plain, err := oa.OpenReply(body)
	if err != nil {
		t.Fatalf("reply %q does not open: %v", body, err)
	}
	i, j := bytes.Index(plain, []byte("<Content><![CDATA[")), bytes.Index(plain, []byte("]]></Content>"))
	if i < 0 || j < i {
		t.Fatalf("reply without Content: %s", plain)
	}
	return string(plain[i+len("<Content><![CDATA[") : j])
}

// TestEndToEndOAScene: a follower who scans an inviter's scene QR becomes a
// member attributed to the scene with a pending attribution, is answered
// the welcome with the registration link (through the Lambda adapter), gets
// the registration coupon once, and is the same member when they log in to
// the mini-program later. A retried push gets the first answer; a later
// SCAN of another inviter's scene keeps the first touch; 会员 gets the link.
func TestEndToEndOAScene(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := pushEnv(t, b)
		ctx := context.Background()
		cfg := e.deps.Config
		oa := e.oa()
		scene, name := "inv-oa-"+b.Name, "oa-follower-"+b.Name
		inv := e.inviter("oa-inviter-"+b.Name, scene, member.Channel{Kind: "oa-qr", Value: "spring"})

		f := sim.Follow(cfg.OAAppID, name, scene)
		p, err := oa.Build(e.url("oa-callback"), push.OASubscribe(f.OpenID, scene))
		if err != nil {
			t.Fatal(err)
		}
		r := e.invokePush("oa-callback", "lambda-http-v2.json", p)
		if r.Status != http.StatusOK {
			t.Fatalf("subscribe: %d %s", r.Status, r.Body)
		}
		if got := openReply(t, oa, r.Body); !strings.Contains(got, cfg.RegisterURL) {
			t.Errorf("welcome reply %q lacks the register URL %s", got, cfg.RegisterURL)
		}
		m := e.resolve(member.Identity{Kind: member.OpenID, Scope: cfg.OAAppID, Value: f.OpenID}, true)
		if byUnion := e.resolve(member.Identity{Kind: member.UnionID, Value: f.UnionID}, true); byUnion.ID != m.ID {
			t.Fatalf("unionid member %s, openid member %s", byUnion.ID, m.ID)
		}
		if m.Channel.Kind != "oa-qr" || m.Channel.Value != "spring" || !m.Welcomed {
			t.Errorf("member channel %+v welcomed %v; want oa-qr/spring, welcomed", m.Channel, m.Welcomed)
		}
		pend, err := e.deps.Channels.PendingOf(ctx, m.ID)
		if err != nil || pend.Inviter != inv.ID || pend.Scene != scene || pend.Source != "oa-qr" {
			t.Errorf("pending = %+v, %v; want inviter %s scene %s", pend, err, inv.ID, scene)
		}
		fl, err := e.deps.Channels.FollowOf(ctx, m.ID, "oa:"+cfg.OAAppID)
		if err != nil || !fl.Active || fl.Scene != scene {
			t.Errorf("follow = %+v, %v; want active through %s", fl, err, scene)
		}
		if n := e.coupons(m.ID); n != 1 {
			t.Errorf("member has %d coupons, want the 1 registration coupon", n)
		}

		// WeChat retries the same push: the first answer, nothing new.
		if a := e.send(p); a.Status != http.StatusOK || !bytes.Equal(a.Body, r.Body) {
			t.Errorf("retry: %d %q; want the first answer", a.Status, a.Body)
		}
		if n := e.coupons(m.ID); n != 1 {
			t.Errorf("after retry %d coupons, want 1", n)
		}

		// The same person in the mini-program: the same member.
		if lr := e.login(name); lr.Created || lr.MemberID != m.ID {
			t.Errorf("mp-login: member %s created %v; want existing %s", lr.MemberID, lr.Created, m.ID)
		}

		// A later scan of another inviter's scene: acknowledged, first touch kept.
		other := "inv-oa2-" + b.Name
		e.inviter("oa-inviter2-"+b.Name, other, member.Channel{Kind: "oa-qr", Value: "autumn"})
		p2, _ := oa.Build(e.url("oa-callback"), push.OAScan(f.OpenID, other))
		if a := e.send(p2); a.Status != http.StatusOK || string(a.Body) != "success" {
			t.Errorf("SCAN: %d %q; want success", a.Status, a.Body)
		}
		if p2, _ := e.deps.Channels.PendingOf(ctx, m.ID); p2.Inviter != inv.ID {
			t.Errorf("pending inviter after a second scan = %s, want the first %s", p2.Inviter, inv.ID)
		}

		// Keyword reply.
		p3, _ := oa.Build(e.url("oa-callback"), push.OAText(f.OpenID, "我要会员", time.Now().UnixNano()))
		a := e.send(p3)
		if a.Status != http.StatusOK {
			t.Fatalf("text: %d %s", a.Status, a.Body)
		}
		if got := openReply(t, oa, a.Body); !strings.Contains(got, cfg.RegisterURL) {
			t.Errorf("keyword reply %q lacks the register URL", got)
		}
		p4, _ := oa.Build(e.url("oa-callback"), push.OAText(f.OpenID, "hello", time.Now().UnixNano()))
		if a := e.send(p4); string(a.Body) != "success" {
			t.Errorf("unmatched text answered %q, want success", a.Body)
		}
	})
}

// TestEndToEndOAVerifyAndUnsubscribe: the URL check echoes echostr; a plain
// follow (no scene) registers an "oa-follow" member; under the unlink rule
// an unsubscribe ends the follow and drops the openid, the member keeps its
// unionid.
func TestEndToEndOAVerifyAndUnsubscribe(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := pushEnv(t, b)
		ctx := context.Background()
		cfg := e.deps.Config
		oa := e.oa()

		v, _ := oa.VerifyURL(e.url("oa-callback"), "8346579215")
		if a := e.send(v); a.Status != http.StatusOK || string(a.Body) != "8346579215" {
			t.Errorf("verify: %d %q", a.Status, a.Body)
		}
		bad := v.WithQuery("signature", strings.Repeat("0", 40))
		if a := e.send(bad); a.Status != http.StatusUnauthorized || bytes.Contains(a.Body, []byte("8346579215")) {
			t.Errorf("verify with a bad signature: %d %q; want 401 without the echo", a.Status, a.Body)
		}

		mr, err := e.deps.Members.Rules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mr.Bind, mr.Unsubscribe = member.BindProgressive, member.UnsubscribeUnlink
		if _, err := e.deps.Members.SetRules(ctx, mr, "e2e-operator"); err != nil {
			t.Fatal(err)
		}
		f := sim.Follow(cfg.OAAppID, "oa-leaver-"+b.Name, "")
		p, _ := oa.Build(e.url("oa-callback"), push.OASubscribe(f.OpenID, ""))
		if a := e.send(p); a.Status != http.StatusOK {
			t.Fatalf("subscribe: %d %s", a.Status, a.Body)
		}
		openid := member.Identity{Kind: member.OpenID, Scope: cfg.OAAppID, Value: f.OpenID}
		m := e.resolve(openid, true)
		if m.Channel.Kind != "oa-follow" {
			t.Errorf("channel %+v, want oa-follow", m.Channel)
		}
		if _, err := e.deps.Channels.PendingOf(ctx, m.ID); !errs.Is(errs.NotExist, err) {
			t.Errorf("a plain follow left a pending attribution: %v", err)
		}

		sim.Unfollow(cfg.OAAppID, f.OpenID)
		u, _ := oa.Build(e.url("oa-callback"), push.OAUnsubscribe(f.OpenID))
		if a := e.send(u); a.Status != http.StatusOK || string(a.Body) != "success" {
			t.Fatalf("unsubscribe: %d %q", a.Status, a.Body)
		}
		e.resolve(openid, false)
		if left := e.resolve(member.Identity{Kind: member.UnionID, Value: f.UnionID}, true); left.ID != m.ID || left.Has(openid) {
			t.Errorf("after unlink: member %s identities %+v; want %s without the OA openid", left.ID, left.Identities, m.ID)
		}
		fl, err := e.deps.Channels.FollowOf(ctx, m.ID, "oa:"+cfg.OAAppID)
		if err != nil || fl.Active || fl.EndedAt.IsZero() {
			t.Errorf("follow after unsubscribe = %+v, %v; want ended", fl, err)
		}
	})
}

// TestEndToEndOAConcurrentCopies: three overlapping copies of the same
// subscribe, each with WeChat's retries, make one member with one
// attribution and one registration coupon, and every copy is answered.
func TestEndToEndOAConcurrentCopies(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := pushEnv(t, b)
		ctx := context.Background()
		cfg := e.deps.Config
		oa := e.oa()
		scene := "inv-oacc-" + b.Name
		inv := e.inviter("oacc-inviter-"+b.Name, scene, member.Channel{Kind: "oa-qr", Value: "burst"})
		f := sim.Follow(cfg.OAAppID, "oa-burst-"+b.Name, scene)
		p, _ := oa.Build(e.url("oa-callback"), push.OASubscribe(f.OpenID, scene))
		results := push.Sender{Client: e.http.Client()}.SendCopies(ctx, p, 3)
		for i, res := range results {
			if !res.OK() {
				t.Fatalf("copy %d not delivered: %+v", i+1, res.Attempts)
			}
			if got := openReply(t, oa, res.Last().Body); !strings.Contains(got, cfg.RegisterURL) {
				t.Errorf("copy %d answered %q", i+1, got)
			}
			// Each reply is sealed with a fresh nonce: equal bytes mean the
			// duplicates got the first run's stored answer.
			if !bytes.Equal(res.Last().Body, results[0].Last().Body) {
				t.Errorf("copy %d got its own answer, not the first one", i+1)
			}
		}
		m := e.resolve(member.Identity{Kind: member.OpenID, Scope: cfg.OAAppID, Value: f.OpenID}, true)
		if u := e.resolve(member.Identity{Kind: member.UnionID, Value: f.UnionID}, true); u.ID != m.ID {
			t.Fatalf("two members: %s and %s", m.ID, u.ID)
		}
		if n := e.coupons(m.ID); n != 1 {
			t.Errorf("%d registration coupons, want 1", n)
		}
		if pend, err := e.deps.Channels.PendingOf(ctx, m.ID); err != nil || pend.Inviter != inv.ID {
			t.Errorf("pending = %+v, %v", pend, err)
		}
	})
}

// TestEndToEndOARefused: pushes that are forged, for another account,
// undecryptable, malformed or oversized are refused with a clear 4xx and
// leave nothing behind.
func TestEndToEndOARefused(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := pushEnv(t, b)
		cfg := e.deps.Config
		oa := e.oa()
		target := e.url("oa-callback")
		build := func(oa push.OA, openid string) *push.Push {
			p, err := oa.Build(target, push.OASubscribe(openid, "inv-refused"))
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		wrap := func(openid, encrypt string) *push.Push {
			p, err := oa.Wrap(target, openid, nil, encrypt)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		encrypted := func(openid string) string {
			x, _ := oa.XML(push.OASubscribe(openid, ""))
			enc, err := oa.Encrypt(x)
			if err != nil {
				t.Fatal(err)
			}
			return enc
		}
		tests := []struct {
			name string
			push func(openid string) *push.Push
			want int
		}{
			{"wrong signature", func(o string) *push.Push { return build(oa, o).WithQuery("signature", strings.Repeat("a", 40)) }, 401},
			{"wrong msg_signature", func(o string) *push.Push { return build(oa, o).WithQuery("msg_signature", strings.Repeat("b", 40)) }, 401},
			{"no signature", func(o string) *push.Push { return build(oa, o).WithQuery("signature", "") }, 401},
			{"other token", func(o string) *push.Push { x := oa; x.Token = "not-our-token"; return build(x, o) }, 401},
			{"other appid", func(o string) *push.Push { x := oa; x.AppID = "wxoa0000000000000999"; return build(x, o) }, 401},
			{"stale timestamp", func(o string) *push.Push {
				x := oa
				x.Now = func() time.Time { return time.Now().Add(-time.Hour) }
				return build(x, o)
			}, 401},
			{"plain mode", func(o string) *push.Push { x := oa; x.Mode = push.Plain; return build(x, o) }, 401},
			{"bad padding", func(o string) *push.Push {
				enc, err := oa.EncryptRaw(bytes.Repeat([]byte{0x41}, 64))
				if err != nil {
					t.Fatal(err)
				}
				return wrap(o, enc)
			}, 400},
			{"truncated ciphertext", func(o string) *push.Push { enc := encrypted(o); return wrap(o, enc[:len(enc)-10]) }, 400},
			{"not base64", func(o string) *push.Push { return wrap(o, "!!!not*base64!!!") }, 400},
			{"malformed envelope XML", func(o string) *push.Push {
				p := build(oa, o)
				p.Body = []byte("<xml><ToUserName>gh_x</ToUserName><Encrypt>")
				return p
			}, 400},
			{"malformed message XML", func(o string) *push.Push {
				enc, err := oa.Encrypt([]byte("<xml><FromUserName>" + o + "</From"))
				if err != nil {
					t.Fatal(err)
				}
				return wrap(o, enc)
			}, 400},
			{"oversized body", func(o string) *push.Push {
				p := build(oa, o)
				p.Body = append(bytes.Repeat([]byte(" "), 300<<10), p.Body...)
				return p
			}, 413},
			{"beyond the body limit", func(o string) *push.Push {
				p := build(oa, o)
				p.Body = append(p.Body, bytes.Repeat([]byte(" "), 2<<20)...)
				return p
			}, 413},
		}
		for i, tt := range tests {
			openid := fmt.Sprintf("o-refused-%s-%02d", b.Name, i)
			a := e.send(tt.push(openid))
			if a.Status != tt.want {
				t.Errorf("%s: status %d %s; want %d", tt.name, a.Status, a.Body, tt.want)
			}
			var body struct {
				Error struct{ Message string } `json:"error"`
			}
			if err := json.Unmarshal(a.Body, &body); err != nil || body.Error.Message == "" {
				t.Errorf("%s: answer %q is not a clear error", tt.name, a.Body)
			}
			e.resolve(member.Identity{Kind: member.OpenID, Scope: cfg.OAAppID, Value: openid}, false)
		}
	})
}
