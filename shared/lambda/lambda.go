// Package lambda runs a web.Handler on AWS Lambda. It recognises the events
// wemember functions are wired to — API Gateway HTTP API (payload 2.0),
// Lambda function URLs and EventBridge schedules — converts them to a
// web.Request, and the web.Response back to the shape the platform expects.
//
// Schedule events reach the handler as Trigger web.TriggerSchedule, method
// POST, path "/", Content-Type application/json and the body
//
//	{"name":"<rule name>","time":"<RFC 3339>","message":"<detail, if any>"}
//
// which is the same body the scf adapter builds from an SCF timer, so
// scheduled handlers do not know their cloud.
//
// Request.Path is the event's rawPath as the client sent it. An HTTP API
// stage other than $default appears in rawPath ("/prod/mp-login"), so
// functions are deployed on the $default stage for web.Mux prefixes to match.
package lambda

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	awslambda "github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/web"
)

// Start hands h to the Lambda runtime; it does not return. Build with
// -tags lambda.norpc.
func Start(h web.Handler) {
	awslambda.Start(Invoke(h))
}

// Schedule is the body of a schedule request (see the package comment).
type Schedule struct {
	Name    string `json:"name"`
	Time    string `json:"time"`
	Message string `json:"message,omitempty"`
}

// event is an HTTP event's fields and those that tell a schedule apart,
// so that one decoding of an HTTP event's payload (which may carry a body
// of megabytes) both recognises and converts it.
type event struct {
	events.APIGatewayV2HTTPRequest
	Source     string `json:"source"`
	DetailType string `json:"detail-type"`
}

// probe holds the few fields that tell the event shapes apart.
type probe struct {
	Version        string `json:"version"`
	Source         string `json:"source"`
	DetailType     string `json:"detail-type"`
	RequestContext struct {
		DomainName string `json:"domainName"`
		HTTP       struct {
			Method string `json:"method"`
		} `json:"http"`
	} `json:"requestContext"`
}

// Invoke is h as a Lambda handler function. HTTP events always answer an
// HTTP response, rendering a handler error with web.Error; a schedule whose
// handler fails (status 500 or more) returns an error so the platform
// records the failure and may retry. An event of any other shape is an
// errs.Invalid error.
func Invoke(h web.Handler) func(ctx context.Context, raw json.RawMessage) (any, error) {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		const op = "lambda.Invoke"
		var ev event
		malformed := json.Unmarshal(raw, &ev)
		if malformed != nil {
			// A field has a type no shape gives it: tell the shapes apart
			// by the fields that do, to say which is malformed.
			var p probe
			if err := json.Unmarshal(raw, &p); err != nil {
				return nil, errs.E(op, errs.Invalid, "event is not a JSON object", err)
			}
			ev = event{Source: p.Source, DetailType: p.DetailType}
			ev.Version, ev.RequestContext.HTTP.Method = p.Version, p.RequestContext.HTTP.Method
		}
		switch {
		case ev.Version == "2.0" && ev.RequestContext.HTTP.Method != "":
			if malformed != nil {
				return nil, errs.E(op, errs.Invalid, "malformed HTTP event", malformed)
			}
			resp := serveHTTP(ctx, h, &ev.APIGatewayV2HTTPRequest)
			if isFunctionURL(ev.RequestContext.DomainName) {
				return events.LambdaFunctionURLResponse{
					StatusCode: resp.StatusCode, Headers: resp.Headers, Body: resp.Body,
					IsBase64Encoded: resp.IsBase64Encoded, Cookies: resp.Cookies,
				}, nil
			}
			return resp, nil
		case isSchedule(ev.Source, ev.DetailType):
			var ev events.EventBridgeEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				return nil, errs.E(op, errs.Invalid, "malformed schedule event", err)
			}
			return serveSchedule(ctx, h, &ev)
		}
		return nil, errs.E(op, errs.Invalid, "unrecognised event: not an API Gateway v2 / function URL HTTP event or an EventBridge schedule")
	}
}

// isFunctionURL reports whether a request context domain is a function URL
// ("<url-id>.lambda-url.<region>.on.aws").
func isFunctionURL(domain string) bool {
	return strings.Contains(domain, ".lambda-url.")
}

// isSchedule reports whether an EventBridge event is a scheduled one.
func isSchedule(source, detailType string) bool {
	return (source == "aws.events" || source == "aws.scheduler") && detailType == "Scheduled Event"
}

// requestID is the Lambda invocation's id, or fallback when the context has
// none (tests, local invocation).
func requestID(ctx context.Context, fallback string) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return lc.AwsRequestID
	}
	return fallback
}

// Request converts an HTTP API v2 or function URL event (the function URL
// event has the same JSON shape) to a web.Request. A body marked base64
// that does not decode is errs.Invalid.
func Request(ctx context.Context, ev *events.APIGatewayV2HTTPRequest) (*web.Request, error) {
	var body []byte
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return nil, errs.E("lambda.Request", errs.Invalid, "request body is not valid base64", err)
		}
		body = b
	} else {
		body = []byte(ev.Body)
	}
	query, _ := url.ParseQuery(ev.RawQueryString) // Keeps what parses, like net/http.
	if query == nil {
		query = url.Values{}
	}
	header := http.Header{}
	for k, v := range ev.Headers {
		header.Set(k, v)
	}
	if len(ev.Cookies) > 0 {
		header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	return &web.Request{
		Trigger:   web.TriggerHTTP,
		Method:    strings.ToUpper(ev.RequestContext.HTTP.Method),
		Path:      path,
		Query:     query,
		Header:    header,
		Body:      body,
		RemoteIP:  ev.RequestContext.HTTP.SourceIP,
		RequestID: requestID(ctx, ev.RequestContext.RequestID),
	}, nil
}

// serveHTTP runs h for an HTTP event and always produces a response.
func serveHTTP(ctx context.Context, h web.Handler, ev *events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	req, err := Request(ctx, ev)
	if err != nil {
		return Response(web.Error(err, requestID(ctx, ev.RequestContext.RequestID)))
	}
	return Response(web.Serve(ctx, h, req))
}

// Response encodes a web.Response for API Gateway v2 (and, field for field,
// a function URL). Header values are joined with ", ", Set-Cookie values go
// to Cookies as the payload format requires, and a body that is not valid
// UTF-8 is sent base64-encoded.
func Response(r *web.Response) events.APIGatewayV2HTTPResponse {
	out := events.APIGatewayV2HTTPResponse{StatusCode: r.Status, Headers: map[string]string{}}
	if out.StatusCode == 0 {
		out.StatusCode = http.StatusOK
	}
	for k, vs := range r.Header {
		if http.CanonicalHeaderKey(k) == "Set-Cookie" {
			out.Cookies = append(out.Cookies, vs...)
			continue
		}
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

// ScheduleResult is what a schedule invocation returns when the handler
// succeeds; the platform keeps it only for the invocation record.
type ScheduleResult struct {
	Status int    `json:"status"`
	Body   string `json:"body,omitempty"`
}

// serveSchedule runs h for an EventBridge schedule event.
func serveSchedule(ctx context.Context, h web.Handler, ev *events.EventBridgeEvent) (any, error) {
	s := Schedule{Name: ruleName(ev.Resources), Time: ev.Time.UTC().Format(time.RFC3339)}
	if d := strings.TrimSpace(string(ev.Detail)); d != "" && d != "{}" && d != "null" {
		s.Message = d
	}
	body, _ := json.Marshal(s) // Strings only: cannot fail.
	req := web.NewRequest(http.MethodPost, "/", body)
	req.Trigger = web.TriggerSchedule
	req.Header.Set("Content-Type", "application/json")
	req.RequestID = requestID(ctx, ev.ID)
	resp := web.Serve(ctx, h, req)
	if resp.Status >= 500 {
		return nil, errs.E("lambda.Invoke", errs.Internal, fmt.Errorf("scheduled run answered %d: %.512s", resp.Status, bodyText(resp.Body)))
	}
	return ScheduleResult{Status: resp.Status, Body: bodyText(resp.Body)}, nil
}

// bodyText is a response body for the invocation record: text as is,
// anything else base64.
func bodyText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// ruleName is the rule's name from its ARN ("…:rule/NAME"), or the whole
// first resource when it has no "/".
func ruleName(resources []string) string {
	if len(resources) == 0 {
		return ""
	}
	r := resources[0]
	if i := strings.LastIndex(r, "/"); i >= 0 {
		return r[i+1:]
	}
	return r
}
