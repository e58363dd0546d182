// Package local serves a web.Handler over plain net/http, for development
// and for the one-process runner of every function.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/web"
)

// Handler converts net/http requests to web.Requests for h and writes its
// responses. It reads at most bodyLimit+1 bytes of a body (web.DefaultBodyLimit
// if bodyLimit ≤ 0), so an oversized body costs no more than that; one
// over bodyLimit is passed on at bodyLimit+1 bytes so that h's web.Limit
// refuses it — give h a limit no larger than bodyLimit, or a truncated body
// could pass. RemoteIP is the connection's address, never a forwarding
// header.
func Handler(h web.Handler, bodyLimit int) http.Handler {
	if bodyLimit <= 0 {
		bodyLimit = web.DefaultBodyLimit
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, int64(bodyLimit)+1))
		if err != nil {
			write(w, web.Error(errs.E("local.Handler", errs.Invalid, "request body could not be read", err), ""))
			return
		}
		write(w, web.Serve(r.Context(), h, Request(r, body)))
	})
}

// Request converts r, whose body has been read into body, to a web.Request.
func Request(r *http.Request, body []byte) *web.Request {
	req := web.NewRequest(r.Method, "/", body)
	req.Path = r.URL.Path
	for k, vs := range r.URL.Query() {
		req.Query[k] = vs
	}
	req.Header = r.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		req.RemoteIP = host
	} else {
		req.RemoteIP = r.RemoteAddr
	}
	return req
}

// write sends resp.
func write(w http.ResponseWriter, resp *web.Response) {
	for k, vs := range resp.Header {
		w.Header()[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	w.Write(resp.Body) // The client may have gone; nothing to do about it.
}

// Server timeouts: generous for a handler, short for slow clients.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	shutdownTimeout   = 10 * time.Second
	maxHeaderBytes    = 64 << 10
)

// Serve listens on addr and serves h until ctx is done, then shuts down
// gracefully, letting requests in flight finish (for up to 10 s). It
// returns nil after a graceful shutdown.
func Serve(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("local.Serve: listen %s: %w", addr, err)
	}
	return ServeListener(ctx, ln, h)
}

// ServeListener is Serve on a listener the caller opened (tests listen on
// 127.0.0.1:0). It closes ln.
func ServeListener(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("local.Serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("local.Serve: shutdown: %w", err)
	}
	return nil
}
