package storetest

import (
	"context"
	"sync"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// Faults is a store that lets a test see and disturb the calls a service
// makes: it counts writes, mutations and reads (Counts), lets a hook fail or
// delay a write before it reaches the backend, records the partitions
// queried and refuses a query on an ended context (as DynamoDB does and
// bbolt does not). Everything else goes to the wrapped store unchanged.
type Faults struct {
	store.Store
	mu        sync.Mutex
	writes    int
	mutations int
	gets      int
	batchGets int
	eventual  int
	queries   []string
	// BeforeWrite, when set, runs before each write; a non-nil error is
	// returned instead of writing.
	BeforeWrite func(ctx context.Context, ms []store.Mutation) error
	// AfterWrite, when set, runs after each write with its outcome.
	AfterWrite func(ctx context.Context, ms []store.Mutation, err error)
	// BeforeQuery, when set, runs before each query.
	BeforeQuery func(ctx context.Context, q store.Query)
	// AfterGet, when set, runs after each read of one key (a Get, or each
	// key of a GetMany, an absent one as Get reports it) with its outcome,
	// until it first reports true: the point where a test slips a
	// concurrent command in.
	AfterGet func(k store.Key, err error) bool
}

// Write counts the write, runs BeforeWrite, writes, then runs AfterWrite.
func (f *Faults) Write(ctx context.Context, ms ...store.Mutation) error {
	f.mu.Lock()
	f.writes++
	f.mutations += len(ms)
	before, after := f.BeforeWrite, f.AfterWrite
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

// Get counts the read and runs AfterGet with its outcome.
func (f *Faults) Get(ctx context.Context, k store.Key) (store.Item, error) {
	f.mu.Lock()
	f.gets++
	f.mu.Unlock()
	it, err := f.Store.Get(ctx, k)
	f.read(k, err)
	return it, err
}

// GetMany counts the batched read and runs AfterGet for each key.
func (f *Faults) GetMany(ctx context.Context, ks []store.Key, c store.Consistency) ([]store.Item, error) {
	f.mu.Lock()
	f.batchGets++
	if c == store.Eventual {
		f.eventual++
	}
	f.mu.Unlock()
	its, err := f.Store.GetMany(ctx, ks, c)
	for i, k := range ks {
		switch {
		case err != nil:
			f.read(k, err)
		case !its[i].Found():
			f.read(k, errs.E(errs.NotExist, "absent"))
		default:
			f.read(k, nil)
		}
	}
	return its, err
}

// read runs AfterGet after a read of k that ended with err.
func (f *Faults) read(k store.Key, err error) {
	f.mu.Lock()
	hook := f.AfterGet
	f.mu.Unlock()
	if hook != nil && hook(k, err) {
		f.mu.Lock()
		f.AfterGet = nil
		f.mu.Unlock()
	}
}

// Query records the partition, runs BeforeQuery and refuses an ended
// context before it queries.
func (f *Faults) Query(ctx context.Context, q store.Query) (store.Page, error) {
	f.mu.Lock()
	f.queries = append(f.queries, q.PK)
	if q.Consistency == store.Eventual {
		f.eventual++
	}
	hook := f.BeforeQuery
	f.mu.Unlock()
	if hook != nil {
		hook(ctx, q)
	}
	if err := ctx.Err(); err != nil { // As a remote store would, whatever the backend.
		return store.Page{}, errs.E("storetest.Faults.Query", errs.Transient, err)
	}
	return f.Store.Query(ctx, q)
}

// Reset clears the counters and hooks.
func (f *Faults) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes, f.mutations, f.gets, f.batchGets, f.eventual, f.queries = 0, 0, 0, 0, 0, nil
	f.BeforeWrite, f.AfterWrite, f.BeforeQuery, f.AfterGet = nil, nil, nil, nil
}

// Writes is the number of writes since the last reset.
func (f *Faults) Writes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes
}

// Queried is the partitions queried since the last reset, in order.
func (f *Faults) Queried() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.queries...)
}

// Counts is what a service asked of the store: the figures a test asserts
// per command so that an extra round trip fails it.
type Counts struct {
	Writes    int // Atomic writes (one TransactWriteItems or bbolt commit each).
	Mutations int // Mutations over all those writes.
	Gets      int // Single-item reads.
	BatchGets int // Batched reads (GetMany), however many keys each.
	Queries   int // Query pages read.
	// Eventual is how many of the batched reads and query pages asked for
	// eventual consistency.
	Eventual int
}

// Reads is every read call: gets, batched gets and query pages.
func (c Counts) Reads() int { return c.Gets + c.BatchGets + c.Queries }

// Counts is what was asked of the store since the last reset.
func (f *Faults) Counts() Counts {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Counts{Writes: f.writes, Mutations: f.mutations, Gets: f.gets, BatchGets: f.batchGets,
		Queries: len(f.queries), Eventual: f.eventual}
}

// Since is what was asked of the store after the snapshot before was taken.
func (f *Faults) Since(before Counts) Counts {
	now := f.Counts()
	return Counts{Writes: now.Writes - before.Writes, Mutations: now.Mutations - before.Mutations,
		Gets: now.Gets - before.Gets, BatchGets: now.BatchGets - before.BatchGets,
		Queries: now.Queries - before.Queries, Eventual: now.Eventual - before.Eventual}
}
