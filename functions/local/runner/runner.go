// Package runner mounts every wemember function in one net/http handler,
// each under its own route prefix, over one set of dependencies built by
// package wiring: the local development server and the end-to-end tests
// both use it.
package runner

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/wemember/wemember/functions/wiring"
	"github.com/wemember/wemember/shared/boot"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/local"
	"github.com/wemember/wemember/shared/web"
)

// Handlers builds every function's full handler (with the standard
// middleware), keyed by name.
func Handlers(d *boot.Deps) (map[string]web.Handler, error) {
	out := map[string]web.Handler{}
	for _, f := range wiring.Functions() {
		h, err := f.Build(d)
		if err != nil {
			return nil, err
		}
		out[f.Name] = boot.Handler(f.Name, d, h, f.Raised...)
	}
	return out, nil
}

// New mounts every function at /<name> and /<name>/…, plus GET /healthz.
func New(d *boot.Deps) (http.Handler, error) {
	hs, err := Handlers(d)
	if err != nil {
		return nil, err
	}
	return Mount(hs, d.Config.BodyLimit), nil
}

// Mount serves built handlers at /<name> and /<name>/…, plus GET /healthz.
// Any other path answers a JSON 404 (errs.NotExist) naming the functions
// mounted, in the shape of every function's errors. It reads up to
// bodyLimit bytes of a body, more for a function with routes that take
// more (wiring.Function's Raised).
func Mount(hs map[string]web.Handler, bodyLimit int) http.Handler {
	raised := map[string][]web.RouteLimit{}
	for _, f := range wiring.Functions() {
		raised[f.Name] = f.Raised
	}
	functions := map[string]http.Handler{}
	names := make([]string, 0, len(hs))
	for name, h := range hs {
		functions[name] = local.Handler(h, web.MaxBody(bodyLimit, raised[name]...))
		names = append(names, "/"+name)
	}
	slices.Sort(names)
	unknown := local.Handler(func(_ context.Context, req *web.Request) (*web.Response, error) {
		return nil, errs.E("runner.Mount", errs.NotExist,
			"no function at "+req.Path+"; functions are at "+strings.Join(names, ", "))
	}, bodyLimit)
	// Routed by the first path segment as sent, not by http.ServeMux, which
	// would answer a path like /member-api//me with a redirect and an HTML
	// body; the function answers it as it would in the cloud.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		switch h, ok := functions[first]; {
		case ok:
			h.ServeHTTP(w, r)
		case r.URL.Path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte("{\"status\":\"ok\"}\n"))
		default:
			unknown.ServeHTTP(w, r)
		}
	})
}

// Tick runs the expiry sweep every interval until ctx is done, as the
// cloud's schedule would: the local stand-in for the EventBridge rule and
// the SCF timer.
func Tick(ctx context.Context, run web.Handler, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if ctx.Err() != nil {
			// A tick and the stop can be ready together; select picks either.
			return
		}
		req := web.NewRequest(http.MethodPost, "/", []byte(`{"name":"local-ticker"}`))
		req.Trigger = web.TriggerSchedule
		rctx, cancel := context.WithTimeout(ctx, interval)
		resp, err := run(rctx, req)
		cancel()
		if err != nil || resp == nil || resp.Status >= 500 {
			log.Warn("scheduled sweep failed", sweepFailure(req, resp, err)...)
		}
	}
}
