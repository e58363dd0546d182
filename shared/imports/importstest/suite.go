// Package importstest is the offline import test suite — member.ImportBatch
// and the asynchronous jobs of package imports — written against the store
// port so it runs on every adapter: bbolt in package imports' own tests,
// DynamoDB Local in tests/domain.
package importstest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/imports"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/store"
)

// Opener returns a fresh, empty store for one test, closed at its end.
type Opener func(t testing.TB) store.Store

// RunSuite runs every import test against the stores open returns. jobRows
// is the size of the large asynchronous job (0 means imports.MaxRows); a
// slow backend may pick fewer.
func RunSuite(t *testing.T, open Opener, jobRows int) {
	if jobRows <= 0 {
		jobRows = imports.MaxRows
	}
	tests := []struct {
		name string
		run  func(*testing.T, Opener)
	}{
		{"SyncThousand", testSyncThousand},
		{"SyncInvalidRows", testSyncInvalidRows},
		{"SyncExistingMember", testSyncExistingMember},
		{"SyncConcurrentSamePhones", testSyncConcurrentSamePhones},
		{"LoginClaimsImported", testLoginClaimsImported},
		{"JobRefusals", testJobRefusals},
		{"JobInvalidAndDuplicates", testJobInvalidAndDuplicates},
		{"JobConcurrentAdvance", testJobConcurrentAdvance},
		{"JobResumesAfterFailure", testJobResumesAfterFailure},
		{"JobLeaseExpires", testJobLeaseExpires},
		{"JobAdvanceAny", testJobAdvanceAny},
		{"JobLarge", func(t *testing.T, o Opener) { testJobLarge(t, o, jobRows) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open) })
	}
}

// start is a test's starting time: now, since the store judges expiry by
// its own clock.
func start() time.Time { return time.Now().UTC().Truncate(time.Second) }

// clock is a settable clock safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// ids is a deterministic, concurrency-safe id source.
type ids struct{ n atomic.Int64 }

func (g *ids) next() string { return fmt.Sprintf("m%020d", g.n.Add(1)) }

// env is one test's world.
type env struct {
	t       *testing.T
	ctx     context.Context
	st      *spy
	box     *pii.Box
	t0      time.Time
	clk     *clock
	members *member.Service
	jobs    *imports.Service
}

func newEnv(t *testing.T, open Opener) *env {
	t.Helper()
	box, err := pii.New([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	st := &spy{Store: open(t)}
	t0 := start()
	clk := &clock{t: t0}
	g := &ids{}
	members := member.NewService(st, box, clk.Now, g.next)
	return &env{t: t, ctx: context.Background(), st: st, box: box, t0: t0, clk: clk, members: members,
		jobs: imports.New(st, box, members, clk.Now, func() string { return "j" + g.next()[1:] })}
}

// phone is the i-th test phone number.
func phone(i int) string { return fmt.Sprintf("139%08d", i) }

// rows makes n valid rows with phones from first on.
func rows(first, n int) []member.ImportRow {
	out := make([]member.ImportRow, n)
	for i := range out {
		out[i] = member.ImportRow{Phone: phone(first + i), Name: fmt.Sprintf("张%d", first+i)}
	}
	return out
}

// byPhone resolves the member owning a phone.
func (e *env) byPhone(p string) (member.Member, error) {
	n, err := pii.NormalizePhone(p)
	if err != nil {
		e.t.Fatalf("test phone %q: %v", p, err)
	}
	return e.members.Resolve(e.ctx, member.Identity{Kind: member.Phone, Value: e.box.Hash("phone", n)})
}

func (e *env) open(sealed string) string {
	e.t.Helper()
	v, err := e.box.Open(sealed)
	if err != nil {
		e.t.Fatalf("open sealed value: %v", err)
	}
	return v
}

func wantKind(t *testing.T, what string, err error, kind errs.Kind) {
	t.Helper()
	if !errs.Is(kind, err) {
		t.Errorf("%s: error %v, want kind %s", what, err, kind)
	}
}

// spy is a store that counts phone lookups and can fail chosen writes.
type spy struct {
	store.Store
	phoneGets atomic.Int64
	mu        sync.Mutex
	fail      func(ms []store.Mutation) bool // Fails a matching write when set; may be called concurrently.
}

func (s *spy) Get(ctx context.Context, k store.Key) (store.Item, error) {
	if strings.HasPrefix(k.PK, "ident#phone#") {
		s.phoneGets.Add(1)
	}
	return s.Store.Get(ctx, k)
}

func (s *spy) GetMany(ctx context.Context, ks []store.Key, c store.Consistency) ([]store.Item, error) {
	for _, k := range ks {
		if strings.HasPrefix(k.PK, "ident#phone#") {
			s.phoneGets.Add(1)
		}
	}
	return s.Store.GetMany(ctx, ks, c)
}

func (s *spy) Write(ctx context.Context, ms ...store.Mutation) error {
	s.mu.Lock()
	fail := s.fail
	s.mu.Unlock()
	if fail != nil && fail(ms) {
		return errs.E("spy.Write", errs.Transient, "injected failure")
	}
	return s.Store.Write(ctx, ms...)
}

func (s *spy) failWhen(f func(ms []store.Mutation) bool) {
	s.mu.Lock()
	s.fail = f
	s.mu.Unlock()
}
