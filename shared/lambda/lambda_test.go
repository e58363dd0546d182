package lambda_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/lambda"
	"github.com/wemember/wemember/shared/web"
	"github.com/wemember/wemember/tests/eventfix"
)

// recorder is a web.Handler that keeps the requests it sees and answers resp
// and err.
type recorder struct {
	got  []*web.Request
	resp *web.Response
	err  error
}

func (r *recorder) serve(_ context.Context, req *web.Request) (*web.Response, error) {
	r.got = append(r.got, req)
	return r.resp, r.err
}

func okJSON() *web.Response {
	return &web.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"ok":true}`)}
}

func TestInvokeFixtures(t *testing.T) {
	vars := map[string]string{"code": "REAL_CODE_1", "token": "tok.en-1"}
	tests := []struct {
		file     string
		want     web.Request
		urlResp  bool // Answer shaped as a function URL response.
		schedule bool
	}{
		{
			file: "lambda-http-v2.json",
			want: web.Request{
				Trigger: web.TriggerHTTP, Method: "POST", Path: "/mp-login",
				Query:  url.Values{"invite": {"INV123"}, "src": {"share", "card"}},
				Header: http.Header{"Content-Type": {"application/json"}, "Cookie": {"lang=zh_CN"}},
				Body:   []byte(`{"code":"REAL_CODE_1"}`), RemoteIP: "203.0.113.10", RequestID: "Pj3eYhLQoAMEbvw=",
			},
		},
		{
			file: "lambda-http-v2-me.json",
			want: web.Request{
				Trigger: web.TriggerHTTP, Method: "GET", Path: "/member-api/me", Query: url.Values{},
				Header:   http.Header{"Authorization": {"Bearer tok.en-1"}},
				RemoteIP: "203.0.113.10", RequestID: "Pj3eZgLRoAMEbxQ=",
			},
		},
		{
			file: "lambda-function-url.json", urlResp: true,
			want: web.Request{
				Trigger: web.TriggerHTTP, Method: "POST", Path: "/mp-login", Query: url.Values{},
				Header: http.Header{"Content-Type": {"application/json"}},
				Body:   []byte(`{"code":"REAL_CODE_1"}`), RemoteIP: "198.51.100.7", RequestID: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
			},
		},
		{
			file: "lambda-function-url-me.json", urlResp: true,
			want: web.Request{
				Trigger: web.TriggerHTTP, Method: "GET", Path: "/me", Query: url.Values{"fields": {"card"}},
				Header:   http.Header{"Authorization": {"Bearer tok.en-1"}},
				RemoteIP: "198.51.100.7", RequestID: "1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809",
			},
		},
		{
			file: "eventbridge-schedule.json", schedule: true,
			want: web.Request{
				Trigger: web.TriggerSchedule, Method: "POST", Path: "/", Query: url.Values{},
				Header:    http.Header{"Content-Type": {"application/json"}},
				Body:      []byte(`{"name":"wemember-expiry-sweep-daily","time":"2026-11-21T18:00:00Z"}`),
				RequestID: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := eventfix.Load(tt.file, vars)
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{resp: okJSON()}
			out, err := lambda.Invoke(rec.serve)(context.Background(), raw)
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			if len(rec.got) != 1 {
				t.Fatalf("handler called %d times, want 1", len(rec.got))
			}
			checkRequest(t, rec.got[0], &tt.want)

			switch o := out.(type) {
			case events.APIGatewayV2HTTPResponse:
				if tt.urlResp || tt.schedule {
					t.Fatalf("answer is %T, want another shape", out)
				}
				checkOK(t, o.StatusCode, o.Headers, o.Body, o.IsBase64Encoded)
			case events.LambdaFunctionURLResponse:
				if !tt.urlResp {
					t.Fatalf("answer is %T, want API Gateway v2", out)
				}
				checkOK(t, o.StatusCode, o.Headers, o.Body, o.IsBase64Encoded)
			case lambda.ScheduleResult:
				if !tt.schedule {
					t.Fatalf("answer is %T", out)
				}
				if o.Status != 200 || o.Body != `{"ok":true}` {
					t.Errorf("schedule result = %+v, want status 200 body {\"ok\":true}", o)
				}
			default:
				t.Fatalf("answer is %T", out)
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
	if !bytes.Equal(got.Body, want.Body) {
		t.Errorf("body = %q, want %q", got.Body, want.Body)
	}
	if got.RemoteIP != want.RemoteIP || got.RequestID != want.RequestID {
		t.Errorf("remote ip, request id = %q, %q, want %q, %q", got.RemoteIP, got.RequestID, want.RemoteIP, want.RequestID)
	}
	if got.Caller != nil {
		t.Errorf("caller = %+v, want nil", got.Caller)
	}
}

func checkOK(t *testing.T, status int, headers map[string]string, body string, b64 bool) {
	t.Helper()
	if status != 200 || headers["Content-Type"] != "application/json" || body != `{"ok":true}` || b64 {
		t.Errorf("answer = %d %v %q base64=%v, want 200 application/json {\"ok\":true} false", status, headers, body, b64)
	}
}

// TestFixturesAreRealShapes decodes every Lambda fixture into the
// aws-lambda-go type strictly: a misspelt or invented field fails.
func TestFixturesAreRealShapes(t *testing.T) {
	tests := []struct {
		file string
		into any
	}{
		{"lambda-http-v2.json", &events.APIGatewayV2HTTPRequest{}},
		{"lambda-http-v2-me.json", &events.APIGatewayV2HTTPRequest{}},
		{"lambda-function-url.json", &events.APIGatewayV2HTTPRequest{}},
		{"lambda-function-url-me.json", &events.APIGatewayV2HTTPRequest{}},
		{"eventbridge-schedule.json", &events.EventBridgeEvent{}},
	}
	for _, tt := range tests {
		raw, err := eventfix.Load(tt.file, nil)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(tt.into); err != nil {
			t.Errorf("%s: %v", tt.file, err)
		}
	}
}

func TestResponseEncoding(t *testing.T) {
	png := []byte{0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff}
	tests := []struct {
		name        string
		resp        *web.Response
		err         error
		wantStatus  int
		wantHeaders map[string]string
		wantBody    []byte
		wantBase64  bool
		wantCookies []string
	}{
		{
			name:       "text",
			resp:       web.Text(201, "héllo"),
			wantStatus: 201, wantHeaders: map[string]string{"Content-Type": "text/plain; charset=utf-8"}, wantBody: []byte("héllo"),
		},
		{
			name:       "binary is base64",
			resp:       &web.Response{Status: 200, Header: http.Header{"Content-Type": {"image/png"}}, Body: png},
			wantStatus: 200, wantHeaders: map[string]string{"Content-Type": "image/png"}, wantBody: png, wantBase64: true,
		},
		{
			name: "cookies and multi-valued headers",
			resp: &web.Response{Status: 204, Header: http.Header{
				"Set-Cookie": {"a=1; Secure", "b=2; HttpOnly"}, "Vary": {"Origin", "Accept"},
			}},
			wantStatus: 204, wantHeaders: map[string]string{"Vary": "Origin, Accept"}, wantCookies: []string{"a=1; Secure", "b=2; HttpOnly"},
		},
		{
			name:       "error without response is rendered",
			err:        errs.E("test", errs.Permission, "not yours"),
			wantStatus: 403, wantHeaders: map[string]string{"Content-Type": "application/json"},
			wantBody: []byte(`{"error":{"kind":"permission","message":"not yours"},"request_id":"Pj3eYhLQoAMEbvw="}` + "\n"),
		},
		{
			name:       "no response and no error is internal",
			wantStatus: 500, wantHeaders: map[string]string{"Content-Type": "application/json"},
			wantBody: []byte(`{"error":{"kind":"internal","message":"handler returned no response"},"request_id":"Pj3eYhLQoAMEbvw="}` + "\n"),
		},
	}
	raw, err := eventfix.Load("lambda-http-v2.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{resp: tt.resp, err: tt.err}
			out, err := lambda.Invoke(rec.serve)(context.Background(), raw)
			if err != nil {
				t.Fatal(err)
			}
			got := out.(events.APIGatewayV2HTTPResponse)
			body := []byte(got.Body)
			if got.IsBase64Encoded {
				if body, err = base64.StdEncoding.DecodeString(got.Body); err != nil {
					t.Fatal(err)
				}
			}
			if got.StatusCode != tt.wantStatus || got.IsBase64Encoded != tt.wantBase64 || !bytes.Equal(body, tt.wantBody) {
				t.Errorf("got %d base64=%v %q, want %d base64=%v %q", got.StatusCode, got.IsBase64Encoded, body, tt.wantStatus, tt.wantBase64, tt.wantBody)
			}
			if !reflect.DeepEqual(got.Headers, tt.wantHeaders) {
				t.Errorf("headers = %v, want %v", got.Headers, tt.wantHeaders)
			}
			if !reflect.DeepEqual(got.Cookies, tt.wantCookies) {
				t.Errorf("cookies = %q, want %q", got.Cookies, tt.wantCookies)
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
		{"API Gateway v1 event", `{"resource":"/","path":"/","httpMethod":"GET","requestContext":{"httpMethod":"GET"}}`, ""},
		{"other EventBridge event", `{"version":"0","id":"x","source":"aws.s3","detail-type":"Object Created","detail":{}}`, ""},
		{"SCF timer", `{"Type":"Timer","TriggerName":"t","Time":"2026-11-21T18:00:00Z"}`, ""},
		{"malformed HTTP event", `{"version":"2.0","headers":{"a":1},"requestContext":{"http":{"method":"GET"}}}`, "malformed HTTP event"},
		{"marker of the wrong type", `{"version":"2.0","source":1,"requestContext":{"http":{"method":"GET"}}}`, "event is not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{resp: okJSON()}
			_, err := lambda.Invoke(rec.serve)(context.Background(), json.RawMessage(tt.event))
			if !errs.Is(errs.Invalid, err) || tt.msg != "" && errs.SafeMessage(err) != tt.msg {
				t.Errorf("err = %v, want kind invalid %q", err, tt.msg)
			}
			if len(rec.got) != 0 {
				t.Errorf("handler called %d times, want 0", len(rec.got))
			}
		})
	}
}

func TestBadBase64BodyIs400(t *testing.T) {
	ev := `{"version":"2.0","rawPath":"/mp-login","requestContext":{"requestId":"r1","http":{"method":"POST","sourceIp":"192.0.2.1"}},"body":"%%%","isBase64Encoded":true}`
	rec := &recorder{resp: okJSON()}
	out, err := lambda.Invoke(rec.serve)(context.Background(), json.RawMessage(ev))
	if err != nil {
		t.Fatal(err)
	}
	if got := out.(events.APIGatewayV2HTTPResponse).StatusCode; got != 400 {
		t.Errorf("status = %d, want 400", got)
	}
	if len(rec.got) != 0 {
		t.Errorf("handler called %d times, want 0", len(rec.got))
	}
}

func TestRequestIDFromLambdaContext(t *testing.T) {
	raw, err := eventfix.Load("lambda-http-v2-me.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "aws-req-42"})
	rec := &recorder{resp: okJSON()}
	if _, err := lambda.Invoke(rec.serve)(ctx, raw); err != nil {
		t.Fatal(err)
	}
	if got := rec.got[0].RequestID; got != "aws-req-42" {
		t.Errorf("request id = %q, want aws-req-42", got)
	}
}

func TestFailedScheduleIsAnError(t *testing.T) {
	raw, err := eventfix.Load("eventbridge-schedule.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		err     error
		wantErr bool
	}{
		{"transient failure", errs.E("sweep", errs.Transient, "store busy"), true},
		{"client-class failure is recorded, not retried", errs.E("sweep", errs.Conflict, "already ran"), false},
	}
	for _, tt := range tests {
		rec := &recorder{err: tt.err}
		out, err := lambda.Invoke(rec.serve)(context.Background(), raw)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v, want error %v (out %+v)", tt.name, err, tt.wantErr, out)
		}
	}
}

// TestScheduleWithOddFieldsRuns: a schedule event is recognised by its own
// fields, whatever else it carries under names an HTTP event uses.
func TestScheduleWithOddFieldsRuns(t *testing.T) {
	ev := `{"version":"0","id":"e1","detail-type":"Scheduled Event","source":"aws.events","time":"2026-11-21T18:00:00Z","resources":["arn:aws:events:r:1:rule/nightly"],"detail":{},"headers":1}`
	rec := &recorder{resp: okJSON()}
	if _, err := lambda.Invoke(rec.serve)(context.Background(), json.RawMessage(ev)); err != nil || len(rec.got) != 1 || rec.got[0].Trigger != web.TriggerSchedule {
		t.Fatalf("schedule: %v, %d requests; want one schedule request", err, len(rec.got))
	}
}
