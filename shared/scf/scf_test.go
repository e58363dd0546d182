package scf_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"sync"
	"testing"

	"github.com/tencentyun/scf-go-lib/events"
	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/scf"
	"github.com/wemember/wemember/shared/web"
	"github.com/wemember/wemember/tests/eventfix"
)

// recorder is a web.Handler that keeps the requests it sees and answers resp
// and err.
type recorder struct {
	mu   sync.Mutex
	got  []*web.Request
	resp *web.Response
	err  error
}

func (r *recorder) serve(_ context.Context, req *web.Request) (*web.Response, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, req)
	return r.resp, r.err
}

func okJSON() *web.Response {
	return &web.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"ok":true}`)}
}

// scfContext is a function context as the SCF runtime builds it for an
// invocation with the given id and per-invocation environment.
func scfContext(id string, env map[string]string) context.Context {
	return functioncontext.NewContext(context.Background(), &functioncontext.FunctionContext{RequestID: id, Environment: env})
}

func TestInvokeFixtures(t *testing.T) {
	vars := map[string]string{"code": "REAL_CODE_2", "token": "tok.en-2", "openid": "oCALLER_A", "unionid": "uCALLER_A"}
	tests := []struct {
		file  string
		want  web.Request
		shape string // "http", "call" or "schedule"
	}{
		{
			file: "scf-apigw.json", shape: "http",
			want: web.Request{
				Trigger: web.TriggerHTTP, Method: "POST", Path: "/mp-login",
				Query:  url.Values{"invite": {"INV123"}, "src": {"share", "card"}, "debug": {""}},
				Header: http.Header{"Content-Type": {"application/json"}, "X-Qualifier": {"$LATEST"}},
				Body:   []byte(`{"code":"REAL_CODE_2"}`), RemoteIP: "203.0.113.20", RequestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
			},
		},
		{
			file: "scf-apigw-me.json", shape: "http",
			want: web.Request{
				Trigger: web.TriggerHTTP, Method: "GET", Path: "/member-api/me", Query: url.Values{},
				Header: http.Header{"Authorization": {"Bearer tok.en-2"}},
				Body:   []byte{}, RemoteIP: "203.0.113.20", RequestID: "d7b0abd7-8c72-11e6-9a41-93e8deadbeef",
			},
		},
		{
			file: "scf-function-url.json", shape: "http",
			want: web.Request{
				Trigger: web.TriggerHTTP, Method: "POST", Path: "/mp-login", Query: url.Values{},
				Header: http.Header{"Content-Type": {"application/json"}},
				Body:   []byte(`{"code":"REAL_CODE_2"}`), RemoteIP: "", // x-scf-remote-addr is the client's to set.
			},
		},
		{
			file: "scf-function-url-me.json", shape: "http",
			want: web.Request{
				Trigger: web.TriggerHTTP, Method: "GET", Path: "/me", Query: url.Values{"fields": {"card"}},
				Header: http.Header{"Authorization": {"Bearer tok.en-2"}},
				Body:   []byte{}, RemoteIP: "",
			},
		},
		{
			file: "scf-timer.json", shape: "schedule",
			want: web.Request{
				Trigger: web.TriggerSchedule, Method: "POST", Path: "/", Query: url.Values{},
				Header: http.Header{"Content-Type": {"application/json"}},
				Body:   []byte(`{"name":"expiry-sweep-daily","time":"2026-11-21T18:00:00Z"}`),
			},
		},
		{
			file: "cloudbase-call.json", shape: "call",
			want: web.Request{
				Trigger: web.TriggerCall, Method: "POST", Path: "/mp-login", Query: url.Values{},
				Header: http.Header{"Content-Type": {"application/json"}},
				Body:   []byte(`{"code":"REAL_CODE_2"}`), RemoteIP: "203.0.113.40", RequestID: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
				Caller: &web.Caller{OpenID: "oCALLER_A", AppID: "wxFIXTUREAPPID", UnionID: "uCALLER_A"},
			},
		},
		{
			file: "cloudbase-call-me.json", shape: "call",
			want: web.Request{
				Trigger: web.TriggerCall, Method: "GET", Path: "/me", Query: url.Values{"fields": {"card"}},
				Header: http.Header{}, RemoteIP: "203.0.113.40", RequestID: "1b2c3d4e-5f60-4b7c-9d8e-0f1a2b3c4d5e",
				Caller: &web.Caller{OpenID: "oCALLER_A", AppID: "wxFIXTUREAPPID", UnionID: "uCALLER_A"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := eventfix.Load(tt.file, vars)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tt.shape == "call" {
				if ctx, err = eventfix.SCFContext(ctx, tt.file, vars); err != nil {
					t.Fatal(err)
				}
			}
			rec := &recorder{resp: okJSON()}
			out, err := scf.Invoke(rec.serve)(ctx, raw)
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			if len(rec.got) != 1 {
				t.Fatalf("handler called %d times, want 1", len(rec.got))
			}
			checkRequest(t, rec.got[0], &tt.want)

			var want any
			switch tt.shape {
			case "http":
				want = events.APIGatewayResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"ok":true}`}
			case "call":
				want = scf.CallResult{Status: 200, Data: json.RawMessage(`{"ok":true}`), RequestID: tt.want.RequestID}
			case "schedule":
				want = scf.ScheduleResult{Status: 200, Body: `{"ok":true}`}
			}
			if !reflect.DeepEqual(out, want) {
				t.Errorf("answer = %#v, want %#v", out, want)
			}
		})
	}
}

// checkRequest compares the fields of a request that adapters fill in; for
// headers only the keys named in want are compared.
func checkRequest(t *testing.T, got, want *web.Request) {
	t.Helper()
	if got.Trigger != want.Trigger || got.Method != want.Method || got.Path != want.Path {
		t.Errorf("trigger/method/path = %s %s %s, want %s %s %s", got.Trigger, got.Method, got.Path, want.Trigger, want.Method, want.Path)
	}
	if !reflect.DeepEqual(got.Query, want.Query) {
		t.Errorf("query = %v, want %v", got.Query, want.Query)
	}
	for k, v := range want.Header {
		if !reflect.DeepEqual(got.Header[k], v) {
			t.Errorf("header %s = %q, want %q", k, got.Header[k], v)
		}
	}
	if got.Header == nil {
		t.Error("header is nil")
	}
	if !bytes.Equal(got.Body, want.Body) {
		t.Errorf("body = %q, want %q", got.Body, want.Body)
	}
	if got.RemoteIP != want.RemoteIP || got.RequestID != want.RequestID {
		t.Errorf("remote ip, request id = %q, %q, want %q, %q", got.RemoteIP, got.RequestID, want.RemoteIP, want.RequestID)
	}
	if !reflect.DeepEqual(got.Caller, want.Caller) {
		t.Errorf("caller = %+v, want %+v", got.Caller, want.Caller)
	}
}

func TestHTTPResponseEncoding(t *testing.T) {
	png := []byte{0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff}
	tests := []struct {
		name       string
		resp       *web.Response
		err        error
		want       events.APIGatewayResponse
		wantBinary []byte
	}{
		{
			name: "text",
			resp: &web.Response{Status: 201, Header: http.Header{"Content-Type": {"text/plain"}, "Vary": {"Origin", "Accept"}}, Body: []byte("héllo")},
			want: events.APIGatewayResponse{StatusCode: 201, Headers: map[string]string{"Content-Type": "text/plain", "Vary": "Origin, Accept"}, Body: "héllo"},
		},
		{
			name:       "binary is base64",
			resp:       &web.Response{Status: 200, Header: http.Header{"Content-Type": {"image/png"}}, Body: png},
			want:       events.APIGatewayResponse{StatusCode: 200, IsBase64Encoded: true, Headers: map[string]string{"Content-Type": "image/png"}, Body: base64.StdEncoding.EncodeToString(png)},
			wantBinary: png,
		},
		{
			name: "error without response is rendered",
			err:  errs.E("test", errs.Unauthorized, "token expired"),
			want: events.APIGatewayResponse{StatusCode: 401, Headers: map[string]string{"Content-Type": "application/json"},
				Body: `{"error":{"kind":"unauthorized","message":"token expired"},"request_id":"c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}` + "\n"},
		},
	}
	raw, err := eventfix.Load("scf-apigw.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := scf.Invoke((&recorder{resp: tt.resp, err: tt.err}).serve)(context.Background(), raw)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out, tt.want) {
				t.Errorf("answer = %#v, want %#v", out, tt.want)
			}
			if tt.wantBinary != nil {
				b, _ := base64.StdEncoding.DecodeString(out.(events.APIGatewayResponse).Body)
				if !bytes.Equal(b, tt.wantBinary) {
					t.Errorf("decoded body = %x, want %x", b, tt.wantBinary)
				}
			}
		})
	}
}

func TestInvokeRefuses(t *testing.T) {
	tests := []struct {
		name  string
		event string
		msg   string // When not "", the refusal's message.
	}{
		{"not JSON", `not json`, "event is not a JSON object"},
		{"empty object", `{}`, ""},
		{"Lambda v2 event", `{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"GET"}}}`, ""},
		{"COS event", `{"Records":[{"cos":{}}]}`, ""},
		{"malformed HTTP event", `{"httpMethod":"GET","path":"/","headers":{"a":1}}`, "malformed HTTP event"},
		{"marker of the wrong type", `{"httpMethod":"GET","path":1}`, "event is not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{resp: okJSON()}
			_, err := scf.Invoke(rec.serve)(context.Background(), json.RawMessage(tt.event))
			if !errs.Is(errs.Invalid, err) || tt.msg != "" && errs.SafeMessage(err) != tt.msg {
				t.Errorf("err = %v, want kind invalid %q", err, tt.msg)
			}
			if len(rec.got) != 0 {
				t.Errorf("handler called %d times, want 0", len(rec.got))
			}
		})
	}
}

func TestFailedTimerIsAnError(t *testing.T) {
	raw, err := eventfix.Load("scf-timer.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		err     error
		wantErr bool
	}{
		{errs.E("sweep", errs.Internal, "boom"), true},
		{errs.E("sweep", errs.InProgress, "another run holds the lease"), false},
	}
	for _, tt := range tests {
		_, err := scf.Invoke((&recorder{err: tt.err}).serve)(context.Background(), raw)
		if (err != nil) != tt.wantErr {
			t.Errorf("handler error %v: Invoke err = %v, want error %v", tt.err, err, tt.wantErr)
		}
	}
}

func TestBadBase64BodyIs400(t *testing.T) {
	ev := `{"requestContext":{"serviceId":"service-1","httpMethod":"POST","requestId":"r9","sourceIp":"192.0.2.1"},"httpMethod":"POST","path":"/mp-login","body":"%%%","isBase64Encoded":true}`
	rec := &recorder{resp: okJSON()}
	out, err := scf.Invoke(rec.serve)(context.Background(), json.RawMessage(ev))
	if err != nil {
		t.Fatal(err)
	}
	if got := out.(events.APIGatewayResponse).StatusCode; got != 400 {
		t.Errorf("status = %d, want 400", got)
	}
	if len(rec.got) != 0 {
		t.Errorf("handler called %d times, want 0", len(rec.got))
	}
}

// TestTimerWithAnHTTPMethodIsATimer: a timer is recognised by its Type
// even when it carries a field an HTTP event has.
func TestTimerWithAnHTTPMethodIsATimer(t *testing.T) {
	ev := `{"Type":"Timer","TriggerName":"nightly","Time":"2026-11-21T18:00:00Z","httpMethod":"GET"}`
	rec := &recorder{resp: okJSON()}
	if _, err := scf.Invoke(rec.serve)(context.Background(), json.RawMessage(ev)); err != nil || len(rec.got) != 1 || rec.got[0].Trigger != web.TriggerSchedule {
		t.Fatalf("timer: %v, %d requests; want one schedule request", err, len(rec.got))
	}
}
