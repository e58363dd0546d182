package loyaltytest

import (
	"context"
	"sync"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// faultStore is a store that lets a test see and disturb the calls the
// engine makes: it counts writes, lets a hook fail or delay a write before
// it reaches the backend, records the partitions queried and refuses a
// query on an ended context (as DynamoDB does and bbolt does not).
// Everything else goes to the wrapped store unchanged.
type faultStore struct {
	store.Store
	mu      sync.Mutex
	writes  int
	queries []string
	// beforeWrite, when set, runs before each write; a non-nil error is
	// returned instead of writing.
	beforeWrite func(ctx context.Context, ms []store.Mutation) error
	// afterWrite, when set, runs after each write with its outcome.
	afterWrite func(ctx context.Context, ms []store.Mutation, err error)
	// beforeQuery, when set, runs before each query.
	beforeQuery func(ctx context.Context, q store.Query)
}

func (f *faultStore) Write(ctx context.Context, ms ...store.Mutation) error {
	f.mu.Lock()
	f.writes++
	before, after := f.beforeWrite, f.afterWrite
	f.mu.Unlock()
	if before != nil {
		if err := before(ctx, ms); err != nil {
			return err
		}
	}
	err := f.Store.Write(ctx, ms...)
	if after != nil {
		after(ctx, ms, err)
	}
	return err
}

func (f *faultStore) Query(ctx context.Context, q store.Query) (store.Page, error) {
	f.mu.Lock()
	f.queries = append(f.queries, q.PK)
	hook := f.beforeQuery
	f.mu.Unlock()
	if hook != nil {
		hook(ctx, q)
	}
	if err := ctx.Err(); err != nil { // As a remote store would, whatever the backend.
		return store.Page{}, errs.E("faultStore.Query", errs.Transient, err)
	}
	return f.Store.Query(ctx, q)
}

// reset clears the counters and hooks.
func (f *faultStore) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes, f.queries, f.beforeWrite, f.afterWrite, f.beforeQuery = 0, nil, nil, nil, nil
}

// writeCount is the number of writes since the last reset.
func (f *faultStore) writeCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes
}

// queried is the partitions queried since the last reset, in order.
func (f *faultStore) queried() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.queries...)
}

// touches reports whether a write changes an item of partition pk whose
// sort key is sk.
func touches(ms []store.Mutation, pk, sk string) bool {
	for _, m := range ms {
		if m.Key.PK == pk && m.Key.SK == sk {
			return true
		}
	}
	return false
}
