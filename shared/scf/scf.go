// Package scf runs a web.Handler on Tencent Cloud SCF (and CloudBase, which
// runs SCF underneath). It recognises four event shapes:
//
//   - API Gateway trigger (integration request): requestContext with
//     serviceId/httpMethod/sourceIp, headers, queryString, body,
//     isBase64Encoded. Client IP: requestContext.sourceIp.
//
//   - Function URL: the same shape without requestContext (and without
//     isBase64Encoded, which is honoured if present). Client IP: none. An
//     x-scf-remote-addr header is not taken for it: nothing shows that the
//     platform overwrites one the client sent, and a client address drawn
//     from a header the client sets would let it pick its own rate-limit key.
//
//   - Timer trigger: {"Type":"Timer","TriggerName":…,"Time":…,"Message":…}.
//     The handler sees Trigger web.TriggerSchedule, POST "/", and the JSON
//     body {"name":TriggerName,"time":Time,"message":Message} — the same body
//     the lambda adapter builds from an EventBridge schedule.
//
//   - CloudBase call (wx.cloud.callFunction from a mini-program): the event
//     is the caller's data, which wemember defines as the Call envelope
//
//     {"method":"GET","path":"/me","query":{"k":"v"},"headers":{…},"body":{…}}
//
//     path is required and must start with "/"; method defaults to GET
//     without a body and POST with one; query values are strings, numbers,
//     booleans or arrays of them; body is any JSON value: a string is sent
//     as its text, any other value as its compact JSON (Content-Type
//     application/json). The handler
//     sees Trigger web.TriggerCall, RemoteIP from the context's WX_CLIENTIP
//     and, when the platform vouches for the caller, Caller{OpenID, AppID,
//     UnionID}. Fields the platform adds to the data (userInfo) are ignored.
//
// The caller's identity is read only from the invocation's own function
// context (functioncontext.FromContext: Environment WX_OPENID, WX_APPID,
// WX_UNIONID), never from the process environment: scf-go-lib's runtime
// copies each invocation's environment into os.Setenv and never clears it,
// so a later invocation would otherwise inherit an earlier caller (Start
// serves the runtime itself and copies nothing, runtime.go). An invocation whose
// context carries WX_OPENID is always treated as a CloudBase call, whatever
// its data looks like, so a mini-program cannot pass itself off as a timer
// or an HTTP request. Envelope data with no vouched caller (another
// function or an admin tool invoking through the SCF API) is a call with a
// nil Caller.
//
// HTTP events are answered with the API Gateway integration response
// {"isBase64Encoded":false,"statusCode":200,"headers":{…},"body":"…"} (a body
// that is not valid UTF-8 is base64). CloudBase calls are answered with
// CallResult: {"status":200,"data":<the JSON body, or the text body as a
// string>,"requestId":"…"}.
package scf

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/tencentyun/scf-go-lib/events"
	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/web"
)

// HTTPEvent is an API Gateway trigger or function URL event. scf-go-lib's
// events.APIGatewayRequest lacks isBase64Encoded, hence this type.
type HTTPEvent struct {
	Headers         map[string]string                `json:"headers"`
	Method          string                           `json:"httpMethod"`
	Path            string                           `json:"path"`
	QueryString     events.APIGatewayQueryString     `json:"queryString"`
	Body            string                           `json:"body"`
	IsBase64Encoded bool                             `json:"isBase64Encoded"`
	RequestContext  *events.APIGatewayRequestContext `json:"requestContext"`
}

// Call is the CloudBase call envelope (see the package comment).
type Call struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   json.RawMessage   `json:"query"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// CallResult answers a CloudBase call. Data is the response body as JSON
// when it is JSON, else as a string (base64 when not valid UTF-8, with
// Base64 set).
type CallResult struct {
	Status    int             `json:"status"`
	Data      json.RawMessage `json:"data"`
	Base64    bool            `json:"base64,omitempty"`
	RequestID string          `json:"requestId,omitempty"`
}

// ScheduleResult is what a timer invocation returns when the handler
// succeeds; the platform keeps it only for the invocation log.
type ScheduleResult struct {
	Status int    `json:"status"`
	Body   string `json:"body,omitempty"`
}

// Schedule is the body of a schedule request (see the package comment).
type Schedule struct {
	Name    string `json:"name"`
	Time    string `json:"time"`
	Message string `json:"message,omitempty"`
}

// event is an HTTP event's fields and those that tell the other shapes
// apart, so that one decoding of an HTTP event's payload (which may carry a
// body of megabytes) both recognises and converts it.
type event struct {
	HTTPEvent
	Type string `json:"Type"`
}

// probe holds the few fields that tell the event shapes apart.
type probe struct {
	Type           string          `json:"Type"`
	HTTPMethod     string          `json:"httpMethod"`
	RequestContext json.RawMessage `json:"requestContext"`
	Path           *string         `json:"path"`
}

// Invoke is h as an SCF handler function. HTTP events and CloudBase calls
// always get an answer, a handler error rendered with web.Error; a timer
// run whose handler fails (status 500 or more) returns an error so the
// platform logs the failure. An event of no known shape is errs.Invalid.
func Invoke(h web.Handler) func(ctx context.Context, raw json.RawMessage) (any, error) {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		const op = "scf.Invoke"
		fc, _ := functioncontext.FromContext(ctx)
		caller := callerOf(fc)
		if caller == nil {
			var ev event
			if json.Unmarshal(raw, &ev) == nil && ev.Type != "Timer" && ev.Method != "" {
				return serveHTTP(ctx, h, &ev.HTTPEvent, fc), nil
			}
		}
		var p probe
		if err := json.Unmarshal(raw, &p); err != nil {
			if caller != nil {
				return callResult(web.Error(errs.E(op, errs.Invalid, "call data is not a JSON object", err), requestID(fc, "")), ""), nil
			}
			return nil, errs.E(op, errs.Invalid, "event is not a JSON object", err)
		}
		switch {
		case caller != nil:
			return serveCall(ctx, h, raw, fc, caller), nil
		case p.Type == "Timer":
			var ev events.TimerEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				return nil, errs.E(op, errs.Invalid, "malformed timer event", err)
			}
			return serveTimer(ctx, h, &ev, fc)
		case p.HTTPMethod != "":
			var ev HTTPEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				return nil, errs.E(op, errs.Invalid, "malformed HTTP event", err)
			}
			return serveHTTP(ctx, h, &ev, fc), nil
		case p.Path != nil:
			return serveCall(ctx, h, raw, fc, nil), nil
		}
		return nil, errs.E(op, errs.Invalid, "unrecognised event: not an API Gateway, function URL, timer or CloudBase call event")
	}
}

// callerOf is the identity the platform vouches for in this invocation's
// context, nil when it vouches for none.
func callerOf(fc *functioncontext.FunctionContext) *web.Caller {
	if fc == nil || fc.Environment["WX_OPENID"] == "" {
		return nil
	}
	return &web.Caller{
		OpenID:  fc.Environment["WX_OPENID"],
		AppID:   fc.Environment["WX_APPID"],
		UnionID: fc.Environment["WX_UNIONID"],
	}
}

// requestID is the invocation's id, or fallback without a function context.
func requestID(fc *functioncontext.FunctionContext, fallback string) string {
	if fc != nil && fc.RequestID != "" {
		return fc.RequestID
	}
	return fallback
}

// HTTPRequest converts an API Gateway or function URL event to a
// web.Request. A body marked base64 that does not decode is errs.Invalid.
func HTTPRequest(ev *HTTPEvent, reqID string) (*web.Request, error) {
	var body []byte
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return nil, errs.E("scf.HTTPRequest", errs.Invalid, "request body is not valid base64", err)
		}
		body = b
	} else {
		body = []byte(ev.Body)
	}
	req := web.NewRequest(strings.ToUpper(ev.Method), "/", body)
	req.Path = ev.Path
	for k, vs := range ev.QueryString {
		if len(vs) == 0 {
			vs = []string{""} // A bare key ("?flag") arrives as true.
		}
		req.Query[k] = vs
	}
	for k, v := range ev.Headers {
		req.Header.Set(k, v)
	}
	if ev.RequestContext != nil {
		req.RemoteIP = ev.RequestContext.SourceIP
		if reqID == "" {
			reqID = ev.RequestContext.RequestID
		}
	}
	req.RequestID = reqID
	return req, nil
}

// serveHTTP runs h for an HTTP event and always produces a response.
func serveHTTP(ctx context.Context, h web.Handler, ev *HTTPEvent, fc *functioncontext.FunctionContext) events.APIGatewayResponse {
	req, err := HTTPRequest(ev, requestID(fc, ""))
	if err != nil {
		return Response(web.Error(err, requestID(fc, "")))
	}
	return Response(web.Serve(ctx, h, req))
}

// Response encodes a web.Response as an API Gateway integration response.
// Header values are joined with ", "; a body that is not valid UTF-8 is
// base64-encoded.
func Response(r *web.Response) events.APIGatewayResponse {
	out := events.APIGatewayResponse{StatusCode: r.Status, Headers: map[string]string{}}
	if out.StatusCode == 0 {
		out.StatusCode = http.StatusOK
	}
	for k, vs := range r.Header {
		out.Headers[k] = strings.Join(vs, ", ")
	}
	if utf8.Valid(r.Body) {
		out.Body = string(r.Body)
	} else {
		out.Body = base64.StdEncoding.EncodeToString(r.Body)
		out.IsBase64Encoded = true
	}
	return out
}

// serveTimer runs h for a timer event.
func serveTimer(ctx context.Context, h web.Handler, ev *events.TimerEvent, fc *functioncontext.FunctionContext) (any, error) {
	body, _ := json.Marshal(Schedule{Name: ev.TriggerName, Time: ev.Time, Message: ev.Message}) // Strings only.
	req := web.NewRequest(http.MethodPost, "/", body)
	req.Trigger = web.TriggerSchedule
	req.Header.Set("Content-Type", "application/json")
	req.RequestID = requestID(fc, "")
	resp := web.Serve(ctx, h, req)
	if resp.Status >= 500 {
		return nil, errs.E("scf.Invoke", errs.Internal, fmt.Errorf("scheduled run answered %d: %.512s", resp.Status, textOf(resp.Body)))
	}
	return ScheduleResult{Status: resp.Status, Body: textOf(resp.Body)}, nil
}

// textOf is a body as text: as is when valid UTF-8, else base64.
func textOf(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return base64.StdEncoding.EncodeToString(b)
}
