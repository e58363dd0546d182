package reminders_test

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/reminders"
	"github.com/wemember/wemember/shared/store"
)

const mpApp = "wx-mp"

// cstAt is a wall-clock time in Shanghai.
func cstAt(y int, m time.Month, d, h int) time.Time {
	return time.Date(y, m, d, h, 0, 0, 0, time.FixedZone("CST", 8*3600))
}

// clock is a settable clock safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// sent is one message the fake sender accepted.
type sent struct {
	OpenID, Template, Page string
	Data                   map[string]string
}

// sender is a fake mini-program that records messages and answers with
// queued errors per openid (fakes only to inject failures).
type sender struct {
	mu   sync.Mutex
	sent []sent
	fail map[string][]error // openid → errors for its next sends, in order.
}

func (s *sender) SendSubscribe(_ context.Context, openid, tpl, page string, data map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.fail[openid]; len(q) > 0 {
		s.fail[openid] = q[1:]
		if q[0] != nil {
			return q[0]
		}
	}
	s.sent = append(s.sent, sent{OpenID: openid, Template: tpl, Page: page, Data: data})
	return nil
}

func (s *sender) failNext(openid string, errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[openid] = append(s.fail[openid], errs...)
}

// took returns and forgets the messages sent so far, sorted by openid and page.
func (s *sender) took() []sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.sent
	s.sent = nil
	slices.SortFunc(out, func(a, b sent) int {
		return cmp.Or(cmp.Compare(a.OpenID, b.OpenID), cmp.Compare(a.Page, b.Page))
	})
	return out
}

// env is one test's services over a fresh bbolt store.
type env struct {
	t       *testing.T
	ctx     context.Context
	st      store.Store
	clk     *clock
	members *member.Service
	coupons *coupons.Service
	points  *loyalty.Service
	send    *sender
	jobs    *reminders.Jobs
	n       int
}

func newEnv(t *testing.T, now time.Time) *env {
	t.Helper()
	clk := &clock{t: now}
	// The store's clock is the test's, so items expire in test time.
	st, err := bolt.Open(filepath.Join(t.TempDir(), "reminders.db"), bolt.WithClock(clk.Now))
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	box, err := pii.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: context.Background(), st: st, clk: clk, send: &sender{fail: map[string][]error{}}}
	ids := 0
	var mu sync.Mutex
	newID := func() string {
		mu.Lock()
		defer mu.Unlock()
		ids++
		return fmt.Sprintf("id%06d", ids)
	}
	e.members = member.NewService(st, box, e.clk.Now, member.NewID)
	e.coupons = coupons.New(st, coupons.Config{Now: e.clk.Now})
	if err := e.coupons.InstallDefaults(e.ctx); err != nil {
		t.Fatalf("InstallDefaults: %v", err)
	}
	e.points = loyalty.New(st, e.clk.Now, newID)
	e.jobs = reminders.New(st, e.members, e.coupons, e.points, e.points, e.send, reminders.Config{MiniProgramAppID: mpApp, TemplateID: "expiry-reminder"})
	return e
}

// member registers a member with a mini-program openid (none if openid is
// empty) and, if given, a birthday; it returns the member id.
func (e *env) member(openid, birthday string) string {
	e.t.Helper()
	e.n++
	id := member.Identity{Kind: member.OpenID, Scope: mpApp, Value: openid}
	if openid == "" {
		id = member.Identity{Kind: member.OpenID, Scope: "wx-oa", Value: fmt.Sprintf("oa-%d", e.n)}
	}
	res, err := e.members.Arrive(e.ctx, member.Arrival{Identities: []member.Identity{id}, Channel: member.Channel{Kind: "test"}})
	if err != nil {
		e.t.Fatalf("Arrive: %v", err)
	}
	if birthday != "" {
		_, err := e.members.UpdateProfile(e.ctx, res.Member.ID, member.ProfileUpdate{Birthday: &birthday,
			Consent: &member.Consent{Version: "v1", Channel: "mini-program"}})
		if err != nil {
			e.t.Fatalf("UpdateProfile: %v", err)
		}
	}
	return res.Member.ID
}

// birthdayCoupons counts a member's birthday coupons.
func (e *env) birthdayCoupons(id string) int {
	e.t.Helper()
	pg, err := e.coupons.List(e.ctx, coupons.ListQuery{MemberID: id, Limit: 100})
	if err != nil {
		e.t.Fatalf("List: %v", err)
	}
	n := 0
	for _, in := range pg.Items {
		if in.Reason == coupons.ReasonBirthday {
			n++
		}
	}
	return n
}
