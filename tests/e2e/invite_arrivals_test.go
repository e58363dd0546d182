package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/codes"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/invite"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/tests/backends"
	"github.com/wemember/wemember/tests/wxsim"
	"github.com/wemember/wemember/tests/wxsim/push"
)

// Invitation codes arriving through every channel — an Official Account
// scene, a WeCom contact-way state, a mini-program launch scene, a text
// token — run the one redemption, through the real platform adapters and
// the simulator, on every backend.

// invitedLogin is mp-login's answer with what became of its invitation.
type invitedLogin struct {
	MemberID string `json:"member_id"`
	Created  bool   `json:"created"`
	Invite   *struct {
		Bound         bool   `json:"bound"`
		InviterMasked string `json:"inviter_masked"`
		Refused       string `json:"refused"`
		Failed        bool   `json:"failed"`
		Rewards       []struct {
			Kind   string `json:"kind"`
			Mine   bool   `json:"mine"`
			Points int64  `json:"points"`
		} `json:"rewards"`
	} `json:"invite"`
}

// loginWith logs the person name in to the mini-program over HTTP with the
// request's other fields.
func (e *env) loginWith(name string, fields map[string]any) invitedLogin {
	e.t.Helper()
	body := map[string]any{"code": sim.LoginCode(mpAppID, wxsim.OpenID(mpAppID, name), wxsim.UnionID(name))}
	for k, v := range fields {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	r := e.do("POST", "/mp-login", "", b)
	if r.Status != http.StatusOK {
		e.t.Fatalf("login %s %s: %d %s", name, b, r.Status, r.Body)
	}
	var got invitedLogin
	r.decode(e.t, &got)
	return got
}

// ownCode is a member's own mini-program share code, as text.
func (e *env) ownCode(memberID string) string {
	e.t.Helper()
	_, text, err := e.deps.Invites.OwnCode(context.Background(), memberID, invite.KindMPShare, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return text
}

// boundTo asserts that the member's stored referral names the inviter,
// through via, registered.
func (e *env) boundTo(memberID, inviter, via string) {
	e.t.Helper()
	r, err := e.deps.Invites.ReferralOf(context.Background(), memberID)
	if err != nil || r.Inviter != inviter || r.Via != via || r.Status != invite.StatusRegistered {
		e.t.Errorf("referral of %s = %+v, %v; want bound to %s via %s, registered", memberID, r, err, inviter, via)
	}
}

// unbound asserts that the member has no referral.
func (e *env) unbound(memberID string) {
	e.t.Helper()
	if r, err := e.deps.Invites.ReferralOf(context.Background(), memberID); !errs.Is(errs.NotExist, err) {
		e.t.Errorf("referral of %s = %+v, %v; want none", memberID, r, err)
	}
}

// earned is a member's lifetime points.
func (e *env) earned(memberID string) int64 {
	e.t.Helper()
	bal, err := e.deps.Loyalty.Balance(context.Background(), memberID)
	if err != nil {
		e.t.Fatal(err)
	}
	return bal.Earned
}

// invitees counts an inviter's invitees.
func (e *env) invitees(inviter string) int {
	e.t.Helper()
	list, _, err := e.deps.Invites.Invitees(context.Background(), inviter, "", 50)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(list)
}

// TestInviteArrivalsBindOnce: alice's one code reaches bob as an Official
// Account scene (the Lambda adapter), carol as a WeCom contact-way state
// (the SCF adapter), dave and lena as a mini-program launch scene
// ("inv_<code>" URL-encoded, and the bare code) and ivan as a pasted text
// token; each is bound to alice exactly once, as its
// registration, and both sides earn the registration points once. Every
// duplicate — WeChat's retried push, WeCom's redelivered event, a second
// login with the same scene — gets the first answer and binds nothing more.
func TestInviteArrivalsBindOnce(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := pushEnv(t, b)
		cfg := e.deps.Config
		oa, wc := e.oa(), e.wecom()
		rewards := invite.DefaultRules().Rewards
		alice := e.loginWith("alice-inv-"+b.Name, map[string]any{"nickname": "爱丽丝"})
		text := e.ownCode(alice.MemberID)
		scene := channels.InvitePrefix + text
		before := e.earned(alice.MemberID)

		// The Official Account: a subscribe through the scene.
		f := sim.Follow(cfg.OAAppID, "bob-inv-"+b.Name, scene)
		p, err := oa.Build(e.url("oa-callback"), push.OASubscribe(f.OpenID, scene))
		if err != nil {
			t.Fatal(err)
		}
		r := e.invokePush("oa-callback", "lambda-http-v2.json", p)
		if r.Status != http.StatusOK {
			t.Fatalf("subscribe: %d %s", r.Status, r.Body)
		}
		if got := openReply(t, oa, r.Body); !strings.Contains(got, cfg.RegisterURL) || !strings.Contains(got, "已接受好友邀请") {
			t.Errorf("subscribe reply %q; want the welcome and the binding", got)
		}
		bob := e.resolve(member.Identity{Kind: member.OpenID, Scope: cfg.OAAppID, Value: f.OpenID}, true)
		e.boundTo(bob.ID, alice.MemberID, "oa-scene")
		if a := e.send(p); a.Status != http.StatusOK || !bytes.Equal(a.Body, r.Body) {
			t.Errorf("retried subscribe: %d %q; want the first answer", a.Status, a.Body)
		}

		// WeCom: an add through a contact way whose state is the scene.
		c, code := sim.AddContact(cfg.WeComCorpID, "carol-inv-"+b.Name, "rep-inv", scene)
		ev := push.WeComAdd("rep-inv", c.ExternalUserID, scene)
		ev.WelcomeCode = code
		pw, err := wc.Build(e.url("wecom-callback"), ev)
		if err != nil {
			t.Fatal(err)
		}
		if r := e.invokePush("wecom-callback", "scf-apigw.json", pw); r.Status != http.StatusOK || string(r.Body) != "success" {
			t.Fatalf("add: %d %q", r.Status, r.Body)
		}
		carol := e.resolve(member.Identity{Kind: member.External, Scope: cfg.WeComCorpID, Value: c.ExternalUserID}, true)
		e.boundTo(carol.ID, alice.MemberID, "wecom-state")
		if a := e.send(pw); a.Status != http.StatusOK || string(a.Body) != "success" {
			t.Errorf("redelivered add: %d %q", a.Status, a.Body)
		}

		// The mini-program: a first login from the code's launch scene, as
		// WeChat hands it over (URL-encoded), then a second one.
		encoded := strings.Replace(scene, "_", "%5F", 1)
		dave := e.loginWith("dave-inv-"+b.Name, map[string]any{"scene": encoded})
		if dave.Invite == nil || !dave.Invite.Bound || dave.Invite.InviterMasked != "爱**" || !dave.Created {
			t.Fatalf("dave's login: %+v; want created and bound to 爱**", dave)
		}
		mine := int64(0)
		for _, rw := range dave.Invite.Rewards {
			if rw.Mine && rw.Kind == invite.RewardPoints {
				mine += rw.Points
			}
		}
		if mine != rewards.InviteePoints {
			t.Errorf("dave's own points in the answer %d, want %d", mine, rewards.InviteePoints)
		}
		e.boundTo(dave.MemberID, alice.MemberID, "mp-scene")
		if again := e.loginWith("dave-inv-"+b.Name, map[string]any{"scene": encoded}); again.Created || again.Invite == nil || !again.Invite.Bound {
			t.Errorf("dave's second login: %+v; want the first answer, bound", again)
		}

		// A mini-program code whose scene is the bare code (member-api's).
		lena := e.loginWith("lena-inv-"+b.Name, map[string]any{"scene": text})
		if lena.Invite == nil || !lena.Invite.Bound {
			t.Fatalf("lena's login: %+v; want bound", lena)
		}
		e.boundTo(lena.MemberID, alice.MemberID, "mp-scene")

		// A pasted text token at first login.
		ivan := e.loginWith("ivan-inv-"+b.Name, map[string]any{"token": "看这里👉 " + codes.Token(text, "小店") + " 快来"})
		if ivan.Invite == nil || !ivan.Invite.Bound {
			t.Fatalf("ivan's login: %+v; want bound", ivan)
		}
		e.boundTo(ivan.MemberID, alice.MemberID, "token")

		if n := e.invitees(alice.MemberID); n != 5 {
			t.Errorf("alice has %d invitees, want 5: bob, carol, dave, lena, ivan once each", n)
		}
		if got, want := e.earned(alice.MemberID)-before, 5*rewards.InviterPoints; got != want {
			t.Errorf("alice earned %d points, want %d: the registration points once per invitee", got, want)
		}
		for who, id := range map[string]string{"bob": bob.ID, "carol": carol.ID, "dave": dave.MemberID, "lena": lena.MemberID, "ivan": ivan.MemberID} {
			if got := e.earned(id); got != rewards.InviteePoints {
				t.Errorf("%s earned %d points, want %d once", who, got, rewards.InviteePoints)
			}
		}
	})
}

// TestInviteArrivalsBindModeRegistration: under the bind mode
// "registration", erin — a member already — is refused the code at a later
// login (the login still succeeds, and nothing is bound) and through an
// Official Account scene (the reply says why); frank is bound at his first
// login, and so is gina, whom an Official Account follow made a member,
// at her first mini-program login.
func TestInviteArrivalsBindModeRegistration(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := pushEnv(t, b)
		ctx := context.Background()
		cfg := e.deps.Config
		oa := e.oa()
		rules, err := e.deps.Invites.Rules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rules.Bind = invite.BindRegistration
		if _, err := e.deps.Invites.SetRules(ctx, rules, "e2e-operator"); err != nil {
			t.Fatal(err)
		}
		alice := e.loginWith("alice-reg-"+b.Name, nil)
		text := e.ownCode(alice.MemberID)

		erin := e.loginWith("erin-reg-"+b.Name, nil)
		late := e.loginWith("erin-reg-"+b.Name, map[string]any{"invite_code": text})
		if late.MemberID != erin.MemberID || late.Created || late.Invite == nil || late.Invite.Refused != string(invite.ReasonNotAtRegistration) {
			t.Errorf("erin's later login: %+v; want logged in, refused %s", late, invite.ReasonNotAtRegistration)
		}
		f := sim.Follow(cfg.OAAppID, "erin-reg-"+b.Name, channels.InvitePrefix+text)
		p, err := oa.Build(e.url("oa-callback"), push.OASubscribe(f.OpenID, channels.InvitePrefix+text))
		if err != nil {
			t.Fatal(err)
		}
		a := e.send(p)
		if got := openReply(t, oa, a.Body); a.Status != http.StatusOK || !strings.Contains(got, "仅限新会员注册时使用") {
			t.Errorf("erin's subscribe: %d %q; want the refusal's reason", a.Status, got)
		}
		if m := e.resolve(member.Identity{Kind: member.OpenID, Scope: cfg.OAAppID, Value: f.OpenID}, true); m.ID != erin.MemberID {
			t.Fatalf("the follower is %s, want erin %s", m.ID, erin.MemberID)
		}
		e.unbound(erin.MemberID)

		frank := e.loginWith("frank-reg-"+b.Name, map[string]any{"invite_code": "\u3000" + text[:4] + " " + text[4:] + " "})
		if !frank.Created || frank.Invite == nil || !frank.Invite.Bound {
			t.Errorf("frank's first login: %+v, invite %+v; want created and bound", frank, frank.Invite)
		}
		e.boundTo(frank.MemberID, alice.MemberID, "login")

		g := sim.Follow(cfg.OAAppID, "gina-reg-"+b.Name, "")
		pg, err := oa.Build(e.url("oa-callback"), push.OASubscribe(g.OpenID, ""))
		if err != nil {
			t.Fatal(err)
		}
		if a := e.send(pg); a.Status != http.StatusOK {
			t.Fatalf("gina's subscribe: %d %s", a.Status, a.Body)
		}
		gina := e.loginWith("gina-reg-"+b.Name, map[string]any{"invite_code": text})
		follower := e.resolve(member.Identity{Kind: member.OpenID, Scope: cfg.OAAppID, Value: g.OpenID}, true)
		if gina.Created || gina.MemberID != follower.ID || gina.Invite == nil || !gina.Invite.Bound {
			t.Errorf("gina's first mini-program login: %+v; want the follower %s, bound", gina, follower.ID)
		}
		e.boundTo(gina.MemberID, alice.MemberID, "login")
		if n := e.invitees(alice.MemberID); n != 2 {
			t.Errorf("alice has %d invitees, want 2: frank and gina", n)
		}
	})
}

// TestInviteArrivalsPendingAtFirstLogin: a follow through a scene that
// names an inviter (not a code) leaves a pending attribution; the
// follower's first mini-program login redeems it through the inviter's own
// code, as the follow's channel, and later logins redeem nothing. A member
// bound by a scan before registering (invited) is registered, with its
// rewards, at the first login.
func TestInviteArrivalsPendingAtFirstLogin(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := pushEnv(t, b)
		cfg := e.deps.Config
		oa := e.oa()
		scene := "inv-pend-" + b.Name
		inv := e.inviter("pend-inviter-"+b.Name, scene, member.Channel{Kind: "oa-qr", Value: "pend"})
		f := sim.Follow(cfg.OAAppID, "heidi-pend-"+b.Name, scene)
		p, err := oa.Build(e.url("oa-callback"), push.OASubscribe(f.OpenID, scene))
		if err != nil {
			t.Fatal(err)
		}
		if a := e.send(p); a.Status != http.StatusOK {
			t.Fatalf("subscribe: %d %s", a.Status, a.Body)
		}
		heidi := e.resolve(member.Identity{Kind: member.OpenID, Scope: cfg.OAAppID, Value: f.OpenID}, true)
		e.unbound(heidi.ID)

		first := e.loginWith("heidi-pend-"+b.Name, nil)
		if first.MemberID != heidi.ID || first.Created || first.Invite == nil || !first.Invite.Bound {
			t.Fatalf("heidi's first login: %+v; want the follower %s, bound", first, heidi.ID)
		}
		e.boundTo(heidi.ID, inv.ID, "oa-scene")
		if again := e.loginWith("heidi-pend-"+b.Name, nil); again.Invite != nil {
			t.Errorf("heidi's second login: %+v; want no invitation", again.Invite)
		}
		if n := e.invitees(inv.ID); n != 1 {
			t.Errorf("the inviter has %d invitees, want 1", n)
		}

		// ivy is a member through WeCom before she scans alice's code: the
		// scan binds her, invited, not registered; her first mini-program
		// login registers the invitation and its points are earned then.
		rewards := invite.DefaultRules().Rewards
		alice := e.loginWith("alice-pend-"+b.Name, nil)
		code := channels.InvitePrefix + e.ownCode(alice.MemberID)
		c, _ := sim.AddContact(cfg.WeComCorpID, "ivy-pend-"+b.Name, "rep-pend", "")
		pw, err := e.wecom().Build(e.url("wecom-callback"), push.WeComAdd("rep-pend", c.ExternalUserID, ""))
		if err != nil {
			t.Fatal(err)
		}
		if a := e.send(pw); a.Status != http.StatusOK {
			t.Fatalf("ivy's add: %d %s", a.Status, a.Body)
		}
		ivy := e.resolve(member.Identity{Kind: member.External, Scope: cfg.WeComCorpID, Value: c.ExternalUserID}, true)
		fi := sim.Follow(cfg.OAAppID, "ivy-pend-"+b.Name, code)
		pi, err := oa.Build(e.url("oa-callback"), push.OAScan(fi.OpenID, code))
		if err != nil {
			t.Fatal(err)
		}
		if a := e.send(pi); a.Status != http.StatusOK {
			t.Fatalf("ivy's scan: %d %s", a.Status, a.Body)
		}
		if r, err := e.deps.Invites.ReferralOf(context.Background(), ivy.ID); err != nil || r.Inviter != alice.MemberID || r.Status != invite.StatusInvited {
			t.Fatalf("ivy after the scan: %+v, %v; want bound to alice, invited", r, err)
		}
		before := e.earned(alice.MemberID)
		if l := e.loginWith("ivy-pend-"+b.Name, nil); l.MemberID != ivy.ID || l.Created || l.Invite == nil || !l.Invite.Bound {
			t.Fatalf("ivy's first login: %+v; want ivy, bound", l)
		}
		e.boundTo(ivy.ID, alice.MemberID, "oa-scene")
		if got := e.earned(alice.MemberID) - before; got != rewards.InviterPoints {
			t.Errorf("alice earned %d at ivy's registration, want %d", got, rewards.InviterPoints)
		}
		e.loginWith("ivy-pend-"+b.Name, nil)
		if got := e.earned(alice.MemberID) - before; got != rewards.InviterPoints {
			t.Errorf("alice earned %d after ivy's second login, want %d once", got, rewards.InviterPoints)
		}
	})
}

// TestInviteArrivalsConcurrentCopies: three overlapping copies of a
// subscribe through a code's scene bind the follower once, earn the
// registration points once on each side, and all answer the same reply.
func TestInviteArrivalsConcurrentCopies(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := pushEnv(t, b)
		ctx := context.Background()
		cfg := e.deps.Config
		oa := e.oa()
		rewards := invite.DefaultRules().Rewards
		alice := e.loginWith("alice-burst-"+b.Name, nil)
		scene := channels.InvitePrefix + e.ownCode(alice.MemberID)
		before := e.earned(alice.MemberID)
		f := sim.Follow(cfg.OAAppID, "kate-burst-"+b.Name, scene)
		p, err := oa.Build(e.url("oa-callback"), push.OASubscribe(f.OpenID, scene))
		if err != nil {
			t.Fatal(err)
		}
		var first []byte
		for i, res := range (push.Sender{Client: e.http.Client()}).SendCopies(ctx, p, 3) {
			if !res.OK() {
				t.Fatalf("copy %d: %+v", i+1, res.Attempts)
			}
			body := res.Last().Body
			if got := openReply(t, oa, body); !strings.Contains(got, "已接受好友邀请") {
				t.Errorf("copy %d answered %q; want the binding", i+1, got)
			}
			if first == nil {
				first = body
			} else if !bytes.Equal(body, first) {
				t.Errorf("copy %d answered another reply than the first", i+1)
			}
		}
		kate := e.resolve(member.Identity{Kind: member.OpenID, Scope: cfg.OAAppID, Value: f.OpenID}, true)
		e.boundTo(kate.ID, alice.MemberID, "oa-scene")
		if n := e.invitees(alice.MemberID); n != 1 {
			t.Errorf("alice has %d invitees, want 1", n)
		}
		if got := e.earned(alice.MemberID) - before; got != rewards.InviterPoints {
			t.Errorf("alice earned %d, want %d once", got, rewards.InviterPoints)
		}
		if got := e.earned(kate.ID); got != rewards.InviteePoints {
			t.Errorf("kate earned %d, want %d once", got, rewards.InviteePoints)
		}
	})
}
