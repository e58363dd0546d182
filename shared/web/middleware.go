package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/reqlog"
)

// DefaultBodyLimit is the largest request body accepted unless configured.
const DefaultBodyLimit = 1 << 20

// Standard is the middleware every function runs under, outermost first:
// request id, logging, error rendering, panic recovery and the body limit:
// bodyLimit for every route but those raised names (see LimitRoutes).
func Standard(function string, log *slog.Logger, bodyLimit int, raised ...RouteLimit) []Middleware {
	return []Middleware{RequestID(), Log(function, log), Errors(), Recover(log),
		LimitRoutes("/"+function, bodyLimit, raised...)}
}

// RequestID gives every request an id, keeping one the platform supplied.
func RequestID() Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, req *Request) (*Response, error) {
			if req.RequestID == "" {
				req.RequestID = req.Header.Get("X-Request-Id")
			}
			if req.RequestID == "" || len(req.RequestID) > 128 {
				var b [12]byte
				rand.Read(b[:])
				req.RequestID = hex.EncodeToString(b[:])
			}
			resp, err := next(ctx, req)
			if resp != nil {
				if resp.Header == nil {
					resp.Header = http.Header{}
				}
				resp.Header.Set("X-Request-Id", req.RequestID)
			}
			return resp, err
		}
	}
}

// Log writes one JSON line per request: function, route, status,
// duration_ms (milliseconds), request id and, for failures, the error kind
// and internal cause, at ERROR for a server failure, WARN for a route not
// built yet (501) and INFO otherwise. It never
// logs bodies, headers or query strings, which may carry secrets. It gives
// the request its logger (see reqlog.From), which names the function and the
// request id on every line.
func Log(function string, log *slog.Logger) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, req *Request) (*Response, error) {
			start := time.Now()
			ctx = reqlog.With(ctx, log.With(slog.String("function", function), slog.String("request_id", req.RequestID)))
			resp, err := next(ctx, req)
			status := 0
			if resp != nil {
				status = resp.Status
			}
			if err != nil {
				status = Status(err)
			}
			attrs := []slog.Attr{
				slog.String("function", function),
				slog.String("trigger", string(req.Trigger)),
				slog.String("method", req.Method),
				slog.String("route", req.Path),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
				slog.String("request_id", req.RequestID),
			}
			level := slog.LevelInfo
			if err != nil {
				attrs = append(attrs, slog.String("kind", errs.KindOf(err).String()), slog.String("error", err.Error()))
				switch {
				case status == http.StatusNotImplemented: // A route not built yet: known, nothing failed.
					level = slog.LevelWarn
				case status >= 500:
					level = slog.LevelError
				}
			}
			log.LogAttrs(ctx, level, "request", attrs...)
			return resp, err
		}
	}
}

// Errors renders a handler's error as a JSON error response. It passes the
// error on too, so outer middleware (Log) can record the cause.
func Errors() Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, req *Request) (*Response, error) {
			resp, err := next(ctx, req)
			if err != nil {
				return Error(err, req.RequestID), err
			}
			if resp == nil {
				err := errs.E("web.Errors", errs.Internal, "handler returned no response")
				return Error(err, req.RequestID), err
			}
			return resp, nil
		}
	}
}

// Recover turns a panic into an errs.Internal error and logs its stack.
func Recover(log *slog.Logger) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, req *Request) (resp *Response, err error) {
			defer func() {
				if p := recover(); p != nil {
					log.Error("panic", slog.String("request_id", req.RequestID),
						slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
					resp, err = nil, errs.E("web.Recover", errs.Internal, fmt.Errorf("panic: %v", p))
				}
			}()
			return next(ctx, req)
		}
	}
}

// Limit refuses request bodies over max bytes (DefaultBodyLimit if max ≤ 0)
// before the handler sees them.
func Limit(max int) Middleware { return LimitRoutes("", max) }

// RouteLimit lets one route of a function take a larger body than the
// function's limit (a file upload): Method and Path as the function's Mux
// routes them, Path relative to the function's prefix ("/members/import").
type RouteLimit struct {
	Method, Path string
	Bytes        int
}

// LimitRoutes is Limit(n) for the function mounted at prefix, except that a
// request for a route in raised may carry up to that route's Bytes (or n, if
// larger). Routes are matched as a Mux with that prefix matches them.
func LimitRoutes(prefix string, n int, raised ...RouteLimit) Middleware {
	if n <= 0 {
		n = DefaultBodyLimit
	}
	prefix = strings.TrimSuffix(prefix, "/")
	return func(next Handler) Handler {
		return func(ctx context.Context, req *Request) (*Response, error) {
			limit := n
			if len(req.Body) > n && len(raised) > 0 {
				route := routeOf(prefix, req.Path)
				for _, r := range raised {
					if r.Method == req.Method && r.Path == route {
						limit = max(n, r.Bytes)
					}
				}
			}
			if len(req.Body) > limit {
				return nil, errs.E("web.Limit", errs.TooLarge, fmt.Sprintf("request body over %d bytes", limit))
			}
			return next(ctx, req)
		}
	}
}

// MaxBody is the largest body a function with limit n and the raised routes
// takes on any route (n is DefaultBodyLimit if ≤ 0): how much a platform
// adapter must read to let LimitRoutes decide.
func MaxBody(n int, raised ...RouteLimit) int {
	if n <= 0 {
		n = DefaultBodyLimit
	}
	for _, r := range raised {
		n = max(n, r.Bytes)
	}
	return n
}
