package wechat_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/wechat"
	"github.com/wemember/wemember/tests/wxsim"
)

const appID, secret = "wx1234567890abcdef", "the-app-secret"

// current is the handler behind the one loopback server the package's
// tests share: silenceper's URI modifier is process-global, so it is set
// once, and each test swaps in its own simulator. Tests do not run in
// parallel.
var current atomic.Pointer[http.Handler]

func TestMain(m *testing.M) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*current.Load()).ServeHTTP(w, r)
	}))
	wechat.UseAPIBase(srv.URL)
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

// clock is a settable clock shared by the simulator, the store and the
// token sources of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// env is one test's world: a simulator serving the shared server, a bolt
// store in a temp dir, one clock.
type env struct {
	sim   *wxsim.Sim
	st    *bolt.Store
	clock *clock
}

func setup(t *testing.T, opts ...wxsim.Option) *env {
	t.Helper()
	c := &clock{t: time.Now().Truncate(time.Second)}
	sim := wxsim.New(append([]wxsim.Option{wxsim.WithClock(c.now)}, opts...)...)
	sim.AddApp(appID, secret)
	serve(sim.Handler())
	st, err := bolt.Open(filepath.Join(t.TempDir(), "store.db"), bolt.WithClock(c.now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &env{sim: sim, st: st, clock: c}
}

func serve(h http.Handler) { current.Store(&h) }

func (e *env) tokens(opts ...wechat.TokenOption) *wechat.TokenSource {
	return wechat.NewTokenSource(e.st, appID, secret, append([]wechat.TokenOption{wechat.WithTokenClock(e.clock.now)}, opts...)...)
}

func (e *env) client() *wechat.MiniProgram {
	return wechat.NewMiniProgram(appID, secret, e.tokens())
}
