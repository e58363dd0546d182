// Package reqlog carries the logger of the request being served in its
// context, so that every line logged while serving it names the function
// and carries the request id, wherever in the domain it is written.
package reqlog

import (
	"context"
	"log/slog"
)

type key struct{}

// With returns ctx carrying l as the logger of the request being served.
// The web.Log middleware sets it, naming the function and request id.
func With(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, key{}, l)
}

// From is the logger of the request ctx belongs to. Code that logs while
// serving a request logs with it. Outside a request it is slog.Default().
func From(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(key{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return slog.Default()
}
