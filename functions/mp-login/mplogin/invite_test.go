package mplogin_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/functions/mp-login/mplogin"
	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/invite"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/onboard"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/session"
	"github.com/wemember/wemember/shared/web"
	"github.com/wemember/wemember/shared/wxuser"
)

const appID = "wx-mp"

// miniProgram answers code2session: the code "x" is the person x.
type miniProgram struct{}

func (miniProgram) AppID() string { return appID }
func (miniProgram) Code2Session(_ context.Context, code string) (wxuser.Session, error) {
	return wxuser.Session{OpenID: "o-" + code, UnionID: "u-" + code}, nil
}
func (miniProgram) PhoneNumber(context.Context, string) (pii.Phone, error) {
	return pii.Phone{}, errs.E(errs.Invalid, "no phone here")
}

// redeemer records the redemptions asked of it and answers as told.
type redeemer struct {
	mu         sync.Mutex
	calls      []invite.RedeemCmd
	registered []string
	answer     func(invite.RedeemCmd) (invite.Redemption, error)
}

func (r *redeemer) Redeem(_ context.Context, c invite.RedeemCmd) (invite.Redemption, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	if r.answer == nil {
		return invite.Redemption{}, errs.E(errs.Internal, "no answer")
	}
	return r.answer(c)
}

// OwnCode is the inviter's own code, "own-<inviter>".
func (r *redeemer) OwnCode(_ context.Context, memberID string, kind invite.Kind, _ string) (invite.Code, string, error) {
	return invite.Code{ID: "own-" + memberID, Owner: memberID, Kind: kind}, "OWNCODE", nil
}

func (r *redeemer) Registered(_ context.Context, memberID string) (invite.Referral, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.registered = append(r.registered, memberID)
	return invite.Referral{}, errs.E(errs.NotExist, "the member has no inviter")
}

func (r *redeemer) taken() []invite.RedeemCmd {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

type loginFixture struct {
	h       *mplogin.Handler
	inv     *redeemer
	members *member.Service
	ch      *channels.Service
	ob      *onboard.Service
	box     *pii.Box
}

func newLoginFixture(t *testing.T) loginFixture {
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
	sessions, err := session.NewIssuer([]byte("session-secret-0123456789abcdef-01234"), time.Hour, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	members := member.NewService(st, box, time.Now, member.NewID)
	ch := channels.New(st, time.Now)
	ob := &onboard.Service{Store: st, Members: members, Channels: ch,
		CodeID: func(text string) (string, bool) { return box.Hash("invite-code", text), true }}
	inv := &redeemer{}
	h := &mplogin.Handler{MP: miniProgram{}, Members: members, Onboard: ob, Sessions: sessions,
		Invites: inv, Channels: ch, Hash: box.Hash}
	return loginFixture{h: h, inv: inv, members: members, ch: ch, ob: ob, box: box}
}

// loginAnswer is the login's answer as a client reads it.
type loginAnswer struct {
	MemberID string              `json:"member_id"`
	Created  bool                `json:"created"`
	Invite   *mplogin.Invitation `json:"invite"`
}

// login posts body to the handler from the address ip and decodes the answer.
func (fx loginFixture) login(t *testing.T, body map[string]any, ip string) loginAnswer {
	t.Helper()
	b, _ := json.Marshal(body)
	r := web.NewRequest(http.MethodPost, "/mp-login", b)
	r.RemoteIP = ip
	resp, err := fx.h.Login(context.Background(), r)
	if err != nil {
		t.Fatalf("login %s: %v", b, err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("login %s: %d %s", b, resp.Status, resp.Body)
	}
	var a loginAnswer
	if err := json.Unmarshal(resp.Body, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// refusal is a refusal as the invitation service makes it: of a code no
// code can be, refused before anything is read or written.
func refusal(t *testing.T) error {
	t.Helper()
	box, _ := pii.New([]byte("test-data-key-0123456789abcdef-0123456789"))
	svc := invite.New(nil, box, nil, nil, nil, time.Now, member.NewID)
	_, err := svc.Redeem(context.Background(), invite.RedeemCmd{Code: "!", Invitee: "m-someone"})
	if r, ok := invite.ReasonOf(err); !ok || r != invite.ReasonUnknown {
		t.Fatalf("Redeem(\"!\") = %v; want refused %s", err, invite.ReasonUnknown)
	}
	return err
}

// inviter registers a member with a nickname, the inviter of the tests.
func (fx loginFixture) inviter(t *testing.T, name string) member.Member {
	t.Helper()
	res, err := fx.members.Arrive(context.Background(), member.Arrival{Nickname: name,
		Identities: []member.Identity{{Kind: member.OpenID, Scope: appID, Value: "o-inviter-" + name}}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Member
}

// binds answers every redemption with a binding to inviter: 20 points each.
func binds(inviter string) func(invite.RedeemCmd) (invite.Redemption, error) {
	return func(c invite.RedeemCmd) (invite.Redemption, error) {
		return invite.Redemption{
			Referral: invite.Referral{Member: c.Invitee, Inviter: inviter, Code: c.CodeID, Via: c.Via},
			Rewards: []invite.Reward{
				{Kind: "points", Member: c.Invitee, Points: 20},
				{Kind: "points", Member: inviter, Points: 20},
				{Kind: "coupon", Member: inviter, Coupon: "cpn-of-the-inviter"},
			},
		}, nil
	}
}

// TestLoginRedeemsTheCodeItCarries: a code typed at login, or the launch
// scene of a mini-program code (URL-encoded, "inv_<code>" or bare), is
// redeemed for the member once admitted, by the way it came, as the
// member's registration when the login created it, with the client's
// address and device only as keyed hashes; the answer says bound, with the
// inviter masked and the rewards, the inviter's coupon left out. A launch
// scene number is no code.
func TestLoginRedeemsTheCodeItCarries(t *testing.T) {
	fx := newLoginFixture(t)
	inv := fx.inviter(t, "张三丰")
	fx.inv.answer = binds(inv.ID)
	tests := []struct {
		name     string
		body     map[string]any
		via      string
		code     string
		platform string
	}{
		{"typed", map[string]any{"invite_code": " abcd 2345 ", "device_id": "dev-1", "platform": "ios"}, "login", " abcd 2345 ", "ios"},
		{"scene prefixed", map[string]any{"scene": "inv%5FK7M2Q9"}, "mp-scene", "K7M2Q9", ""},
		{"scene bare", map[string]any{"scene": "K7M2Q9XY"}, "mp-scene", "K7M2Q9XY", ""},
		{"typed over scene", map[string]any{"invite_code": "TYPED234", "scene": "inv_SCENE234"}, "login", "TYPED234", ""},
		{"token", map[string]any{"token": "【小店】复制这段话打开微信小程序，领取好友邀请礼\n¥K7M2Q9¥", "scene": "inv_SCENE234"}, "token", "K7M2Q9", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.body["code"] = "carry" + string(rune('a'+i))
			a := fx.login(t, tt.body, "203.0.113.5")
			calls := fx.inv.taken()
			if len(calls) != 1 {
				t.Fatalf("%d redemptions, want 1", len(calls))
			}
			c := calls[0]
			if c.Code != tt.code || c.CodeID != "" || c.Via != tt.via || c.Invitee != a.MemberID || !c.Registration || !a.Created {
				t.Errorf("redeemed %+v for %s (created %v); want code %q via %s, registration", c, a.MemberID, a.Created, tt.code, tt.via)
			}
			if want := fx.box.Hash("client-ip", "203.0.113.5"); c.Client != want || strings.Contains(c.Client, "203.0") {
				t.Errorf("client signal %q, want the keyed hash %q", c.Client, want)
			}
			wantDevice := ""
			if tt.body["device_id"] != nil {
				wantDevice = fx.box.Hash("device", "dev-1")
			}
			if c.Device != wantDevice || c.Platform != tt.platform {
				t.Errorf("device %q platform %q; want %q %q", c.Device, c.Platform, wantDevice, tt.platform)
			}
			got := a.Invite
			if got == nil || !got.Bound || got.Refused != "" || got.InviterMasked != "张**" || len(got.Rewards) != 3 {
				t.Fatalf("invite = %+v; want bound to 张** with 3 rewards", got)
			}
			if r := got.Rewards[0]; !r.Mine || r.Points != 20 {
				t.Errorf("first reward %+v; want the invitee's 20 points", r)
			}
			if r := got.Rewards[2]; r.Mine || r.Coupon != "" || r.Kind != "coupon" {
				t.Errorf("inviter's coupon shown as %+v; want it without its id", r)
			}
		})
	}
	if a := fx.login(t, map[string]any{"code": "launch", "scene": "1047"}, "203.0.113.5"); a.Invite != nil || len(fx.inv.taken()) != 0 {
		t.Errorf("launch scene 1047 gave invite %+v; want no redemption", a.Invite)
	}
	m, err := fx.members.Get(context.Background(), fx.login(t, map[string]any{"code": "carryb"}, "").MemberID)
	if err != nil || m.Channel.Value != channels.InviteScene {
		t.Errorf("channel of a member from an invitation scene = %+v, %v; want the value %q without the code", m.Channel, err, channels.InviteScene)
	}
}

// TestLoginRegistrationIsTheFirstLogin: the same person's code at a later
// login is redeemed as no registration; a caller the platform vouches for
// gives no address signal (the platform's addresses are shared by many).
func TestLoginRegistrationIsTheFirstLogin(t *testing.T) {
	fx := newLoginFixture(t)
	fx.inv.answer = binds(fx.inviter(t, "li").ID)
	first := fx.login(t, map[string]any{"code": "p1"}, "203.0.113.9")
	if first.Invite != nil || len(fx.inv.taken()) != 0 {
		t.Fatalf("login without a code redeemed %+v", first.Invite)
	}
	again := fx.login(t, map[string]any{"code": "p1", "invite_code": "LATE2345"}, "203.0.113.9")
	calls := fx.inv.taken()
	if again.Created || len(calls) != 1 || calls[0].Registration {
		t.Fatalf("returning login (created %v) redeemed %+v; want one redemption, not a registration", again.Created, calls)
	}

	r := web.NewRequest(http.MethodPost, "/mp-login", []byte(`{"invite_code":"CLOUD234"}`))
	r.RemoteIP = "198.51.100.1"
	r.Caller = &web.Caller{OpenID: "o-cloud", AppID: appID, UnionID: "u-cloud"}
	if resp, err := fx.h.Login(context.Background(), r); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("trusted login = %+v, %v", resp, err)
	}
	if calls := fx.inv.taken(); len(calls) != 1 || calls[0].Client != "" || !calls[0].Registration {
		t.Errorf("trusted login redeemed %+v; want a registration without a client signal", calls)
	}
}

// TestLoginNeverFailsOnTheInvitation: a redemption that fails or is
// refused, and a text token with no code in it, leave the login whole — 200, a session, the
// member registered — and say so in the answer; the token is not redeemed.
func TestLoginNeverFailsOnTheInvitation(t *testing.T) {
	fx := newLoginFixture(t)
	fx.inv.answer = func(invite.RedeemCmd) (invite.Redemption, error) {
		return invite.Redemption{}, errs.E(errs.Transient, errors.New("store busy"))
	}
	a := fx.login(t, map[string]any{"code": "f1", "invite_code": "FAIL2345"}, "203.0.113.7")
	if a.Invite == nil || !a.Invite.Failed || a.Invite.Bound || !a.Created || a.MemberID == "" {
		t.Errorf("failed redemption answered %+v (member %q created %v); want failed, logged in", a.Invite, a.MemberID, a.Created)
	}
	if _, err := fx.members.Get(context.Background(), a.MemberID); err != nil {
		t.Errorf("member of the failed redemption: %v", err)
	}
	fx.inv.taken()
	refused := refusal(t)
	fx.inv.answer = func(invite.RedeemCmd) (invite.Redemption, error) { return invite.Redemption{}, refused }
	a = fx.login(t, map[string]any{"code": "f3", "invite_code": "NOPE2345"}, "203.0.113.7")
	if a.Invite == nil || a.Invite.Refused != string(invite.ReasonUnknown) || a.Invite.Bound || a.Invite.Failed || !a.Created {
		t.Errorf("refused redemption answered %+v (created %v); want refused %s, logged in", a.Invite, a.Created, invite.ReasonUnknown)
	}
	fx.inv.taken()
	a = fx.login(t, map[string]any{"code": "f2", "token": "复制这段话打开微信小程序，没有口令"}, "203.0.113.7")
	if a.Invite == nil || a.Invite.Refused != string(invite.ReasonUnknown) || !a.Created {
		t.Errorf("token without a code answered %+v; want refused %s", a.Invite, invite.ReasonUnknown)
	}
	if calls := fx.inv.taken(); len(calls) != 0 {
		t.Errorf("a token without a code was redeemed: %+v", calls)
	}
}

// TestFirstLoginResolvesThePending: a member an Official Account follow
// registered with a pending attribution redeems it at its first
// mini-program login, as a registration, through the way it came — the
// code's id for an "inv_<code>" scene, the inviter's own code for a scene
// naming the inviter — and at that login only; a member without one is
// told registered.
func TestFirstLoginResolvesThePending(t *testing.T) {
	fx := newLoginFixture(t)
	ctx := context.Background()
	inv := fx.inviter(t, "wang")
	fx.inv.answer = binds(inv.ID)
	if _, err := fx.ch.Save(ctx, channels.Scene{ID: "spring", Channel: member.Channel{Kind: "oa-qr", Value: "spring"},
		Inviter: inv.ID}, "ops"); err != nil {
		t.Fatal(err)
	}
	follow := func(person, scene string) member.Member {
		t.Helper()
		f, err := fx.ob.Follow(ctx, onboard.Entry{Source: "oa-qr", Scene: scene, Via: "oa:app",
			Identities: []member.Identity{{Kind: member.OpenID, Scope: "oa", Value: "oa-" + person}, {Kind: member.UnionID, Value: "u-" + person}}})
		if err != nil || !f.Created {
			t.Fatalf("follow %s: %+v, %v", person, f, err)
		}
		return f.Member
	}
	tests := []struct {
		person, scene string
		want          invite.RedeemCmd
	}{
		{"q1", "inv_K7M2Q9", invite.RedeemCmd{CodeID: fx.box.Hash("invite-code", "K7M2Q9"), Via: "oa-scene"}},
		{"q2", "spring", invite.RedeemCmd{CodeID: "own-" + inv.ID, Via: "oa-scene"}},
	}
	for _, tt := range tests {
		m := follow(tt.person, tt.scene)
		if p, err := fx.ch.PendingOf(ctx, m.ID); err != nil || p.Code != "" || strings.Contains(p.Scene, "K7M2Q9") {
			t.Errorf("pending of %s = %+v, %v; want no code text", tt.scene, p, err)
		}
		a := fx.login(t, map[string]any{"code": tt.person}, "203.0.113.8")
		calls := fx.inv.taken()
		if a.Created || a.MemberID != m.ID || len(calls) != 1 {
			t.Fatalf("%s: login member %s created %v, %d redemptions; want %s's first login, one", tt.scene, a.MemberID, a.Created, len(calls), m.ID)
		}
		c := calls[0]
		if c.CodeID != tt.want.CodeID || c.Code != "" || c.Via != tt.want.Via || !c.Registration || c.Invitee != m.ID {
			t.Errorf("%s: redeemed %+v; want %+v as a registration", tt.scene, c, tt.want)
		}
		if a.Invite == nil || !a.Invite.Bound {
			t.Errorf("%s: invite %+v; want bound", tt.scene, a.Invite)
		}
		if fx.login(t, map[string]any{"code": tt.person}, "203.0.113.8"); len(fx.inv.taken()) != 0 {
			t.Errorf("%s: the second login redeemed the pending again", tt.scene)
		}
	}
	plain := follow("q3", "")
	fx.login(t, map[string]any{"code": "q3"}, "203.0.113.8")
	if calls := fx.inv.taken(); len(calls) != 0 || len(fx.inv.registered) != 1 || fx.inv.registered[0] != plain.ID {
		t.Errorf("first login without a pending: redeemed %+v, registered %v; want none, [%s]", calls, fx.inv.registered, plain.ID)
	}
}
