package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/web"
)

// TestMuxHead: HEAD on a GET route answers as GET would, without a body;
// the methods a path takes list HEAD with GET.
func TestMuxHead(t *testing.T) {
	mux := web.NewMux("/member-api")
	mux.Handle("GET", "/me", func(context.Context, *web.Request) (*web.Response, error) {
		return web.JSON(200, map[string]string{"id": "m1"}), nil
	})
	mux.Handle("POST", "/sign-in", func(context.Context, *web.Request) (*web.Response, error) { return web.Text(200, "ok"), nil })
	resp, err := mux.Serve(context.Background(), web.NewRequest("HEAD", "/member-api/me", nil))
	if err != nil || resp.Status != 200 || len(resp.Body) != 0 || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("HEAD /me = %+v, %v; want 200 with GET's headers and no body", resp, err)
	}
	_, err = mux.Serve(context.Background(), web.NewRequest("HEAD", "/member-api/sign-in", nil))
	if got := web.Error(err, "").Header.Get("Allow"); !errs.Is(errs.NotAllowed, err) || got != "POST" {
		t.Errorf("HEAD /sign-in = %v, Allow %q; want 405, Allow POST", err, got)
	}
	_, err = mux.Serve(context.Background(), web.NewRequest("PUT", "/member-api/me", nil))
	if got := web.Error(err, "").Header.Get("Allow"); !errs.Is(errs.NotAllowed, err) || got != "GET, HEAD" {
		t.Errorf("PUT /me = %v, Allow %q; want 405, Allow GET, HEAD", err, got)
	}
}

func TestMuxRoutesRelativeToPrefix(t *testing.T) {
	mux := web.NewMux("/member-api")
	mux.Handle("GET", "/me", func(context.Context, *web.Request) (*web.Response, error) { return web.Text(200, "me"), nil })
	mux.Handle("POST", "/", func(context.Context, *web.Request) (*web.Response, error) { return web.Text(200, "root"), nil })
	tests := []struct {
		method, path string
		want         string
		kind         errs.Kind
	}{
		{"GET", "/member-api/me", "me", errs.Other},
		{"GET", "/me", "me", errs.Other},
		{"GET", "/member-api/me/", "me", errs.Other},
		{"POST", "/member-api", "root", errs.Other},
		{"POST", "/", "root", errs.Other},
		{"POST", "/member-api/me", "", errs.NotAllowed},
		{"GET", "/member-api/nope", "", errs.NotExist},
		{"GET", "/member-apiary/me", "", errs.NotExist},
	}
	for _, tt := range tests {
		resp, err := mux.Serve(context.Background(), web.NewRequest(tt.method, tt.path, nil))
		got := ""
		if resp != nil {
			got = string(resp.Body)
		}
		if got != tt.want || errs.KindOf(err) != tt.kind {
			t.Errorf("%s %s = %q, %v; want %q, kind %v", tt.method, tt.path, got, err, tt.want, tt.kind)
		}
	}
}

func TestStandardMiddleware(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := web.Chain(func(ctx context.Context, r *web.Request) (*web.Response, error) {
		switch string(r.Body) {
		case "panic":
			panic("boom")
		case "fail":
			return nil, errs.E("op", errs.Expired, "code used", io.ErrUnexpectedEOF)
		case "nil":
			return nil, nil
		}
		return web.Text(200, "ok"), nil
	}, web.Standard("fn", log, 8)...)
	tests := []struct {
		body   string
		status int
		msg    string
	}{
		{"hi", 200, ""},
		{"panic", 500, "internal"},
		{"fail", 410, "code used"},
		{"nil", 500, "handler returned no response"},
		{"way too long", 413, "request body over 8 bytes"},
	}
	for _, tt := range tests {
		resp := web.Serve(context.Background(), h, web.NewRequest("POST", "/x", []byte(tt.body)))
		if resp.Status != tt.status {
			t.Errorf("%q: status %d, want %d", tt.body, resp.Status, tt.status)
		}
		if resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("%q: no request id", tt.body)
		}
		if tt.msg != "" {
			var b web.ErrorBody
			json.Unmarshal(resp.Body, &b)
			if b.Error.Message != tt.msg || b.RequestID == "" {
				t.Errorf("%q: error body %s, want message %q", tt.body, resp.Body, tt.msg)
			}
			if strings.Contains(string(resp.Body), "unexpected EOF") || strings.Contains(string(resp.Body), "boom") {
				t.Errorf("%q: internal cause reached the client: %s", tt.body, resp.Body)
			}
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var requests int
	for _, l := range lines {
		var rec map[string]any
		json.Unmarshal([]byte(l), &rec)
		if rec["msg"] == "request" {
			requests++
			if rec["function"] != "fn" || rec["request_id"] == "" || rec["status"] == nil {
				t.Errorf("log line lacks fields: %s", l)
			}
		}
	}
	if requests != len(tests) {
		t.Errorf("%d request log lines, want %d", requests, len(tests))
	}
}

func TestDecodeJSON(t *testing.T) {
	var v struct{ A int }
	for body, msg := range map[string]string{
		"":           "request body is empty; JSON expected",
		"{":          "request body is not valid JSON",
		`{"A":"x"}`:  `request body field "A" must be an integer`,
		`{"A":1} {}`: "request body has data after the JSON value",
	} {
		err := web.DecodeJSON(web.NewRequest("POST", "/", []byte(body)), &v)
		if !errs.Is(errs.Invalid, err) || errs.SafeMessage(err) != msg {
			t.Errorf("DecodeJSON(%q) = %v, want %q", body, err, msg)
		}
	}
	if err := web.DecodeJSON(web.NewRequest("POST", "/", []byte(`{"A":7}`)), &v); err != nil || v.A != 7 {
		t.Fatalf("good JSON: %v, %+v", err, v)
	}
	if web.Status(errs.E(errs.RateLimited)) != http.StatusTooManyRequests {
		t.Fatal("rate limited is not 429")
	}
}

func TestMuxWrongMethodAndUnknownRoute(t *testing.T) {
	mux := web.NewMux("/member-api")
	ok := func(context.Context, *web.Request) (*web.Response, error) { return web.Text(200, "ok"), nil }
	mux.Handle("GET", "/me", ok)
	mux.Handle("PUT", "/me", ok)
	h := web.Chain(mux.Serve, web.Errors())
	resp := web.Serve(context.Background(), h, web.NewRequest("DELETE", "/member-api/me", nil))
	if resp.Status != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD, PUT" {
		t.Errorf("DELETE /me = %d, Allow %q; want 405, Allow \"GET, HEAD, PUT\"", resp.Status, resp.Header.Get("Allow"))
	}
	var b web.ErrorBody
	if err := json.Unmarshal(resp.Body, &b); err != nil || b.Error.Message != "method DELETE not allowed on /member-api/me; it takes GET, HEAD, PUT" {
		t.Errorf("405 body = %s (%v)", resp.Body, err)
	}
	resp = web.Serve(context.Background(), h, web.NewRequest("GET", "/member-api/nope", nil))
	b = web.ErrorBody{}
	if err := json.Unmarshal(resp.Body, &b); err != nil || resp.Status != http.StatusNotFound ||
		b.Error.Message != "member-api has no route GET /nope" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GET /nope = %d %s (%v); want a JSON 404 naming member-api", resp.Status, resp.Body, err)
	}
}

func TestJSONAnswersEndWithNewline(t *testing.T) {
	for name, resp := range map[string]*web.Response{
		"JSON":  web.JSON(200, map[string]int{"a": 1}),
		"Error": web.Error(errs.E(errs.Invalid, "bad"), "rid"),
	} {
		if !bytes.HasSuffix(resp.Body, []byte("}\n")) || bytes.Count(resp.Body, []byte("\n")) != 1 {
			t.Errorf("%s body %q does not end with one newline", name, resp.Body)
		}
	}
}

func TestDecodeStrictRefusesUnknownFields(t *testing.T) {
	var v struct {
		A int
		B struct{ C int } `json:"b"`
	}
	for body, msg := range map[string]string{
		`{"A":1,"typo":2}`:    `request body has an unknown field "typo"`,
		`{"b":{"C":1,"d":2}}`: `request body has an unknown field "d"`,
		`{"A":"x"}`:           `request body field "A" must be an integer`,
	} {
		err := web.DecodeStrict(web.NewRequest("PUT", "/", []byte(body)), &v)
		if !errs.Is(errs.Invalid, err) || errs.SafeMessage(err) != msg {
			t.Errorf("DecodeStrict(%s) = %v, want %q", body, err, msg)
		}
	}
	if err := web.DecodeStrict(web.NewRequest("PUT", "/", []byte(`{"A":7,"b":{"C":2}}`)), &v); err != nil || v.A != 7 || v.B.C != 2 {
		t.Fatalf("known fields: %v, %+v", err, v)
	}
}

// TestLimitRoutes: a raised route takes a larger body however its path is
// written (gateway prefix or function URL); other routes, other methods and
// other functions' paths keep the function's limit.
func TestLimitRoutes(t *testing.T) {
	ok := func(context.Context, *web.Request) (*web.Response, error) { return web.Text(200, "ok"), nil }
	h := web.Chain(ok, web.Errors(), web.LimitRoutes("/admin-api", 8, web.RouteLimit{Method: "POST", Path: "/members/import", Bytes: 16}))
	tests := []struct {
		method, path string
		size, want   int
	}{
		{"POST", "/admin-api/members/import", 16, 200},
		{"POST", "/members/import", 16, 200},
		{"POST", "/admin-api/members/import/", 16, 200},
		{"POST", "/admin-api/members/import", 17, 413},
		{"PUT", "/admin-api/members/import", 9, 413},
		{"POST", "/admin-api/clerk/redeem", 9, 413},
		{"POST", "/admin-api/clerk/redeem", 8, 200},
		{"POST", "/other/members/import", 9, 413},
	}
	for _, tt := range tests {
		resp := web.Serve(context.Background(), h, web.NewRequest(tt.method, tt.path, bytes.Repeat([]byte("x"), tt.size)))
		if resp.Status != tt.want {
			t.Errorf("%s %s with %d bytes: %d %s, want %d", tt.method, tt.path, tt.size, resp.Status, resp.Body, tt.want)
		}
	}
	if got, want := web.MaxBody(8, web.RouteLimit{Bytes: 16}), 16; got != want {
		t.Errorf("MaxBody = %d, want %d", got, want)
	}
	if got, want := web.MaxBody(0), web.DefaultBodyLimit; got != want {
		t.Errorf("MaxBody(0) = %d, want %d", got, want)
	}
}
