package store

import (
	"context"
	"time"
)

// DetachTimeout bounds a write made on a Detach context.
const DetachTimeout = 2 * time.Second

// Detach is the context for the write that records a run's progress once
// the run's own context may have ended (a sweep's cursor, for one): a run
// cut off by its deadline is the usual way a backlog is worked through, so
// its progress must still be saved. It keeps ctx's values, drops its
// cancellation and deadline, and allows DetachTimeout.
func Detach(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), DetachTimeout)
}
