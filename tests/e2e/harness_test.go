package e2e_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/wemember/wemember/functions/local/runner"
	"github.com/wemember/wemember/shared/boot"
	"github.com/wemember/wemember/shared/config"
	"github.com/wemember/wemember/shared/lambda"
	"github.com/wemember/wemember/shared/scf"
	"github.com/wemember/wemember/shared/store/storetest"
	"github.com/wemember/wemember/shared/web"
	"github.com/wemember/wemember/tests/backends"
	"github.com/wemember/wemember/tests/eventfix"
	"github.com/wemember/wemember/tests/wxsim"
)

// The appid the CloudBase fixtures carry; the e2e mini-program uses it.
const mpAppID = "wxFIXTUREAPPID"

// One simulator per test binary: the WeChat SDK's API base is process-wide,
// set once here as a main sets it.
var sim *wxsim.Sim
var simURL string

func TestMain(m *testing.M) {
	sim = wxsim.New()
	srv := httptest.NewServer(sim.Handler())
	simURL = srv.URL
	boot.ConfigureProcess(config.Config{WeChatAPIBase: simURL})
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

// env is one wemember deployment over one backend.
type env struct {
	t        testing.TB
	deps     *boot.Deps
	handlers map[string]web.Handler
	http     *httptest.Server
	clock    *clock
	// store is the deployment's store as the functions reach it: it counts
	// every call, so a test can assert what one request asked of it.
	store *storetest.Faults
}

// counted runs f and returns what it asked of the store: the writes, reads
// and mutations a test asserts per command.
func (e *env) counted(f func()) storetest.Counts {
	before := e.store.Counts()
	f()
	return e.store.Since(before)
}

// clock is the functions' clock, moved by tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newEnv(t testing.TB, b backends.Backend) *env {
	t.Helper()
	storeSetting, endpoint := b.Target(t)
	vars := config.Dev(t.TempDir(), simURL)
	vars["WEMEMBER_STORE"] = storeSetting
	vars["WEMEMBER_DYNAMO_ENDPOINT"] = endpoint
	vars["WEMEMBER_MP_APPID"] = mpAppID
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	sim.AddApp(cfg.MPAppID, cfg.MPSecret)
	sim.AddApp(cfg.OAAppID, cfg.OASecret)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	clock := &clock{now: time.Now()}
	st, err := boot.OpenStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	counting := &storetest.Faults{Store: st}
	d, err := boot.Wire(counting, cfg, log, boot.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.EnsureDefaults(context.Background()); err != nil {
		t.Fatal(err)
	}
	hs, err := runner.Handlers(d)
	if err != nil {
		t.Fatal(err)
	}
	h, err := runner.New(d)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, deps: d, handlers: hs, http: srv, clock: clock, store: counting}
}

// reply is a function's answer however the platform carried it.
type reply struct {
	Status int
	Body   []byte
}

func (r reply) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// invoke feeds a fixture through the real platform adapter of the function.
func (e *env) invoke(function, fixture string, vars map[string]string) reply {
	e.t.Helper()
	raw, err := eventfix.Load(fixture, vars)
	if err != nil {
		e.t.Fatal(err)
	}
	h := e.handlers[function]
	ctx := context.Background()
	var out any
	switch platformOf(fixture) {
	case "lambda":
		out, err = lambda.Invoke(h)(ctx, raw)
	case "scf":
		fc := &functioncontext.FunctionContext{RequestID: "e2e"}
		if ctxRaw, err := eventfix.Load(fixtureContext(fixture), vars); err == nil {
			var c struct {
				Environment map[string]string `json:"environment"`
			}
			if err := json.Unmarshal(ctxRaw, &c); err != nil {
				e.t.Fatal(err)
			}
			fc.Environment = c.Environment
		}
		out, err = scf.Invoke(h)(functioncontext.NewContext(ctx, fc), raw)
	}
	if err != nil {
		e.t.Fatalf("invoke %s: %v", fixture, err)
	}
	b, _ := json.Marshal(out)
	var wire struct {
		StatusCode int             `json:"statusCode"`
		Body       string          `json:"body"`
		Base64     bool            `json:"isBase64Encoded"`
		Status     int             `json:"status"`
		Data       json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &wire); err != nil {
		e.t.Fatal(err)
	}
	if wire.StatusCode != 0 {
		body := []byte(wire.Body)
		if wire.Base64 {
			body, _ = base64.StdEncoding.DecodeString(wire.Body)
		}
		return reply{Status: wire.StatusCode, Body: body}
	}
	return reply{Status: wire.Status, Body: wire.Data}
}

func platformOf(fixture string) string {
	if bytes.HasPrefix([]byte(fixture), []byte("lambda")) || bytes.HasPrefix([]byte(fixture), []byte("eventbridge")) {
		return "lambda"
	}
	return "scf"
}

func fixtureContext(fixture string) string {
	return fixture[:len(fixture)-len(".json")] + ".context.json"
}

// do sends an HTTP request to the local runner.
func (e *env) do(method, path, token string, body []byte) reply {
	e.t.Helper()
	req, err := http.NewRequest(method, e.http.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.http.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{Status: resp.StatusCode, Body: b}
}
