package oacallback_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wemember/wemember/functions/oa-callback/oacallback"
	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/idem"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/onboard"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/web"
	"github.com/wemember/wemember/shared/wechat"
	"github.com/wemember/wemember/shared/wxoa"
	"github.com/wemember/wemember/tests/wxsim/push"
)

// followers is a user/info that fails as told, or answers a unionid.
type followers struct {
	err   error
	block bool // Wait for the context to end, as a hung WeChat would.
	calls atomic.Int32
}

func (f *followers) UserInfo(ctx context.Context, openid string) (wechat.OAUser, error) {
	f.calls.Add(1)
	if f.block {
		<-ctx.Done()
		return wechat.OAUser{}, errs.E("fake.UserInfo", errs.Transient, ctx.Err())
	}
	if f.err != nil {
		return wechat.OAUser{}, f.err
	}
	return wechat.OAUser{OpenID: openid, UnionID: "u-" + openid, Subscribed: true}, nil
}

type fixture struct {
	h       web.Handler
	members *member.Service
	oa      push.OA
}

func newFixture(t *testing.T, f oacallback.Followers) fixture {
	t.Helper()
	st, err := bolt.Open(t.TempDir() + "/store.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	box, err := pii.New([]byte("test-data-key-0123456789abcdef-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	oa := push.DefaultOA()
	srv, err := wxoa.New(wxoa.Config{Token: oa.Token, EncodingAESKey: oa.EncodingAESKey, AppID: oa.AppID, RequireAES: true})
	if err != nil {
		t.Fatal(err)
	}
	members := member.NewService(st, box, time.Now, member.NewID)
	ch := channels.New(st, time.Now)
	h := &oacallback.Handler{
		Server: srv, AppID: oa.AppID, Followers: f, Members: members, Channels: ch,
		Onboard: &onboard.Service{Store: st, Members: members, Channels: ch},
		Guard:   idem.New(st, "oa", idem.Options{}), RegisterURL: "https://example.com/r",
	}
	return fixture{h: h.Mux().Serve, members: members, oa: oa}
}

func (fx fixture) subscribe(t *testing.T, openid string) (*web.Response, time.Duration, error) {
	t.Helper()
	p, err := fx.oa.Build("http://127.0.0.1/oa-callback", push.OASubscribe(openid, "spring"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := fx.h(context.Background(), web.NewRequest(http.MethodPost, p.URL.RequestURI(), p.Body))
	return resp, time.Since(start), err
}

// TestUnionIDLookupFailures: whatever user/info does — fail, refuse or hang
// — the follower is registered by openid and answered the welcome in time;
// when it answers, the unionid is linked.
func TestUnionIDLookupFailures(t *testing.T) {
	tests := []struct {
		name      string
		f         *followers
		wantUnion bool
	}{
		{"answers", &followers{}, true},
		{"busy", &followers{err: errs.E(errs.Transient, "busy")}, false},
		{"over quota", &followers{err: errs.E(errs.RateLimited, "quota")}, false},
		{"misconfigured", &followers{err: errs.E(errs.Internal, errors.New("40125 invalid appsecret"))}, false},
		{"hangs", &followers{block: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t, tt.f)
			openid := "o-" + strings.ReplaceAll(tt.name, " ", "-")
			resp, took, err := fx.subscribe(t, openid)
			if err != nil || resp.Status != http.StatusOK {
				t.Fatalf("subscribe = %+v, %v; want 200", resp, err)
			}
			if limit := oacallback.LookupTimeout + time.Second; took > limit {
				t.Errorf("answered in %v, want under %v", took, limit)
			}
			plain, err := fx.oa.OpenReply(resp.Body)
			if err != nil || !strings.Contains(string(plain), "https://example.com/r") {
				t.Errorf("reply %s (%v) lacks the welcome link", plain, err)
			}
			m, err := fx.members.Resolve(context.Background(), member.Identity{Kind: member.OpenID, Scope: fx.oa.AppID, Value: openid})
			if err != nil {
				t.Fatalf("member not registered: %v", err)
			}
			_, err = fx.members.Resolve(context.Background(), member.Identity{Kind: member.UnionID, Value: "u-" + openid})
			if got := err == nil; got != tt.wantUnion {
				t.Errorf("unionid linked = %v, want %v (member %+v)", got, tt.wantUnion, m.Identities)
			}
			if m.Channel.Kind != "oa-qr" || m.Channel.Value != "spring" {
				t.Errorf("channel = %+v, want oa-qr/spring", m.Channel)
			}
			if n := tt.f.calls.Load(); n != 1 {
				t.Errorf("user/info called %d times, want 1", n)
			}
		})
	}
}

// TestEveryOtherPushIsAcknowledged: events and messages the function does
// not act on are answered "success" and call nothing.
func TestEveryOtherPushIsAcknowledged(t *testing.T) {
	f := &followers{}
	fx := newFixture(t, f)
	for _, ev := range []push.OAEvent{
		{OpenID: "o-x", Event: "CLICK", EventKey: "MENU_1"},
		{OpenID: "o-x", Event: "VIEW", EventKey: "https://example.com"},
		{OpenID: "o-x", MsgType: "image", MsgID: 7},
		{OpenID: "o-x", Event: "unsubscribe"}, // Never a member: nothing to end.
	} {
		p, _ := fx.oa.Build("http://127.0.0.1/oa-callback", ev)
		resp, err := fx.h(context.Background(), web.NewRequest(http.MethodPost, p.URL.RequestURI(), p.Body))
		if err != nil || resp.Status != http.StatusOK || string(resp.Body) != "success" {
			t.Errorf("%s/%s: %+v, %v; want success", ev.MsgType, ev.Event, resp, err)
		}
	}
	if n := f.calls.Load(); n != 0 {
		t.Errorf("user/info called %d times, want 0", n)
	}
}

// TestKeywordReplyToAMember: 会员 from a follower who is not a member yet
// invites them to register; from a member it points to their card, never
// to the new-member gift.
func TestKeywordReplyToAMember(t *testing.T) {
	fx := newFixture(t, &followers{})
	text := func(openid string, n int64) string {
		t.Helper()
		p, err := fx.oa.Build("http://127.0.0.1/oa-callback", push.OAText(openid, "会员", n))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := fx.h(context.Background(), web.NewRequest(http.MethodPost, p.URL.RequestURI(), p.Body))
		if err != nil || resp.Status != http.StatusOK {
			t.Fatalf("text from %s = %+v, %v; want 200", openid, resp, err)
		}
		plain, err := fx.oa.OpenReply(resp.Body)
		if err != nil {
			t.Fatalf("reply to %s: %v", openid, err)
		}
		return string(plain)
	}
	if got := text("o-stranger", 1); !strings.Contains(got, "点击注册会员") || !strings.Contains(got, "https://example.com/r") {
		t.Errorf("reply to a follower who is not a member = %s; want the registration invitation with the link", got)
	}
	if resp, _, err := fx.subscribe(t, "o-member"); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("subscribe = %+v, %v", resp, err)
	}
	if got := text("o-member", 2); strings.Contains(got, "注册") || strings.Contains(got, "新人礼") ||
		!strings.Contains(got, "会员卡") || !strings.Contains(got, "https://example.com/r") {
		t.Errorf("reply to a member = %s; want the member card with the link, no registration or new-member gift", got)
	}
}
