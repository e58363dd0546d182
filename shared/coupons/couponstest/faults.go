package couponstest

import (
	"context"
	"sync"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// faultStore is a store that lets a test see and disturb the queries the
// coupon rules make: it records the partitions queried, runs a hook before
// each query and refuses a query on an ended context (as DynamoDB does and
// bbolt does not). Everything else goes to the wrapped store unchanged.
type faultStore struct {
	store.Store
	mu      sync.Mutex
	queries []string
	// beforeQuery, when set, runs before each query.
	beforeQuery func(ctx context.Context, q store.Query)
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

// reset clears the recorded queries and the hook.
func (f *faultStore) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries, f.beforeQuery = nil, nil
}

// queried is the partitions queried since the last reset, in order.
func (f *faultStore) queried() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.queries...)
}
