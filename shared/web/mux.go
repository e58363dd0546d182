package web

import (
	"context"
	"strings"

	"github.com/wemember/wemember/shared/errs"
)

// Mux routes a function's requests by method and path. Paths are matched
// relative to the function's prefix, so "/member-api/me" (API gateway, local
// runner) and "/me" (function URL) reach the same route.
type Mux struct {
	prefix string
	routes map[string]Handler
	paths  map[string]bool
}

// NewMux returns a mux for the function mounted at prefix (e.g. "/member-api").
func NewMux(prefix string) *Mux {
	return &Mux{prefix: strings.TrimSuffix(prefix, "/"), routes: map[string]Handler{}, paths: map[string]bool{}}
}

// Handle registers h for method and path ("/" for the function's root).
func (m *Mux) Handle(method, path string, h Handler) {
	m.routes[method+" "+path] = h
	m.paths[path] = true
}

// Serve is the mux as a Handler.
func (m *Mux) Serve(ctx context.Context, req *Request) (*Response, error) {
	p := m.Route(req.Path)
	if h, ok := m.routes[req.Method+" "+p]; ok {
		return h(ctx, req)
	}
	if m.paths[p] {
		return nil, errs.E("web.Mux", errs.Invalid, "method "+req.Method+" not allowed on "+p)
	}
	return nil, errs.E("web.Mux", errs.NotExist, "no route "+req.Method+" "+p)
}

// Route is a request path relative to the function's prefix.
func (m *Mux) Route(path string) string {
	if m.prefix != "" && (path == m.prefix || strings.HasPrefix(path, m.prefix+"/")) {
		path = path[len(m.prefix):]
	}
	if path == "" {
		path = "/"
	}
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	return path
}
