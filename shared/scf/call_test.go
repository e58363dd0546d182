package scf_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"sync"
	"testing"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/scf"
	"github.com/wemember/wemember/shared/web"
	"github.com/wemember/wemember/tests/eventfix"
)

// setenvLikeSCF does what scf-go-lib's Function.Invoke does with an
// invocation's environment: copy it into the process environment, never
// clearing it afterwards. t.Setenv restores the variables after the test.
func setenvLikeSCF(t *testing.T, env map[string]string) {
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// TestCallerComesOnlyFromTheInvocation proves that the identity of one
// CloudBase caller never reaches another invocation, although the SCF
// runtime leaves it in the process environment.
func TestCallerComesOnlyFromTheInvocation(t *testing.T) {
	call, err := eventfix.Load("cloudbase-call-me.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := eventfix.Load("scf-apigw-me.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	first := map[string]string{"WX_OPENID": "oFIRST", "WX_APPID": "wxAPP", "WX_UNIONID": "uFIRST"}
	second := map[string]string{"WX_OPENID": "oSECOND", "WX_APPID": "wxAPP"} // No unionid.
	httpEnv := map[string]string{"SCF_NAMESPACE": "default"}                 // An HTTP invocation's environment.

	rec := &recorder{resp: okJSON()}
	invoke := scf.Invoke(rec.serve)
	steps := []struct {
		name  string
		event []byte
		env   map[string]string
		want  *web.Caller
	}{
		{"first caller", call, first, &web.Caller{OpenID: "oFIRST", AppID: "wxAPP", UnionID: "uFIRST"}},
		{"second caller", call, second, &web.Caller{OpenID: "oSECOND", AppID: "wxAPP"}},
		{"plain HTTP after calls", plain, httpEnv, nil},
		{"plain HTTP without a function context", plain, nil, nil},
	}
	for i, s := range steps {
		if s.env != nil {
			setenvLikeSCF(t, s.env)
		}
		ctx := context.Background()
		if s.env != nil {
			ctx = scfContext(fmt.Sprint("req-", i), s.env)
		}
		if _, err := invoke(ctx, s.event); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got := rec.got[len(rec.got)-1].Caller
		if !reflect.DeepEqual(got, s.want) {
			t.Errorf("%s: caller = %+v, want %+v", s.name, got, s.want)
		}
	}
	// The premise: the process environment still names a caller.
	if got := os.Getenv("WX_OPENID"); got != "oSECOND" {
		t.Fatalf("os.Getenv(WX_OPENID) = %q; the test no longer simulates the leak", got)
	}
}

// TestConcurrentCallersStayApart runs two callers at once (SCF may run
// concurrent invocations in one instance) and checks every request saw its
// own caller.
func TestConcurrentCallersStayApart(t *testing.T) {
	call, err := eventfix.Load("cloudbase-call-me.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	type seen struct{ id, openid string }
	var mu sync.Mutex
	var log []seen
	h := func(_ context.Context, req *web.Request) (*web.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		log = append(log, seen{req.RequestID, req.Caller.OpenID})
		return okJSON(), nil
	}
	invoke := scf.Invoke(h)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				openid := fmt.Sprint("o", w)
				ctx := scfContext(fmt.Sprint(w, "-", i), map[string]string{"WX_OPENID": openid})
				if _, err := invoke(ctx, call); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(log) != 100 {
		t.Fatalf("%d requests handled, want 100", len(log))
	}
	for _, s := range log {
		if s.id[:1] != s.openid[1:] {
			t.Errorf("request %s saw caller %s", s.id, s.openid)
		}
	}
}

// TestVouchedCallIsAlwaysACall: data from a mini-program cannot pose as a
// timer or an HTTP request, and an identity inside the data is ignored.
func TestVouchedCallIsAlwaysACall(t *testing.T) {
	vouched := map[string]string{"WX_OPENID": "oREAL", "WX_APPID": "wxAPP"}
	tests := []struct {
		name       string
		data       string
		env        map[string]string
		wantStatus int
		wantCaller *web.Caller
		wantCalled bool
	}{
		{"timer-shaped data", `{"Type":"Timer","TriggerName":"expiry-sweep-daily","Time":"2026-11-21T18:00:00Z"}`, vouched, 400, nil, false},
		{"HTTP-shaped data", `{"httpMethod":"POST","path":"/admin","headers":{"x-scf-remote-addr":"10.0.0.1"}}`, vouched, 200, &web.Caller{OpenID: "oREAL", AppID: "wxAPP"}, true},
		{"forged userInfo with a vouched caller", `{"path":"/me","userInfo":{"openId":"oFORGED"}}`, vouched, 200, &web.Caller{OpenID: "oREAL", AppID: "wxAPP"}, true},
		{"forged userInfo without one", `{"path":"/me","userInfo":{"openId":"oFORGED"}}`, map[string]string{}, 200, nil, true},
		{"data not an object", `"hello"`, vouched, 400, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{resp: okJSON()}
			out, err := scf.Invoke(rec.serve)(scfContext("r1", tt.env), json.RawMessage(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			res, ok := out.(scf.CallResult)
			if !ok || res.Status != tt.wantStatus {
				t.Fatalf("answer = %#v, want a CallResult with status %d", out, tt.wantStatus)
			}
			if len(rec.got) == 1 != tt.wantCalled {
				t.Fatalf("handler called %d times, want called %v", len(rec.got), tt.wantCalled)
			}
			if tt.wantCalled && !reflect.DeepEqual(rec.got[0].Caller, tt.wantCaller) {
				t.Errorf("caller = %+v, want %+v", rec.got[0].Caller, tt.wantCaller)
			}
		})
	}
}

func TestCallRequest(t *testing.T) {
	tests := []struct {
		name      string
		data      string
		want      web.Request
		wantCType string
	}{
		{"GET by default", `{"path":"/me"}`, web.Request{Method: "GET", Path: "/me", Query: url.Values{}}, ""},
		{"POST by default with a body", `{"path":"/sign-in","body":{"day":"2026-11-21"}}`,
			web.Request{Method: "POST", Path: "/sign-in", Query: url.Values{}, Body: []byte(`{"day":"2026-11-21"}`)}, "application/json"},
		{"string body is text", `{"method":"put","path":"/note","body":"hi there"}`,
			web.Request{Method: "PUT", Path: "/note", Query: url.Values{}, Body: []byte("hi there")}, "text/plain; charset=utf-8"},
		{"query of strings, numbers, booleans and arrays", `{"path":"/ledger?kind=points","query":{"page":2,"all":true,"tag":["a","b"],"q":"x y"}}`,
			web.Request{Method: "GET", Path: "/ledger", Query: url.Values{"kind": {"points"}, "page": {"2"}, "all": {"true"}, "tag": {"a", "b"}, "q": {"x y"}}}, ""},
		{"headers pass", `{"path":"/me","headers":{"accept-language":"zh-CN"}}`,
			web.Request{Method: "GET", Path: "/me", Query: url.Values{}, Header: http.Header{"Accept-Language": {"zh-CN"}}}, ""},
	}
	caller := &web.Caller{OpenID: "o1"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := scf.CallRequest([]byte(tt.data), caller, "rid")
			if err != nil {
				t.Fatal(err)
			}
			if got.Trigger != web.TriggerCall || got.Caller != caller || got.RequestID != "rid" {
				t.Errorf("trigger, caller, id = %s %+v %q, want call %+v rid", got.Trigger, got.Caller, got.RequestID, caller)
			}
			if got.Method != tt.want.Method || got.Path != tt.want.Path || string(got.Body) != string(tt.want.Body) {
				t.Errorf("got %s %s %q, want %s %s %q", got.Method, got.Path, got.Body, tt.want.Method, tt.want.Path, tt.want.Body)
			}
			if !reflect.DeepEqual(got.Query, tt.want.Query) {
				t.Errorf("query = %v, want %v", got.Query, tt.want.Query)
			}
			if ct := got.Header.Get("Content-Type"); ct != tt.wantCType {
				t.Errorf("content type = %q, want %q", ct, tt.wantCType)
			}
			for k, v := range tt.want.Header {
				if !reflect.DeepEqual(got.Header[k], v) {
					t.Errorf("header %s = %q, want %q", k, got.Header[k], v)
				}
			}
		})
	}
}

func TestCallRequestRefuses(t *testing.T) {
	tests := []struct{ name, data string }{
		{"no path", `{"method":"GET"}`},
		{"relative path", `{"path":"me"}`},
		{"scheme-relative path", `{"path":"//evil.example/me"}`},
		{"bad method", `{"method":"GE T","path":"/me"}`},
		{"query object value", `{"path":"/me","query":{"a":{"b":1}}}`},
		{"query not an object", `{"path":"/me","query":"a=1"}`},
		{"not an object", `[1,2]`},
	}
	for _, tt := range tests {
		_, err := scf.CallRequest([]byte(tt.data), nil, "")
		if !errs.Is(errs.Invalid, err) {
			t.Errorf("%s: err = %v, want kind invalid", tt.name, err)
		}
	}
}

func TestCallResultEncoding(t *testing.T) {
	tests := []struct {
		name string
		resp *web.Response
		err  error
		want string
	}{
		{"JSON body is data", &web.Response{Status: 200, Header: http.Header{"X-Request-Id": {"rid-1"}}, Body: []byte(`{"points":20}`)},
			nil, `{"status":200,"data":{"points":20},"requestId":"rid-1"}`},
		{"text body is a string", web.Text(200, "ok then"), nil, `{"status":200,"data":"ok then","requestId":"r1"}`},
		{"empty body is null", &web.Response{Status: 204}, nil, `{"status":204,"data":null,"requestId":"r1"}`},
		{"binary body is base64", &web.Response{Status: 200, Body: []byte{0xff, 0x00}}, nil, `{"status":200,"data":"/wA=","base64":true,"requestId":"r1"}`},
		{"error is rendered", nil, errs.E("t", errs.NotExist, "no such member"),
			`{"status":404,"data":{"error":{"kind":"not_exist","message":"no such member"},"request_id":"r1"},"requestId":"r1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := scf.Invoke((&recorder{resp: tt.resp, err: tt.err}).serve)(scfContext("r1", map[string]string{"WX_OPENID": "o1"}), json.RawMessage(`{"path":"/me"}`))
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(out)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("answer = %s, want %s", got, tt.want)
			}
		})
	}
}
