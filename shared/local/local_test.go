package local_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/local"
	"github.com/wemember/wemember/shared/web"
)

func TestHandlerConvertsRequest(t *testing.T) {
	var got *web.Request
	h := func(_ context.Context, req *web.Request) (*web.Response, error) {
		got = req
		return &web.Response{Status: 201, Header: http.Header{"Content-Type": {"application/json"}, "Set-Cookie": {"a=1", "b=2"}}, Body: []byte(`{"ok":true}`)}, nil
	}
	r := httptest.NewRequest("POST", "/member-api/me?x=1&x=2&y=", strings.NewReader(`{"code":"C"}`))
	r.RemoteAddr = "192.0.2.9:51234"
	r.Header.Set("Authorization", "Bearer T")
	r.Header.Set("X-Forwarded-For", "203.0.113.1")
	w := httptest.NewRecorder()
	local.Handler(h, 1024).ServeHTTP(w, r)

	if got.Trigger != web.TriggerHTTP || got.Method != "POST" || got.Path != "/member-api/me" || got.Caller != nil {
		t.Errorf("got %s %s %s caller %v, want http POST /member-api/me nil", got.Trigger, got.Method, got.Path, got.Caller)
	}
	if want := (url.Values{"x": {"1", "2"}, "y": {""}}); !reflect.DeepEqual(got.Query, want) {
		t.Errorf("query = %v, want %v", got.Query, want)
	}
	if got.Header.Get("Authorization") != "Bearer T" || string(got.Body) != `{"code":"C"}` {
		t.Errorf("authorization, body = %q, %q", got.Header.Get("Authorization"), got.Body)
	}
	if got.RemoteIP != "192.0.2.9" {
		t.Errorf("remote ip = %q, want 192.0.2.9 (never a forwarding header)", got.RemoteIP)
	}
	if w.Code != 201 || w.Body.String() != `{"ok":true}` || !reflect.DeepEqual(w.Header()["Set-Cookie"], []string{"a=1", "b=2"}) {
		t.Errorf("response = %d %v %q", w.Code, w.Header(), w.Body)
	}
}

func TestHandlerBodyLimit(t *testing.T) {
	const limit = 16
	tests := []struct {
		name       string
		size       int
		wantStatus int
		wantRead   int // Bytes the handler saw.
	}{
		{"at the limit", limit, 200, limit},
		{"over the limit is refused by web.Limit", limit + 1, 413, limit + 1},
		{"far over is read no further than limit+1", 10 << 20, 413, limit + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := -1
			inner := func(_ context.Context, req *web.Request) (*web.Response, error) {
				seen = len(req.Body)
				return web.Text(200, "ok"), nil
			}
			// The chain a function uses: the adapter's reads feed web.Limit.
			h := web.Chain(inner, web.Errors(), web.Limit(limit))
			body := &countingReader{r: bytes.NewReader(make([]byte, tt.size))}
			r := httptest.NewRequest("POST", "/", body)
			w := httptest.NewRecorder()
			local.Handler(h, limit).ServeHTTP(w, r)
			if w.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", w.Code, tt.wantStatus)
			}
			if body.n > limit+1 {
				t.Errorf("read %d bytes of the body, want at most %d", body.n, limit+1)
			}
			if tt.wantStatus == 200 && seen != tt.wantRead {
				t.Errorf("handler saw %d bytes, want %d", seen, tt.wantRead)
			}
			if tt.wantStatus != 200 && seen != -1 {
				t.Errorf("handler ran on an oversized body")
			}
		})
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestHandlerRendersErrors(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
	}{
		{"kind decides status", errs.E("t", errs.RateLimited, "slow down"), 429},
		{"nothing at all is internal", nil, 500},
	}
	for _, tt := range tests {
		h := func(context.Context, *web.Request) (*web.Response, error) { return nil, tt.err }
		w := httptest.NewRecorder()
		local.Handler(h, 0).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if w.Code != tt.wantStatus || w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: got %d %q, want %d application/json", tt.name, w.Code, w.Header().Get("Content-Type"), tt.wantStatus)
		}
	}
}

// TestServeShutsDownGracefully starts a real server on loopback, holds a
// request in flight, cancels the context and checks the request still
// completes and Serve returns nil.
func TestServeShutsDownGracefully(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	release := make(chan struct{})
	h := func(ctx context.Context, req *web.Request) (*web.Response, error) {
		close(started)
		<-release
		return web.Text(200, "done"), ctx.Err()
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- local.ServeListener(ctx, ln, local.Handler(h, 0)) }()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("request never reached the handler")
	}
	cancel()
	time.Sleep(50 * time.Millisecond) // Let Shutdown begin while the request is in flight.
	close(release)
	select {
	case r := <-got:
		if r.err != nil || r.body != "done" {
			t.Errorf("in-flight request = %q, %v; want done", r.body, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("in-flight request did not finish")
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
}

func TestServeReportsListenErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = local.Serve(context.Background(), ln.Addr().String(), http.NotFoundHandler())
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("Serve on a taken port = %v, want a listen error", err)
	}
}
