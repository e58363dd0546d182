package loyalty_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/loyalty/loyaltytest"
	"github.com/wemember/wemember/shared/store"
)

// TestBurstOnOneMemberWaitsItsTurn sends 1,000 simultaneous credits to one
// member on bbolt on disk (every write waits for fsync): each waits its turn
// and succeeds, none is refused as busy, and the balance holds every point.
func TestBurstOnOneMemberWaitsItsTurn(t *testing.T) {
	const n = 1000
	st, err := bolt.Open(filepath.Join(t.TempDir(), "burst.db"))
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	svc := loyalty.New(st, time.Now, loyaltytest.IDs())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := svc.InstallDefaults(ctx); err != nil {
		t.Fatalf("InstallDefaults: %v", err)
	}
	start := time.Now()
	errList := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errList[i] = svc.Earn(ctx, loyalty.EarnCmd{MemberID: "hot", Points: 1, Reason: "burst", Key: fmt.Sprintf("burst-%d", i)})
		})
	}
	wg.Wait()
	var busy, other int
	for i, err := range errList {
		switch {
		case err == nil:
		case errs.Is(errs.Transient, err):
			busy++
		default:
			other++
			if other <= 3 {
				t.Errorf("credit %d: %v", i, err)
			}
		}
	}
	t.Logf("%d credits in %v: %d refused as busy, %d other errors", n, time.Since(start).Round(time.Millisecond), busy, other)
	if busy != 0 {
		t.Errorf("%d of %d credits refused as busy; want 0", busy, n)
	}
	b, err := svc.Balance(ctx, "hot")
	if err != nil {
		t.Fatalf("Balance: %v", err)
	}
	if b.Available != n {
		t.Errorf("balance = %d available; want %d", b.Available, n)
	}
}

// stuckStore answers each command's first write with a lost race on the
// member's account, and never answers its later writes (until the caller's
// context ends): the command that gets the turn gets stuck holding it.
type stuckStore struct {
	store.Store
	mu    sync.Mutex
	tries map[store.Key]int
}

func (s *stuckStore) Write(ctx context.Context, ms ...store.Mutation) error {
	var cmd store.Key
	for _, m := range ms {
		if strings.HasPrefix(m.Key.PK, "idem#") {
			cmd = m.Key
		}
	}
	s.mu.Lock()
	s.tries[cmd]++
	first := s.tries[cmd] == 1
	s.mu.Unlock()
	if first {
		return store.ConditionFailed("stuck.Write", store.K("member#hot", "points"))
	}
	<-ctx.Done()
	return errs.E("stuck.Write", errs.Transient, ctx.Err())
}

// TestStuckTurnFailsAfterTheBound: behind a command stuck in the store, the
// commands waiting for their turn give up after the stall bound with
// errs.Transient, long before their own deadline, and credit nothing.
func TestStuckTurnFailsAfterTheBound(t *testing.T) {
	const stall, deadline = 200 * time.Millisecond, 3 * time.Second
	st, err := bolt.Open(filepath.Join(t.TempDir(), "stuck.db"))
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	stuck := &stuckStore{Store: st, tries: map[store.Key]int{}}
	svc := loyalty.New(stuck, time.Now, loyaltytest.IDs(), loyalty.WithTurnStall(stall))
	if _, err := loyalty.New(st, time.Now, loyaltytest.IDs()).InstallDefaults(context.Background()); err != nil {
		t.Fatalf("InstallDefaults: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	const n = 5
	took := make([]time.Duration, n)
	errList := make([]error, n)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errList[i] = svc.Earn(ctx, loyalty.EarnCmd{MemberID: "hot", Points: 1, Reason: "stuck", Key: fmt.Sprintf("stuck-%d", i)})
			took[i] = time.Since(start)
		})
	}
	wg.Wait()
	var early int
	for i, err := range errList {
		if !errs.Is(errs.Transient, err) {
			t.Errorf("credit %d = %v; want transient", i, err)
		}
		if took[i] < deadline-time.Second {
			early++
			if took[i] < stall || errs.SafeMessage(err) != "the store is busy; try again" {
				t.Errorf("credit %d gave up after %v with %q; want busy after at least %v", i, took[i], errs.SafeMessage(err), stall)
			}
		}
	}
	if early != n-1 {
		t.Errorf("%d of %d credits gave up before their deadline (%v); want all but the stuck one (%d)", early, n, took, n-1)
	}
	b, err := svc.Balance(context.Background(), "hot")
	if err != nil || b.Available != 0 {
		t.Errorf("balance = %+v, %v; want nothing credited", b, err)
	}
}
