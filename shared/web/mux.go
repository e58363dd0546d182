package web

import (
	"context"
	"net/http"
	"slices"
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

// Serve is the mux as a Handler. HEAD on a GET route is answered as GET
// with the body left out. A path it knows asked with another method is
// errs.NotAllowed naming the path as the caller sent it and the methods it
// takes (the Allow header); an unknown path is errs.NotExist naming the
// function.
func (m *Mux) Serve(ctx context.Context, req *Request) (*Response, error) {
	p := m.Route(req.Path)
	if h, ok := m.routes[req.Method+" "+p]; ok {
		return h(ctx, req)
	}
	if h, ok := m.routes[http.MethodGet+" "+p]; ok && req.Method == http.MethodHead {
		resp, err := h(ctx, req)
		if resp != nil {
			resp.Body = nil
		}
		return resp, err
	}
	if m.paths[p] {
		var allow []string
		for route := range m.routes {
			if method, path, _ := strings.Cut(route, " "); path == p {
				allow = append(allow, method)
				if _, head := m.routes[http.MethodHead+" "+p]; method == http.MethodGet && !head {
					allow = append(allow, http.MethodHead)
				}
			}
		}
		slices.Sort(allow)
		methods := strings.Join(allow, ", ")
		msg := "method " + req.Method + " not allowed on " + req.Path + "; it takes " + methods
		return nil, WithHeader(errs.E("web.Mux", errs.NotAllowed, msg), "Allow", methods)
	}
	fn := strings.TrimPrefix(m.prefix, "/")
	if fn == "" {
		fn = "this function"
	}
	return nil, errs.E("web.Mux", errs.NotExist, fn+" has no route "+req.Method+" "+p)
}

// Route is a request path relative to the function's prefix.
func (m *Mux) Route(path string) string { return routeOf(m.prefix, path) }

// routeOf is path relative to prefix (which has no trailing slash), as a
// Mux with that prefix routes it.
func routeOf(prefix, path string) string {
	if prefix != "" && (path == prefix || strings.HasPrefix(path, prefix+"/")) {
		path = path[len(prefix):]
	}
	if path == "" {
		path = "/"
	}
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	return path
}
