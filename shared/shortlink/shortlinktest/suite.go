// Package shortlinktest is the short-link suite, written against the store
// port so it runs on every adapter: bbolt in package shortlink's own tests,
// DynamoDB Local in tests/domain.
package shortlinktest

import (
	"context"
	"crypto/rand"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/codes"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/shortlink"
	"github.com/wemember/wemember/shared/store"
)

// Opener returns a fresh, empty store for one test; the test closes it.
type Opener func(t *testing.T) store.Store

// Option tunes a suite run.
type Option func(*config)

type config struct{ racers int }

// WithRacers sets how many goroutines create the same share at once
// (default 32); a remote store keeps the suite short with fewer.
func WithRacers(n int) Option { return func(c *config) { c.racers = n } }

// RunSuite runs every short-link test against the stores open returns.
func RunSuite(t *testing.T, open Opener, opts ...Option) {
	cfg := config{racers: 32}
	for _, o := range opts {
		o(&cfg)
	}
	tests := []struct {
		name string
		run  func(*testing.T, Opener)
	}{
		{"CreateResolve", testCreateResolve},
		{"SameShareOneLink", testSameShareOneLink},
		{"RefusesUnusableLinks", testRefusesUnusableLinks},
		{"AcceptsTargets", testAcceptsTargets},
		{"ResolveUnknown", testResolveUnknown},
		{"IDCollision", testIDCollision},
		{"IDsExhausted", testIDsExhausted},
		{"ConcurrentSameShare", func(t *testing.T, open Opener) { testConcurrentSameShare(t, open, cfg.racers) }},
		{"PlanCreateComposes", testPlanCreateComposes},
		{"Domains", testDomains},
		{"DomainsRefused", testDomainsRefused},
		{"URLOptions", testURLOptions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open) })
	}
}

// t0 is the suite's starting time.
var t0 = time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)

// env is one test's service over a fresh store, counting store calls.
type env struct {
	t   *testing.T
	ctx context.Context
	st  *counting
	now atomic.Int64 // Unix nanoseconds.
	svc *shortlink.Service
}

func newEnv(t *testing.T, open Opener, random io.Reader, opts ...shortlink.Option) *env {
	e := &env{t: t, ctx: context.Background(), st: &counting{Store: open(t)}}
	e.now.Store(t0.UnixNano())
	if random == nil {
		random = rand.Reader
	}
	e.svc = shortlink.New(e.st, func() time.Time { return time.Unix(0, e.now.Load()).UTC() }, random, opts...)
	return e
}

func (e *env) advance(d time.Duration) { e.now.Add(int64(d)) }

// create makes a link, failing the test on an error.
func (e *env) create(l shortlink.Link) shortlink.Link {
	e.t.Helper()
	got, err := e.svc.Create(e.ctx, l)
	if err != nil {
		e.t.Fatalf("Create(%+v): %v", l, err)
	}
	return got
}

// resolves checks that id resolves to want.
func (e *env) resolves(id string, want shortlink.Link) {
	e.t.Helper()
	got, err := e.svc.Resolve(e.ctx, id)
	if err != nil {
		e.t.Fatalf("Resolve(%q): %v", id, err)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) {
		e.t.Errorf("Resolve(%q).CreatedAt = %v, want %v", id, got.CreatedAt, want.CreatedAt)
	}
	got.CreatedAt = want.CreatedAt
	if got != want {
		e.t.Errorf("Resolve(%q) = %+v, want %+v", id, got, want)
	}
}

// counting is a store that counts the calls that reach it.
type counting struct {
	store.Store
	gets, writes atomic.Int64
}

func (c *counting) Get(ctx context.Context, k store.Key) (store.Item, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, k)
}

func (c *counting) Write(ctx context.Context, ms ...store.Mutation) error {
	c.writes.Add(1)
	return c.Store.Write(ctx, ms...)
}

// share is a member's share of her code in the moments feed.
func share() shortlink.Link {
	return shortlink.Link{Target: "pages/invite/index?code=ABCD2345&ch=moments", Code: "ABCD2345", Channel: "moments", Inviter: "m-alice"}
}

func wantKind(t *testing.T, what string, err error, kind errs.Kind) {
	t.Helper()
	if !errs.Is(kind, err) {
		t.Errorf("%s = %v, want errs.%s", what, err, kind)
	}
}

func testCreateResolve(t *testing.T, open Opener) {
	e := newEnv(t, open, nil)
	l := e.create(share())
	if len(l.ID) != 8 || strings.Trim(l.ID, codes.DefaultCharset) != "" {
		t.Errorf("Create gave id %q, want 8 characters of %s", l.ID, codes.DefaultCharset)
	}
	want := share()
	want.ID, want.CreatedAt = l.ID, t0
	if l != want {
		t.Errorf("Create = %+v, want %+v", l, want)
	}
	e.resolves(l.ID, want)
	e.resolves(strings.ToLower(l.ID), want)
	if n := e.st.writes.Load(); n != 1 {
		t.Errorf("Create wrote %d times, want one write", n)
	}
}

func testSameShareOneLink(t *testing.T, open Opener) {
	e := newEnv(t, open, nil)
	first := e.create(share())
	e.advance(time.Hour)
	if again := e.create(share()); again != first {
		t.Errorf("the same share again = %+v, want the first link %+v", again, first)
	}
	ids := map[string]string{first.ID: "first"}
	for name, change := range map[string]func(*shortlink.Link){
		"other channel": func(l *shortlink.Link) { l.Channel = "poster" },
		"no channel":    func(l *shortlink.Link) { l.Channel = "" },
		"other inviter": func(l *shortlink.Link) { l.Inviter = "m-bob" },
		"other code":    func(l *shortlink.Link) { l.Code = "WXYZ2345" },
		"other target":  func(l *shortlink.Link) { l.Target = "https://shop.example.com/invite?c=ABCD2345" },
	} {
		l := share()
		change(&l)
		got := e.create(l)
		if prev, dup := ids[got.ID]; dup {
			t.Errorf("%s got the link of %s (%s)", name, prev, got.ID)
		}
		ids[got.ID] = name
		l.ID, l.CreatedAt = got.ID, t0.Add(time.Hour)
		e.resolves(got.ID, l)
	}
}

func testRefusesUnusableLinks(t *testing.T, open Opener) {
	e := newEnv(t, open, nil)
	tests := map[string]func(*shortlink.Link){
		"no target":          func(l *shortlink.Link) { l.Target = "" },
		"http":               func(l *shortlink.Link) { l.Target = "http://shop.example.com/x" },
		"javascript":         func(l *shortlink.Link) { l.Target = "javascript:alert(1)" },
		"ftp":                func(l *shortlink.Link) { l.Target = "ftp://shop.example.com/x" },
		"weixin scheme":      func(l *shortlink.Link) { l.Target = "weixin://dl/business/?t=x" },
		"https without host": func(l *shortlink.Link) { l.Target = "https:///x" },
		"https with user":    func(l *shortlink.Link) { l.Target = "https://evil.example@shop.example.com/x" },
		"https upper host":   func(l *shortlink.Link) { l.Target = "https://Shop.example.com/x" },
		"https space":        func(l *shortlink.Link) { l.Target = "https://shop.example.com/a b" },
		"https non-ASCII":    func(l *shortlink.Link) { l.Target = "https://shop.example.com/邀请" },
		"protocol-relative":  func(l *shortlink.Link) { l.Target = "//evil.example/x" },
		"path up":            func(l *shortlink.Link) { l.Target = "pages/../../x" },
		"path empty segment": func(l *shortlink.Link) { l.Target = "pages//index" },
		"path colon":         func(l *shortlink.Link) { l.Target = "data:text/html,x" },
		"path quote":         func(l *shortlink.Link) { l.Target = "pages/index?x=\"><script>" },
		"path newline":       func(l *shortlink.Link) { l.Target = "pages/index\n" },
		"too long":           func(l *shortlink.Link) { l.Target = "pages/index?x=" + strings.Repeat("a", 1024) },
		"code lower spaces":  func(l *shortlink.Link) { l.Code = "ABCD 2345" },
		"code not a code":    func(l *shortlink.Link) { l.Code = "¥ABCD2345¥" },
		"channel slash":      func(l *shortlink.Link) { l.Channel = "a/b" },
		"channel long":       func(l *shortlink.Link) { l.Channel = strings.Repeat("c", 65) },
		"inviter control":    func(l *shortlink.Link) { l.Inviter = "m\x00" },
	}
	for name, change := range tests {
		l := share()
		change(&l)
		got, err := e.svc.Create(e.ctx, l)
		wantKind(t, name+": Create", err, errs.Invalid)
		if got != (shortlink.Link{}) {
			t.Errorf("%s: Create = %+v alongside its error", name, got)
		}
	}
	if n := e.st.gets.Load() + e.st.writes.Load(); n != 0 {
		t.Errorf("refused links reached the store %d times", n)
	}
}

func testAcceptsTargets(t *testing.T, open Opener) {
	e := newEnv(t, open, nil)
	for _, target := range []string{
		"https://shop.example.com",
		"https://shop.example.com/invite?code=ABCD2345&from=s#top",
		"https://localhost:8443/i/ABCD2345",
		"pages/invite/index",
		"/pages/invite/index?code=ABCD2345&scene=1047",
		"pkg_b/pages/x.y/index?q=%E9%82%80",
	} {
		l := share()
		l.Target = target
		got, err := e.svc.Create(e.ctx, l)
		if err != nil {
			t.Errorf("Create with target %q: %v", target, err)
			continue
		}
		e.resolves(got.ID, got)
	}
}

func testResolveUnknown(t *testing.T, open Opener) {
	e := newEnv(t, open, nil)
	_, err := e.svc.Resolve(e.ctx, "ABCD2345")
	wantKind(t, "Resolve of an unknown id", err, errs.NotExist)
	gets := e.st.gets.Load()
	for _, id := range []string{"", "ABCD234", "ABCD23456", "ABCD2340", "ABCDO345", "ABCD-345", "../../x1", "ＡＢＣＤ2345", "ABCD\x002345"} {
		_, err := e.svc.Resolve(e.ctx, id)
		wantKind(t, "Resolve("+id+")", err, errs.NotExist)
	}
	if n := e.st.gets.Load() - gets; n != 0 {
		t.Errorf("malformed ids reached the store %d times", n)
	}
}
