package e2e_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/store/storetest"
	"github.com/wemember/wemember/tests/backends"
	"github.com/wemember/wemember/tests/wxsim"
	"github.com/wemember/wemember/tests/wxsim/push"
)

// What one request asks of the store on the arrival paths: every effect of
// a registration (the member, its identity index items, the registration
// coupon, the attribution, the follow) lands in one atomic write with the
// command's own records (the login's count, the push's idempotency record).
// Counted through the deployment's store, the same on every backend.

// warm reads the identity rules, which an instance keeps for
// member.RulesTTL, so a request's count does not depend on whether the
// previous one read them; it also makes the Official Account's and the
// WeCom corp's access tokens cached with a push each.
func (e *env) warm(t *testing.T, oa push.OA, wc push.WeCom, name string) {
	t.Helper()
	cfg := e.deps.Config
	f := sim.Follow(cfg.OAAppID, "warm-"+name, "")
	p, err := oa.Build(e.url("oa-callback"), push.OASubscribe(f.OpenID, ""))
	if err != nil {
		t.Fatal(err)
	}
	if a := e.send(p); a.Status != http.StatusOK {
		t.Fatalf("warm-up subscribe: %d %s", a.Status, a.Body)
	}
	c, _ := sim.AddContact(cfg.WeComCorpID, "warm-"+name, "warm-rep", "")
	pw, err := wc.Build(e.url("wecom-callback"), push.WeComAdd("warm-rep", c.ExternalUserID, ""))
	if err != nil {
		t.Fatal(err)
	}
	if a := e.send(pw); a.Status != http.StatusOK {
		t.Fatalf("warm-up add: %d %s", a.Status, a.Body)
	}
}

// rulesCached reads the identity rules now, so the next request finds them
// in the instance's cache.
func (e *env) rulesCached(t *testing.T) {
	t.Helper()
	if _, err := e.deps.Members.Rules(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.deps.Loyalty.Rules(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestEndToEndCommitsPerRequest asserts the writes, mutations and reads of
// a new member's login, a returning member's (the same hour and the next
// day), an Official Account subscribe of a new and of a known member, and
// a WeCom add of a new contact with a welcome message.
func TestEndToEndCommitsPerRequest(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := pushEnv(t, b)
		cfg := e.deps.Config
		oa, wc := e.oa(), e.wecom()
		oa.Now, wc.Now = e.clock.Now, e.clock.Now
		e.warm(t, oa, wc, b.Name)
		scene := "inv-commits-" + b.Name
		e.inviter("commits-inviter-"+b.Name, scene, member.Channel{Kind: "oa-qr", Value: "commits"})
		name := "commits-" + b.Name
		login := func() loginReply { return e.mpLogin(wxsim.OpenID(mpAppID, name), wxsim.UnionID(name)) }
		check := func(what string, got, want storetest.Counts) {
			t.Helper()
			if got != want {
				t.Errorf("%s asked the store %+v; want %+v", what, got, want)
			}
		}

		// The login count's look (1 query); both identities' index items;
		// the registration coupon's template (the loyalty rules naming it
		// are kept).
		// One write: the count, the profile, its activity item, two index
		// items and the coupon's six items.
		e.rulesCached(t)
		var first loginReply
		got := e.counted(func() { first = login() })
		check("a new member's login", got, storetest.Counts{Writes: 1, Mutations: 11, Gets: 3, Queries: 1})
		if !first.Created || e.coupons(first.MemberID) != 1 {
			t.Fatalf("new member's login: %+v with %d coupons; want created with the registration coupon", first, e.coupons(first.MemberID))
		}

		// The look, two index items and the profile; the count alone.
		got = e.counted(func() { login() })
		check("a returning member's login", got, storetest.Counts{Writes: 1, Mutations: 1, Gets: 3, Queries: 1})

		// The next day the activity index moves, in the count's write.
		e.clock.Advance(25 * time.Hour)
		e.rulesCached(t)
		got = e.counted(func() { login() })
		check("a returning member's login the next day", got, storetest.Counts{Writes: 1, Mutations: 4, Gets: 3, Queries: 1})

		// The push's record, the scene, the access token, both index items,
		// the coupon template and the welcome text (the loyalty rules are
		// kept). One
		// write: the record with its answer, the member (4 items), the coupon
		// (6), the follow and the pending attribution.
		e.rulesCached(t)
		f := sim.Follow(cfg.OAAppID, "commits-oa-"+b.Name, scene)
		p, err := oa.Build(e.url("oa-callback"), push.OASubscribe(f.OpenID, scene))
		if err != nil {
			t.Fatal(err)
		}
		got = e.counted(func() {
			if a := e.send(p); a.Status != http.StatusOK {
				t.Fatalf("subscribe: %d %s", a.Status, a.Body)
			}
		})
		check("a new member's subscribe", got, storetest.Counts{Writes: 1, Mutations: 13, Gets: 7})

		// The logged-in member follows: the record, the scene, the token,
		// two index items and the profile, the follow, the pending
		// attribution, the welcome text. One write: the record, the profile
		// and the Official Account openid's index item, the follow and the
		// attribution.
		e.rulesCached(t)
		known := sim.Follow(cfg.OAAppID, name, scene)
		pk, err := oa.Build(e.url("oa-callback"), push.OASubscribe(known.OpenID, scene))
		if err != nil {
			t.Fatal(err)
		}
		got = e.counted(func() {
			if a := e.send(pk); a.Status != http.StatusOK {
				t.Fatalf("known member's subscribe: %d %s", a.Status, a.Body)
			}
		})
		check("a known member's subscribe", got, storetest.Counts{Writes: 1, Mutations: 5, Gets: 9})
		if m := e.resolve(member.Identity{Kind: member.OpenID, Scope: cfg.OAAppID, Value: known.OpenID}, true); m.ID != first.MemberID {
			t.Errorf("the follower is member %s, want the logged-in %s", m.ID, first.MemberID)
		}

		// The record, the token, the welcome text, the scene, both index
		// items and the template (the loyalty rules are kept). Two writes: the member,
		// coupon, attribution, follow and welcome-code claim with the record
		// holding the event; then, the message sent, the record's answer.
		e.rulesCached(t)
		c, code := sim.AddContact(cfg.WeComCorpID, "commits-wecom-"+b.Name, "commits-rep", scene)
		ev := push.WeComAdd("commits-rep", c.ExternalUserID, scene)
		ev.WelcomeCode = code
		pw, err := wc.Build(e.url("wecom-callback"), ev)
		if err != nil {
			t.Fatal(err)
		}
		got = e.counted(func() {
			if a := e.send(pw); a.Status != http.StatusOK {
				t.Fatalf("add: %d %s", a.Status, a.Body)
			}
		})
		check("a new contact's add", got, storetest.Counts{Writes: 2, Mutations: 15, Gets: 8})
		if ws := welcomesFor(cfg.WeComCorpID, c.ExternalUserID); len(ws) != 1 {
			t.Errorf("%d welcome messages, want 1", len(ws))
		}
	})
}

// TestEndToEndFailedWriteLeavesNothing: a subscribe whose one write fails
// answers an error WeChat retries and leaves nothing behind — no member,
// no coupon, no record of the push — so the retry registers the member
// once, with one coupon; a login whose write fails is the same.
func TestEndToEndFailedWriteLeavesNothing(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := pushEnv(t, b)
		cfg := e.deps.Config
		oa := e.oa()
		oa.Now = e.clock.Now
		// The write that issues the registration coupon fails, as a crash
		// at its commit would; the login's count, written alone after the
		// failure, goes through.
		disk := errors.New("disk unplugged")
		failing := func(_ context.Context, ms []store.Mutation) error {
			for _, m := range ms {
				if strings.HasPrefix(m.Key.PK, "ctpl#") { // A coupon stock counter.
					return errs.E("store.Write", errs.Transient, disk)
				}
			}
			return nil
		}

		f := sim.Follow(cfg.OAAppID, "crash-oa-"+b.Name, "crash")
		p, err := oa.Build(e.url("oa-callback"), push.OASubscribe(f.OpenID, "crash"))
		if err != nil {
			t.Fatal(err)
		}
		e.store.BeforeWrite = failing
		a := e.send(p)
		e.store.BeforeWrite = nil
		if a.Status < 500 {
			t.Fatalf("subscribe on a failing store: %d %s; want a 5xx WeChat retries", a.Status, a.Body)
		}
		openid := member.Identity{Kind: member.OpenID, Scope: cfg.OAAppID, Value: f.OpenID}
		e.resolve(openid, false)
		e.resolve(member.Identity{Kind: member.UnionID, Value: f.UnionID}, false)
		// No record of the push holds it: the retry runs and is answered.
		if a := e.send(p); a.Status != http.StatusOK || !strings.Contains(openReply(t, oa, a.Body), cfg.RegisterURL) {
			t.Fatalf("retry: %d %s; want the welcome", a.Status, a.Body)
		}
		m := e.resolve(openid, true)
		if n := e.coupons(m.ID); n != 1 || !m.Welcomed {
			t.Errorf("after the retry: %d coupons, welcomed %v; want 1, welcomed", n, m.Welcomed)
		}

		name := "crash-login-" + b.Name
		code := sim.LoginCode(mpAppID, wxsim.OpenID(mpAppID, name), wxsim.UnionID(name))
		e.store.BeforeWrite = failing
		r := e.do("POST", "/mp-login", "", []byte(`{"code":"`+code+`"}`))
		e.store.BeforeWrite = nil
		if r.Status < 500 {
			t.Fatalf("login on a failing store: %d %s; want a 5xx", r.Status, r.Body)
		}
		e.resolve(member.Identity{Kind: member.OpenID, Scope: mpAppID, Value: wxsim.OpenID(mpAppID, name)}, false)
		if lr := e.login(name); !lr.Created || e.coupons(lr.MemberID) != 1 {
			t.Errorf("login after the failure: %+v with %d coupons; want a new member with 1", lr, e.coupons(lr.MemberID))
		}
	})
}
