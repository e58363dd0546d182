package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/tests/backends"
	"github.com/wemember/wemember/tests/wxsim"
	"github.com/wemember/wemember/tests/wxsim/push"
)

// welcomesFor lists the welcome messages the simulator recorded for one
// external contact.
func welcomesFor(corpID, externalUserID string) []wxsim.WelcomeMessage {
	var out []wxsim.WelcomeMessage
	for _, m := range sim.WelcomeMessages(corpID) {
		if m.ExternalUserID == externalUserID {
			out = append(out, m)
		}
	}
	return out
}

// sendWelcomeCalls counts the calls to send_welcome_msg the simulator saw.
func sendWelcomeCalls() int { return sim.Calls("/cgi-bin/externalcontact/send_welcome_msg") }

// TestEndToEndWeComAdd: a customer who adds a sales rep through a contact
// way whose state names an inviter becomes a member attributed to it with a
// pending attribution (through the SCF API Gateway adapter), follows the
// rep, gets the registration coupon and exactly one welcome message with
// the registration link, and is the same member in the mini-program. A
// retry, and another event carrying the same welcome code, send nothing
// more; an edit keeps the link; removing the rep ends the follow.
func TestEndToEndWeComAdd(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := pushEnv(t, b)
		ctx := context.Background()
		cfg := e.deps.Config
		wc := e.wecom()
		state, name, rep := "rep-li:spring-"+b.Name, "wecom-customer-"+b.Name, "lisi"
		inv := e.inviter("wecom-inviter-"+b.Name, state, member.Channel{Kind: "wecom", Value: "spring"})

		v, _ := wc.VerifyURL(e.url("wecom-callback"), []byte("echo-5729361048"))
		if a := e.send(v); a.Status != http.StatusOK || string(a.Body) != "echo-5729361048" {
			t.Errorf("verify: %d %q; want the echo byte-exact", a.Status, a.Body)
		}

		c, code := sim.AddContact(cfg.WeComCorpID, name, rep, state)
		calls := sendWelcomeCalls()
		ev := push.WeComAdd(rep, c.ExternalUserID, state)
		ev.WelcomeCode = code
		p, err := wc.Build(e.url("wecom-callback"), ev)
		if err != nil {
			t.Fatal(err)
		}
		r := e.invokePush("wecom-callback", "scf-apigw.json", p)
		if r.Status != http.StatusOK || string(r.Body) != "success" {
			t.Fatalf("add: %d %q", r.Status, r.Body)
		}
		ext := member.Identity{Kind: member.External, Scope: cfg.WeComCorpID, Value: c.ExternalUserID}
		m := e.resolve(ext, true)
		if u := e.resolve(member.Identity{Kind: member.UnionID, Value: c.UnionID}, true); u.ID != m.ID {
			t.Fatalf("unionid member %s, external member %s", u.ID, m.ID)
		}
		if m.Channel.Kind != "wecom" || m.Channel.Value != "spring" || !m.Welcomed {
			t.Errorf("channel %+v welcomed %v; want wecom/spring, welcomed", m.Channel, m.Welcomed)
		}
		if pend, err := e.deps.Channels.PendingOf(ctx, m.ID); err != nil || pend.Inviter != inv.ID || pend.Source != "wecom" || pend.Scene != state {
			t.Errorf("pending = %+v, %v; want inviter %s through %s", pend, err, inv.ID, state)
		}
		via := "wecom:" + cfg.WeComCorpID + ":" + rep
		if fl, err := e.deps.Channels.FollowOf(ctx, m.ID, via); err != nil || !fl.Active || fl.Scene != state {
			t.Errorf("follow = %+v, %v", fl, err)
		}
		if n := e.coupons(m.ID); n != 1 {
			t.Errorf("%d coupons, want the 1 registration coupon", n)
		}
		ws := welcomesFor(cfg.WeComCorpID, c.ExternalUserID)
		if len(ws) != 1 || ws[0].WelcomeCode != code || !strings.Contains(ws[0].Text, cfg.RegisterURL) {
			t.Fatalf("welcome messages = %+v; want one through %s with the register URL", ws, code)
		}

		// A retry, and another event with the same welcome code: nothing more.
		if a := e.send(p); a.Status != http.StatusOK {
			t.Errorf("retry: %d %s", a.Status, a.Body)
		}
		ev.CreateTime = time.Now().Unix() + 1
		p2, _ := wc.Build(e.url("wecom-callback"), ev)
		if a := e.send(p2); a.Status != http.StatusOK {
			t.Errorf("second event: %d %s", a.Status, a.Body)
		}
		if ws := welcomesFor(cfg.WeComCorpID, c.ExternalUserID); len(ws) != 1 {
			t.Errorf("%d welcome messages after duplicates, want 1", len(ws))
		}
		if n := sendWelcomeCalls() - calls; n != 1 {
			t.Errorf("send_welcome_msg called %d times, want once: the claim stops duplicates before WeCom", n)
		}
		if n := e.coupons(m.ID); n != 1 {
			t.Errorf("%d coupons after duplicates, want 1", n)
		}

		if lr := e.login(name); lr.Created || lr.MemberID != m.ID {
			t.Errorf("mp-login: member %s created %v; want existing %s", lr.MemberID, lr.Created, m.ID)
		}

		edit := push.WeComEvent{ChangeType: "edit_external_contact", UserID: rep, ExternalUserID: c.ExternalUserID}
		pe, _ := wc.Build(e.url("wecom-callback"), edit)
		if a := e.send(pe); a.Status != http.StatusOK {
			t.Errorf("edit: %d %s", a.Status, a.Body)
		}
		if again := e.resolve(ext, true); again.ID != m.ID {
			t.Errorf("after edit member %s, want %s", again.ID, m.ID)
		}

		sim.RemoveFollow(cfg.WeComCorpID, c.ExternalUserID, rep)
		pd, _ := wc.Build(e.url("wecom-callback"), push.WeComDelFollow(rep, c.ExternalUserID))
		if a := e.send(pd); a.Status != http.StatusOK || string(a.Body) != "success" {
			t.Errorf("del_follow_user: %d %q", a.Status, a.Body)
		}
		if fl, err := e.deps.Channels.FollowOf(ctx, m.ID, via); err != nil || fl.Active {
			t.Errorf("follow after removal = %+v, %v; want inactive", fl, err)
		}
	})
}

// TestEndToEndWeComConcurrentCopies: three overlapping copies of one add
// make one member, one attribution, one coupon and one welcome message.
func TestEndToEndWeComConcurrentCopies(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := pushEnv(t, b)
		ctx := context.Background()
		cfg := e.deps.Config
		state := "rep-wang:burst-" + b.Name
		inv := e.inviter("wecomcc-inviter-"+b.Name, state, member.Channel{Kind: "wecom", Value: "burst"})
		c, code := sim.AddContact(cfg.WeComCorpID, "wecom-burst-"+b.Name, "wangwu", state)
		ev := push.WeComAdd("wangwu", c.ExternalUserID, state)
		ev.WelcomeCode = code
		p, _ := e.wecom().Build(e.url("wecom-callback"), ev)
		calls := sendWelcomeCalls()
		for i, res := range (push.Sender{Client: e.http.Client()}).SendCopies(ctx, p, 3) {
			if !res.OK() || string(res.Last().Body) != "success" {
				t.Fatalf("copy %d: %+v", i+1, res.Attempts)
			}
		}
		m := e.resolve(member.Identity{Kind: member.External, Scope: cfg.WeComCorpID, Value: c.ExternalUserID}, true)
		if u := e.resolve(member.Identity{Kind: member.UnionID, Value: c.UnionID}, true); u.ID != m.ID {
			t.Fatalf("two members: %s and %s", m.ID, u.ID)
		}
		if ws := welcomesFor(cfg.WeComCorpID, c.ExternalUserID); len(ws) != 1 {
			t.Errorf("%d welcome messages, want 1", len(ws))
		}
		if n := sendWelcomeCalls() - calls; n != 1 {
			t.Errorf("send_welcome_msg called %d times, want once", n)
		}
		if n := e.coupons(m.ID); n != 1 {
			t.Errorf("%d coupons, want 1", n)
		}
		if pend, err := e.deps.Channels.PendingOf(ctx, m.ID); err != nil || pend.Inviter != inv.ID {
			t.Errorf("pending = %+v, %v", pend, err)
		}
	})
}

// TestEndToEndWeComRefused: callbacks that are forged, for another corp,
// undecryptable, malformed or oversized are refused with a clear 4xx; no
// member is registered and no welcome sent.
func TestEndToEndWeComRefused(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := pushEnv(t, b)
		cfg := e.deps.Config
		wc := e.wecom()
		target := e.url("wecom-callback")
		welcomes := len(sim.WelcomeMessages(cfg.WeComCorpID))
		build := func(w push.WeCom, ext string) *push.Push {
			p, err := w.Build(target, push.WeComAdd("lisi", ext, "refused"))
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		wrap := func(enc string) *push.Push {
			p, err := wc.Wrap(target, enc)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		tests := []struct {
			name string
			push func(ext string) *push.Push
			want int
		}{
			{"wrong msg_signature", func(x string) *push.Push { return build(wc, x).WithQuery("msg_signature", strings.Repeat("c", 40)) }, 401},
			{"no msg_signature", func(x string) *push.Push { return build(wc, x).WithQuery("msg_signature", "") }, 401},
			{"other corp id", func(x string) *push.Push { w := wc; w.CorpID = "ww00000000000000999"; return build(w, x) }, 401},
			{"other token", func(x string) *push.Push { w := wc; w.Token = "not-our-token"; return build(w, x) }, 401},
			{"stale timestamp", func(x string) *push.Push {
				w := wc
				w.Now = func() time.Time { return time.Now().Add(-time.Hour) }
				return build(w, x)
			}, 401},
			{"bad padding", func(string) *push.Push {
				enc, err := wc.EncryptRaw(bytes.Repeat([]byte{0x00}, 64))
				if err != nil {
					t.Fatal(err)
				}
				return wrap(enc)
			}, 400},
			{"truncated ciphertext", func(x string) *push.Push {
				plain, _ := wc.XML(push.WeComAdd("lisi", x, ""))
				enc, _ := wc.Encrypt(plain)
				return wrap(enc[:len(enc)-7])
			}, 400},
			{"not base64", func(string) *push.Push { return wrap("%%%not-base64%%%") }, 400},
			{"malformed envelope XML", func(x string) *push.Push {
				p := build(wc, x)
				p.Body = []byte("<xml><Encrypt><![CDATA[abc")
				return p
			}, 400},
			{"malformed event XML", func(x string) *push.Push {
				enc, _ := wc.Encrypt([]byte("<xml><ExternalUserID>" + x))
				return wrap(enc)
			}, 400},
			{"event without ids", func(string) *push.Push {
				plain, _ := wc.XML(push.WeComEvent{ChangeType: "add_external_contact", UserID: "lisi"})
				enc, _ := wc.Encrypt(plain)
				return wrap(enc)
			}, 400},
			{"oversized body", func(x string) *push.Push {
				p := build(wc, x)
				p.Body = append(bytes.Repeat([]byte(" "), 300<<10), p.Body...)
				return p
			}, 413},
		}
		for i, tt := range tests {
			ext := fmt.Sprintf("wm-refused-%s-%02d", b.Name, i)
			a := e.send(tt.push(ext))
			if a.Status != tt.want {
				t.Errorf("%s: status %d %s; want %d", tt.name, a.Status, a.Body, tt.want)
			}
			var body struct {
				Error struct{ Message string } `json:"error"`
			}
			if err := json.Unmarshal(a.Body, &body); err != nil || body.Error.Message == "" {
				t.Errorf("%s: answer %q is not a clear error", tt.name, a.Body)
			}
			if _, err := e.deps.Members.Resolve(context.Background(), member.Identity{Kind: member.External, Scope: cfg.WeComCorpID, Value: ext}); !errs.Is(errs.NotExist, err) {
				t.Errorf("%s: a member was registered (%v)", tt.name, err)
			}
		}
		if n := len(sim.WelcomeMessages(cfg.WeComCorpID)); n != welcomes {
			t.Errorf("%d welcome messages sent by refused callbacks", n-welcomes)
		}
	})
}
