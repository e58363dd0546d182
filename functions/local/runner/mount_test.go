package runner_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/functions/expiry-sweep/sweep"
	"github.com/wemember/wemember/functions/local/runner"
	"github.com/wemember/wemember/shared/web"
)

// mounted serves the expiry sweep (no jobs) the way the runner mounts it.
func mounted(t *testing.T) *httptest.Server {
	t.Helper()
	sw := sweep.Handler(sweep.New(nil, time.Now), "tok")
	srv := httptest.NewServer(runner.Mount(map[string]web.Handler{"expiry-sweep": web.Chain(sw, web.Errors())}, 0))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestUnknownPathAnswersJSON: a path no function is mounted at answers a
// JSON 404 in the shape every function's errors have, naming the path.
func TestUnknownPathAnswersJSON(t *testing.T) {
	srv := mounted(t)
	for _, path := range []string{"/", "/register", "/nope-api", "/nope-api/x"} {
		resp, body := get(t, srv.URL+path)
		var b web.ErrorBody
		err := json.Unmarshal([]byte(body), &b)
		if resp.StatusCode != http.StatusNotFound || err != nil || b.Error.Kind != "not_exist" ||
			!strings.Contains(b.Error.Message, path) || !strings.HasSuffix(body, "}\n") ||
			resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("GET %s = %d %q (%s); want a JSON 404 of kind not_exist naming the path", path,
				resp.StatusCode, body, resp.Header.Get("Content-Type"))
		}
	}
}

// TestHealthzEndsWithNewline: the health answer is one JSON line.
func TestHealthzEndsWithNewline(t *testing.T) {
	resp, body := get(t, mounted(t).URL+"/healthz")
	if resp.StatusCode != http.StatusOK || body != "{\"status\":\"ok\"}\n" {
		t.Errorf("GET /healthz = %d %q, want 200 {\"status\":\"ok\"} and a newline", resp.StatusCode, body)
	}
}

// TestSweepWrongMethodNamesThePathUsed: GET on the sweep is 405 naming
// /expiry-sweep, the path the caller used, not the function's root.
func TestSweepWrongMethodNamesThePathUsed(t *testing.T) {
	resp, body := get(t, mounted(t).URL+"/expiry-sweep")
	var b web.ErrorBody
	if err := json.Unmarshal([]byte(body), &b); err != nil || resp.StatusCode != http.StatusMethodNotAllowed ||
		b.Error.Message != "method GET not allowed on /expiry-sweep; it takes POST" || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET /expiry-sweep = %d %q, Allow %q; want 405 naming /expiry-sweep", resp.StatusCode, body, resp.Header.Get("Allow"))
	}
}

// TestUncleanPathAnswersJSON: a path with an empty or dot segment reaches
// the function as sent and answers its JSON 404, never a redirect with an
// HTML body.
func TestUncleanPathAnswersJSON(t *testing.T) {
	srv := mounted(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/expiry-sweep//run", "/expiry-sweep/./run", "//expiry-sweep", "/expiry-sweep/../healthz"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.URL.Opaque = path // Sent as written, not cleaned by the client.
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e web.ErrorBody
		if err := json.Unmarshal(b, &e); err != nil || resp.StatusCode != http.StatusNotFound || e.Error.Kind != "not_exist" ||
			resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("GET %s = %d %q (%s); want a JSON 404", path, resp.StatusCode, b, resp.Header.Get("Content-Type"))
		}
	}
}
