package wecomcallback_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/functions/wecom-callback/wecomcallback"
	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/idem"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/onboard"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/web"
	"github.com/wemember/wemember/shared/wechat"
	"github.com/wemember/wemember/shared/wxwork"
	"github.com/wemember/wemember/tests/wxsim/push"
)

// contacts is a WeCom whose calls fail as scripted.
type contacts struct {
	mu         sync.Mutex
	contactErr error
	sendErrs   []error // One per SendWelcome call, in order; nil after.
	sent       []string
	calls      int
}

func (c *contacts) ExternalContact(_ context.Context, id string) (wechat.Contact, error) {
	if c.contactErr != nil {
		return wechat.Contact{}, c.contactErr
	}
	return wechat.Contact{ExternalUserID: id, UnionID: "u-" + id}, nil
}

func (c *contacts) SendWelcome(_ context.Context, code, text string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if len(c.sendErrs) > 0 {
		err := c.sendErrs[0]
		c.sendErrs = c.sendErrs[1:]
		if err != nil {
			return err
		}
	}
	c.sent = append(c.sent, code+" "+text)
	return nil
}

type fixture struct {
	h       web.Handler
	members *member.Service
	wc      push.WeCom
}

func newFixture(t *testing.T, c *contacts) fixture {
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
	wc := push.DefaultWeCom()
	srv, err := wxwork.New(wxwork.Config{Token: wc.Token, EncodingAESKey: wc.EncodingAESKey, CorpID: wc.CorpID})
	if err != nil {
		t.Fatal(err)
	}
	members := member.NewService(st, box, time.Now, member.NewID)
	ch := channels.New(st, time.Now)
	h := &wecomcallback.Handler{
		Server: srv, CorpID: wc.CorpID, Contacts: c, Members: members, Channels: ch,
		Onboard: &onboard.Service{Store: st, Members: members, Channels: ch},
		Guard:   idem.New(st, "wecom", idem.Options{}), Store: st, RegisterURL: "https://example.com/r", Now: time.Now,
	}
	return fixture{h: h.Mux().Serve, members: members, wc: wc}
}

func (fx fixture) deliver(t *testing.T, p *push.Push) (*web.Response, error) {
	t.Helper()
	return fx.h(context.Background(), web.NewRequest(http.MethodPost, p.URL.RequestURI(), p.Body))
}

func (fx fixture) add(t *testing.T, ext string) *push.Push {
	t.Helper()
	ev := push.WeComAdd("sales1", ext, "fair")
	ev.WelcomeCode = "code-" + ext
	p, err := fx.wc.Build("http://127.0.0.1/wecom-callback", ev)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWelcomeFailures: a send that may be retried gives its claim back and
// fails the callback, so WeCom's retry sends; one that cannot succeed is
// logged and the callback acknowledged.
func TestWelcomeFailures(t *testing.T) {
	tests := []struct {
		name       string
		errs       []error
		wantStatus []int // Per delivery of the same callback.
		wantCalls  int
		wantSent   int
	}{
		{"sent", nil, []int{200, 200}, 1, 1},
		{"busy then sent", []error{errs.E(errs.Transient, "busy")}, []int{503, 200}, 2, 1},
		{"over quota then sent", []error{errs.E(errs.RateLimited, "quota")}, []int{429, 200}, 2, 1},
		{"code expired", []error{errs.E(errs.Expired, "41050")}, []int{200, 200}, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &contacts{sendErrs: tt.errs}
			fx := newFixture(t, c)
			p := fx.add(t, "wm-"+tt.name)
			for i, want := range tt.wantStatus {
				resp, err := fx.deliver(t, p)
				status := web.Status(err) // As the Errors middleware answers.
				if err == nil {
					status = resp.Status
				}
				if status != want {
					t.Errorf("delivery %d: status %d (%v), want %d", i+1, status, err, want)
				}
			}
			if c.calls != tt.wantCalls || len(c.sent) != tt.wantSent {
				t.Errorf("send_welcome_msg called %d times, sent %d; want %d, %d", c.calls, len(c.sent), tt.wantCalls, tt.wantSent)
			}
			if _, err := fx.members.Resolve(context.Background(), member.Identity{Kind: member.UnionID, Value: "u-wm-" + tt.name}); err != nil {
				t.Errorf("member not linked by unionid: %v", err)
			}
		})
	}
}

// TestContactLookupFails: the customer is registered by external_userid
// alone, and a later edit links the unionid.
func TestContactLookupFails(t *testing.T) {
	c := &contacts{contactErr: errs.E(errs.Transient, "busy")}
	fx := newFixture(t, c)
	ctx := context.Background()
	if resp, err := fx.deliver(t, fx.add(t, "wm-1")); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("add: %+v, %v", resp, err)
	}
	ext := member.Identity{Kind: member.External, Scope: fx.wc.CorpID, Value: "wm-1"}
	m, err := fx.members.Resolve(ctx, ext)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Identities) != 1 || m.Channel.Kind != "wecom" || m.Channel.Value != "fair" {
		t.Errorf("member %+v; want the external id only, channel wecom/fair", m)
	}
	c.contactErr = nil
	p, _ := fx.wc.Build("http://127.0.0.1/wecom-callback", push.WeComEvent{ChangeType: "edit_external_contact", UserID: "sales1", ExternalUserID: "wm-1"})
	if resp, err := fx.deliver(t, p); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("edit: %+v, %v", resp, err)
	}
	if u, err := fx.members.Resolve(ctx, member.Identity{Kind: member.UnionID, Value: "u-wm-1"}); err != nil || u.ID != m.ID {
		t.Errorf("after edit unionid member = %s, %v; want %s", u.ID, err, m.ID)
	}
}
