package oacallback_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/functions/oa-callback/oacallback"
	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/idem"
	"github.com/wemember/wemember/shared/invite"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/onboard"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/web"
	"github.com/wemember/wemember/shared/wxoa"
	"github.com/wemember/wemember/tests/wxsim/push"
)

// redeemer records the redemptions asked of it and answers as told.
type redeemer struct {
	mu     sync.Mutex
	calls  []invite.RedeemCmd
	answer func(invite.RedeemCmd) (invite.Redemption, error)
}

func (r *redeemer) Redeem(_ context.Context, c invite.RedeemCmd) (invite.Redemption, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	return r.answer(c)
}

func (r *redeemer) taken() []invite.RedeemCmd {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

func bindsTo(inviter string) func(invite.RedeemCmd) (invite.Redemption, error) {
	return func(c invite.RedeemCmd) (invite.Redemption, error) {
		return invite.Redemption{Referral: invite.Referral{Member: c.Invitee, Inviter: inviter},
			Rewards: []invite.Reward{{Kind: "points", Member: c.Invitee, Points: 20}}}, nil
	}
}

type inviteFixture struct {
	h       web.Handler
	inv     *redeemer
	members *member.Service
	ch      *channels.Service
	box     *pii.Box
	oa      push.OA
}

func newInviteFixture(t *testing.T) inviteFixture {
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
	inv := &redeemer{answer: bindsTo("m-inviter")}
	h := &oacallback.Handler{
		Server: srv, AppID: oa.AppID, Followers: &followers{}, Members: members, Channels: ch,
		Onboard: &onboard.Service{Store: st, Members: members, Channels: ch,
			CodeID: func(text string) (string, bool) { return box.Hash("invite-code", text), true }},
		Guard: idem.New(st, "oa", idem.Options{}), RegisterURL: "https://example.com/r", Invites: inv,
	}
	return inviteFixture{h: h.Mux().Serve, inv: inv, members: members, ch: ch, box: box, oa: oa}
}

// send delivers a push and returns the answer's status and text (the
// reply's Content, or the plain "success").
func (fx inviteFixture) send(t *testing.T, p *push.Push) (int, string) {
	t.Helper()
	resp, err := fx.h(context.Background(), web.NewRequest(http.MethodPost, p.URL.RequestURI(), p.Body))
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if string(resp.Body) == wxoa.Success {
		return resp.Status, wxoa.Success
	}
	plain, err := fx.oa.OpenReply(resp.Body)
	if err != nil {
		t.Fatalf("reply %q: %v", resp.Body, err)
	}
	return resp.Status, string(plain)
}

func (fx inviteFixture) build(t *testing.T, ev push.OAEvent) *push.Push {
	t.Helper()
	p, err := fx.oa.Build("http://127.0.0.1/oa-callback", ev)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (fx inviteFixture) member(t *testing.T, openid string) member.Member {
	t.Helper()
	m, err := fx.members.Resolve(context.Background(), member.Identity{Kind: member.OpenID, Scope: fx.oa.AppID, Value: openid})
	if err != nil {
		t.Fatalf("member of %s: %v", openid, err)
	}
	return m
}

// TestSceneCodeIsRedeemed: a subscribe through an "inv_<code>" scene
// redeems the code for the new member, as its registration, and
// the welcome reply says the invitation bound; WeChat's retry gets that
// first answer and redeems nothing more. A later SCAN of a registered scene
// naming a code redeems it for the member as no registration; a scene
// naming only an inviter redeems nothing (its pending attribution waits).
func TestSceneCodeIsRedeemed(t *testing.T) {
	fx := newInviteFixture(t)
	ctx := context.Background()
	p := fx.build(t, push.OASubscribe("o-new", "inv_K7M2Q9"))
	status, text := fx.send(t, p)
	if status != http.StatusOK || !strings.Contains(text, "https://example.com/r") || !strings.Contains(text, "已接受好友邀请") {
		t.Fatalf("subscribe answered %d %s; want the welcome and the binding", status, text)
	}
	m := fx.member(t, "o-new")
	calls := fx.inv.taken()
	want := invite.RedeemCmd{Code: "K7M2Q9", Invitee: m.ID, Via: "oa-scene", Registration: true, Channel: "oa-qr"}
	if len(calls) != 1 || calls[0] != want {
		t.Fatalf("redeemed %+v; want [%+v]", calls, want)
	}
	if m.Channel.Value != channels.InviteScene {
		t.Errorf("member channel %+v; want the value %q, without the code", m.Channel, channels.InviteScene)
	}
	if pend, err := fx.ch.PendingOf(ctx, m.ID); err != nil || pend.CodeID != fx.box.Hash("invite-code", "K7M2Q9") || strings.Contains(pend.Scene+pend.Code, "K7M2Q9") {
		t.Errorf("pending = %+v, %v; want the code's id only", pend, err)
	}
	if s2, t2 := fx.send(t, p); s2 != status || t2 != text || len(fx.inv.taken()) != 0 {
		t.Errorf("retry answered %d %s; want the first answer and no redemption", s2, t2)
	}

	if _, err := fx.ch.Save(ctx, channels.Scene{ID: "autumn", Channel: member.Channel{Kind: "oa-qr", Value: "autumn"},
		Code: "REG23456"}, "ops"); err != nil {
		t.Fatal(err)
	}
	status, text = fx.send(t, fx.build(t, push.OAScan("o-new", "autumn")))
	calls = fx.inv.taken()
	if status != http.StatusOK || !strings.Contains(text, "已接受好友邀请") || strings.Contains(text, "https://example.com/r") {
		t.Errorf("SCAN answered %d %s; want the binding alone", status, text)
	}
	if len(calls) != 1 || calls[0].Code != "REG23456" || calls[0].CodeID != "" || calls[0].Registration {
		t.Errorf("SCAN redeemed %+v; want the registered code, no registration", calls)
	}

	if _, err := fx.ch.Save(ctx, channels.Scene{ID: "winter", Channel: member.Channel{Kind: "oa-qr"}, Inviter: "m-inviter"}, "ops"); err != nil {
		t.Fatal(err)
	}
	if status, text := fx.send(t, fx.build(t, push.OASubscribe("o-plain", "winter"))); status != http.StatusOK || strings.Contains(text, "邀请") {
		t.Errorf("inviter scene answered %d %s; want the welcome alone", status, text)
	}
	if calls := fx.inv.taken(); len(calls) != 0 {
		t.Errorf("an inviter scene redeemed %+v", calls)
	}
}

// TestSceneCodeRefused: a refused code is told briefly in the welcome
// reply, and the follower is a member all the same.
func TestSceneCodeRefused(t *testing.T) {
	fx := newInviteFixture(t)
	box, _ := pii.New([]byte("test-data-key-0123456789abcdef-0123456789"))
	_, refused := invite.New(nil, box, nil, nil, nil, time.Now, member.NewID).
		Redeem(context.Background(), invite.RedeemCmd{Code: "!", Invitee: "m-someone"})
	if _, ok := invite.ReasonOf(refused); !ok {
		t.Fatalf("no refusal to play: %v", refused)
	}
	fx.inv.answer = func(invite.RedeemCmd) (invite.Redemption, error) { return invite.Redemption{}, refused }
	status, text := fx.send(t, fx.build(t, push.OASubscribe("o-refused", "inv_NOPE2345")))
	if status != http.StatusOK || !strings.Contains(text, "https://example.com/r") || !strings.Contains(text, "邀请码无效") {
		t.Errorf("refused code answered %d %s; want the welcome and the refusal", status, text)
	}
	fx.member(t, "o-refused")
}

// TestSceneRedemptionFailures: a redemption that fails does not fail the
// follow: the follower is welcomed without a word about the invitation,
// the pending attribution keeps the code's id for the member's first login,
// and WeChat's retry gets that first answer without redeeming again.
func TestSceneRedemptionFailures(t *testing.T) {
	for _, kind := range []errs.Kind{errs.Transient, errs.Internal} {
		t.Run(kind.String(), func(t *testing.T) {
			fx := newInviteFixture(t)
			fx.inv.answer = func(invite.RedeemCmd) (invite.Redemption, error) {
				return invite.Redemption{}, errs.E(kind, errors.New("redemption failed"))
			}
			p := fx.build(t, push.OASubscribe("o-failed", "inv_K7M2Q9"))
			status, text := fx.send(t, p)
			if status != http.StatusOK || !strings.Contains(text, "https://example.com/r") || strings.Contains(text, "邀请") {
				t.Errorf("a failed redemption answered %d %s; want the welcome alone", status, text)
			}
			m := fx.member(t, "o-failed")
			if pend, err := fx.ch.PendingOf(context.Background(), m.ID); err != nil || pend.CodeID != fx.box.Hash("invite-code", "K7M2Q9") {
				t.Errorf("pending = %+v, %v; want the code's id for the first login", pend, err)
			}
			if n := len(fx.inv.taken()); n != 1 {
				t.Errorf("%d redemptions, want 1", n)
			}
			if s2, t2 := fx.send(t, p); s2 != status || t2 != text || len(fx.inv.taken()) != 0 {
				t.Errorf("retry answered %d %s; want the first answer, no redemption", s2, t2)
			}
		})
	}
}

// TestTextTokenIsRedeemed: a text message holding a text token (口令)
// redeems its code for the sender's member — a follower who is no member
// yet is registered by it, and that is the registration — and the reply
// says the outcome; a message without a token gets the keyword reply and
// redeems nothing; WeChat's retry of the message gets the first answer.
func TestTextTokenIsRedeemed(t *testing.T) {
	fx := newInviteFixture(t)
	p := fx.build(t, push.OAText("o-token", "【小店】复制这段话打开微信小程序，领取好友邀请礼 ￥K7M2Q9￥", 11))
	status, text := fx.send(t, p)
	m := fx.member(t, "o-token")
	calls := fx.inv.taken()
	want := invite.RedeemCmd{Code: "K7M2Q9", Invitee: m.ID, Via: "token", Registration: true, Channel: "token"}
	if status != http.StatusOK || !strings.Contains(text, "已接受好友邀请") || len(calls) != 1 || calls[0] != want {
		t.Fatalf("token answered %d %s after %+v; want the binding after [%+v]", status, text, calls, want)
	}
	if s2, t2 := fx.send(t, p); s2 != status || t2 != text || len(fx.inv.taken()) != 0 {
		t.Errorf("retry answered %d %s; want the first answer, no redemption", s2, t2)
	}
	status, text = fx.send(t, fx.build(t, push.OAText("o-token", "¥K7M2Q9¥ 再来一次", 12)))
	if calls := fx.inv.taken(); status != http.StatusOK || len(calls) != 1 || calls[0].Registration || calls[0].Invitee != m.ID {
		t.Errorf("a member's second token answered %d %s after %+v; want one redemption, no registration", status, text, calls)
	}
	if status, text := fx.send(t, fx.build(t, push.OAText("o-token", "会员", 13))); status != http.StatusOK || !strings.Contains(text, "会员卡") || len(fx.inv.taken()) != 0 {
		t.Errorf("keyword answered %d %s; want the member reply and no redemption", status, text)
	}
}
