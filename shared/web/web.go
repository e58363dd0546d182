// Package web is the one small request/response model every wemember handler
// sees, whatever platform delivered the call: platform adapters (packages
// lambda, scf, local) convert their events to a Request and a Response back.
// Handlers never learn which cloud they run on.
package web

import (
	"context"
	"net/http"
	"net/url"

	"github.com/wemember/wemember/shared/errs"
)

// Trigger says what kind of event started an invocation.
type Trigger string

// The triggers.
const (
	TriggerHTTP     Trigger = "http"     // An HTTP request, however it was delivered.
	TriggerSchedule Trigger = "schedule" // A timer: EventBridge schedule, SCF timer, local ticker.
	TriggerCall     Trigger = "call"     // A mini-program call through CloudBase.
)

// Caller is an identity the platform itself vouches for (a CloudBase
// mini-program call carries the caller's openid). It is nil for plain HTTP.
type Caller struct {
	OpenID  string
	AppID   string
	UnionID string
}

// Request is an invocation as handlers see it.
type Request struct {
	Trigger   Trigger
	Method    string      // Upper case; "POST" for schedule triggers.
	Path      string      // As the client sent it, e.g. "/member-api/me" or "/me".
	Query     url.Values  // Never nil.
	Header    http.Header // Canonical keys; never nil.
	Body      []byte      // Decoded (never base64).
	RemoteIP  string
	RequestID string  // Set by the platform or the RequestID middleware.
	Caller    *Caller // Trusted platform identity; nil unless the platform vouches.
}

// Response is what a handler answers.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Handler serves one invocation. An error is turned into a response by the
// Errors middleware, with the status from the kind table and the safe message.
type Handler func(ctx context.Context, req *Request) (*Response, error)

// Middleware wraps a Handler.
type Middleware func(Handler) Handler

// Chain applies middleware so that the first listed is the outermost.
func Chain(h Handler, mw ...Middleware) Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// NewRequest builds a request with empty, non-nil maps; adapters and tests
// start from it.
func NewRequest(method, path string, body []byte) *Request {
	u, err := url.Parse(path)
	q := url.Values{}
	if err == nil {
		path, q = u.Path, u.Query()
	}
	return &Request{Trigger: TriggerHTTP, Method: method, Path: path, Query: q, Header: http.Header{}, Body: body}
}

// Text answers a plain-text body.
func Text(status int, body string) *Response {
	return &Response{Status: status, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: []byte(body)}
}

// XML answers an XML body.
func XML(status int, body []byte) *Response {
	return &Response{Status: status, Header: http.Header{"Content-Type": {"application/xml; charset=utf-8"}}, Body: body}
}

// Serve runs h and settles its answer to one response: the handler's
// response if it gave one (the Errors middleware renders errors into one),
// else its error rendered; the answer to HEAD has no body. Platform
// adapters call it, so no invocation ends without an answer.
func Serve(ctx context.Context, h Handler, req *Request) *Response {
	resp, err := h(ctx, req)
	if resp == nil {
		if err == nil {
			err = errs.E("web.Serve", errs.Internal, "handler returned no response")
		}
		resp = Error(err, req.RequestID)
	}
	if req.Method == http.MethodHead {
		resp.Body = nil
	}
	return resp
}
