package wecomcallback_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/functions/wecom-callback/wecomcallback"
	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/idem"
	"github.com/wemember/wemember/shared/invite"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/onboard"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/wxwork"
	"github.com/wemember/wemember/tests/wxsim/push"
)

// redeemer records the redemptions asked of it and answers with err.
type redeemer struct {
	mu    sync.Mutex
	calls []invite.RedeemCmd
	err   error
}

func (r *redeemer) Redeem(_ context.Context, c invite.RedeemCmd) (invite.Redemption, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	if r.err != nil {
		return invite.Redemption{}, r.err
	}
	return invite.Redemption{Referral: invite.Referral{Member: c.Invitee, Inviter: "m-inviter"}}, nil
}

func (r *redeemer) taken() []invite.RedeemCmd {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

// TestStateCodeIsRedeemed: an add through a contact way whose state is
// "inv_<code>", or a registered state naming a code, redeems the code for
// the customer's member — its registration when the add created
// it — after the welcome message; a redelivered event redeems nothing
// more; a state naming only an inviter, or none, redeems nothing; a failed
// redemption still answers success and leaves the code's id pending.
func TestStateCodeIsRedeemed(t *testing.T) {
	st, err := bolt.Open(t.TempDir() + "/store.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	box, err := pii.New([]byte("test-data-key-0123456789abcdef-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	wc := push.DefaultWeCom()
	srv, err := wxwork.New(wxwork.Config{Token: wc.Token, EncodingAESKey: wc.EncodingAESKey, CorpID: wc.CorpID})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	members := member.NewService(st, box, time.Now, member.NewID)
	ch := channels.New(st, time.Now)
	inv := &redeemer{}
	c := &contacts{}
	h := &wecomcallback.Handler{
		Server: srv, CorpID: wc.CorpID, Contacts: c, Members: members, Channels: ch,
		Onboard: &onboard.Service{Store: st, Members: members, Channels: ch,
			CodeID: func(text string) (string, bool) { return box.Hash("invite-code", text), true }},
		Guard: idem.New(st, "wecom", idem.Options{}), Store: st, RegisterURL: "https://example.com/r", Now: time.Now,
		Invites: inv,
	}
	fx := fixture{h: h.Mux().Serve, members: members, wc: wc}
	if _, err := ch.Save(ctx, channels.Scene{ID: "rep-code", Channel: member.Channel{Kind: "wecom", Value: "fair"}, Code: "REG23456"}, "ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Save(ctx, channels.Scene{ID: "rep-inviter", Channel: member.Channel{Kind: "wecom"}, Inviter: "m-inviter"}, "ops"); err != nil {
		t.Fatal(err)
	}
	add := func(ext, state string) (*push.Push, member.Member) {
		t.Helper()
		ev := push.WeComAdd("sales1", ext, state)
		ev.WelcomeCode = "wc-" + ext
		p, err := wc.Build("http://127.0.0.1/wecom-callback", ev)
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := fx.deliver(t, p); err != nil || resp.Status != http.StatusOK || string(resp.Body) != "success" {
			t.Fatalf("add %s: %+v, %v", ext, resp, err)
		}
		m, err := members.Resolve(ctx, member.Identity{Kind: member.External, Scope: wc.CorpID, Value: ext})
		if err != nil {
			t.Fatal(err)
		}
		return p, m
	}
	tests := []struct {
		ext, state, code string
	}{
		{"e1", "inv_K7M2Q9", "K7M2Q9"},
		{"e2", "rep-code", "REG23456"},
		{"e3", "rep-inviter", ""},
		{"e4", "", ""},
	}
	for _, tt := range tests {
		p, m := add(tt.ext, tt.state)
		calls := inv.taken()
		if tt.code == "" {
			if len(calls) != 0 {
				t.Errorf("%q redeemed %+v; want nothing", tt.state, calls)
			}
			continue
		}
		want := invite.RedeemCmd{Code: tt.code, Invitee: m.ID, Via: "wecom-state", Registration: true, Channel: "wecom"}
		if len(calls) != 1 || calls[0] != want {
			t.Errorf("%q redeemed %+v; want [%+v]", tt.state, calls, want)
		}
		if resp, err := fx.deliver(t, p); err != nil || string(resp.Body) != "success" || len(inv.taken()) != 0 {
			t.Errorf("%q redelivered: %+v, %v; want success, no redemption", tt.state, resp, err)
		}
	}
	if n := len(c.sent); n != len(tests) {
		t.Errorf("%d welcome messages, want %d: one per add", n, len(tests))
	}

	inv.err = errs.E(errs.Transient, errors.New("busy"))
	_, m := add("e5", "inv_K7M2Q9")
	if pend, err := ch.PendingOf(ctx, m.ID); err != nil || pend.CodeID != box.Hash("invite-code", "K7M2Q9") || pend.Code != "" {
		t.Errorf("pending after a failed redemption = %+v, %v; want the code's id", pend, err)
	}
	if calls := inv.taken(); len(calls) != 1 {
		t.Errorf("%d redemptions, want 1", len(calls))
	}
}
