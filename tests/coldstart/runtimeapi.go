package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The Lambda Runtime API, as aws-lambda-go's runtime client speaks it
// (lambda/runtime_api_client.go): GET next returns the event with its
// request id and deadline in headers; the answer is POSTed to
// <id>/response, a handler error to <id>/error, each acknowledged with 202
// Accepted; a start-up failure may be POSTed to /runtime/init/error.
const (
	apiPrefix      = "/2018-06-01/runtime/"
	headerID       = "Lambda-Runtime-Aws-Request-Id"
	headerDeadline = "Lambda-Runtime-Deadline-Ms"
	headerARN      = "Lambda-Runtime-Invoked-Function-Arn"
	headerTrace    = "Lambda-Runtime-Trace-Id"
	maxAnswer      = 6 << 20 // Lambda's synchronous response limit.
)

// outcome is how the function ended its first invocation.
type outcome struct {
	Kind string // "response", "error" (handler error) or "init-error".
	Body []byte
	At   time.Time // When the POST arrived.
}

// runtimeAPI is a one-invocation fake of the Lambda Runtime API on a
// loopback port: the first GET next delivers the event, later ones wait
// until the API is closed (the function is killed by then).
type runtimeAPI struct {
	event     []byte
	requestID string
	deadline  time.Duration
	now       func() time.Time

	ln   net.Listener
	srv  *http.Server
	done chan struct{} // Closed by Close: releases waiting GET next calls.

	mu        sync.Mutex
	delivered bool
	nextAt    time.Time // When the first GET next arrived: init is over.
	answered  chan outcome
}

// newRuntimeAPI serves a fake Runtime API on 127.0.0.1 delivering event.
func newRuntimeAPI(event []byte, requestID string, deadline time.Duration, now func() time.Time) (*runtimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	a := &runtimeAPI{
		event: event, requestID: requestID, deadline: deadline, now: now,
		ln: ln, done: make(chan struct{}), answered: make(chan outcome, 1),
	}
	a.srv = &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second}
	go a.srv.Serve(ln)
	return a, nil
}

// Addr is the host:port to put in AWS_LAMBDA_RUNTIME_API.
func (a *runtimeAPI) Addr() string { return a.ln.Addr().String() }

// Answered delivers the first outcome the function posts.
func (a *runtimeAPI) Answered() <-chan outcome { return a.answered }

// NextAt is when the function first asked for an event (zero if it never
// did).
func (a *runtimeAPI) NextAt() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.nextAt
}

// Close releases waiting requests and stops the server.
func (a *runtimeAPI) Close() error {
	close(a.done)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := a.srv.Shutdown(ctx); err != nil {
		return errors.Join(err, a.srv.Close())
	}
	return nil
}

func (a *runtimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, apiPrefix)
	switch {
	case !ok:
		http.NotFound(w, r)
	case r.Method == http.MethodGet && path == "invocation/next":
		a.next(w, r)
	case r.Method == http.MethodPost && path == "init/error":
		a.post(w, r, "init-error")
	case r.Method == http.MethodPost && path == "invocation/"+a.requestID+"/response":
		a.post(w, r, "response")
	case r.Method == http.MethodPost && path == "invocation/"+a.requestID+"/error":
		a.post(w, r, "error")
	default:
		http.Error(w, `{"errorMessage":"unknown runtime API call","errorType":"InvalidRequestID"}`, http.StatusBadRequest)
	}
}

func (a *runtimeAPI) next(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	first := !a.delivered
	if first {
		a.delivered, a.nextAt = true, a.now()
	}
	a.mu.Unlock()
	if !first {
		// The function finished its one invocation and waits for another:
		// hold it until it is killed or the API closes.
		select {
		case <-r.Context().Done():
		case <-a.done:
		}
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set(headerID, a.requestID)
	h.Set(headerDeadline, strconv.FormatInt(a.now().Add(a.deadline).UnixMilli(), 10))
	h.Set(headerARN, "arn:aws:lambda:us-east-1:123456789012:function:coldstart")
	h.Set(headerTrace, "Root=1-00000000-000000000000000000000000;Sampled=0")
	w.WriteHeader(http.StatusOK)
	w.Write(a.event)
}

func (a *runtimeAPI) post(w http.ResponseWriter, r *http.Request, kind string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAnswer+1))
	at := a.now()
	if err != nil || len(body) > maxAnswer {
		http.Error(w, `{"errorMessage":"payload unreadable or too large","errorType":"RequestEntityTooLarge"}`, http.StatusRequestEntityTooLarge)
		return
	}
	w.WriteHeader(http.StatusAccepted)
	select {
	case a.answered <- outcome{Kind: kind, Body: body, At: at}:
	default: // Only the first outcome counts.
	}
}
