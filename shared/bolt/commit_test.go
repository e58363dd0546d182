package bolt_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// TestWritesQueuedDuringACommitShareTheNext holds one commit while 40
// writes arrive: they are committed together in one more transaction, each
// all or nothing: a write whose condition fails changes nothing and fails
// alone, and of two writes claiming one key one wins.
func TestWritesQueuedDuringACommitShareTheNext(t *testing.T) {
	s, ctx := open(t), context.Background()
	defer s.Close()
	taken := store.K("p", "taken")
	if err := s.Write(ctx, store.Put(taken, []byte("x"))); err != nil {
		t.Fatal(err)
	}
	before := bolt.Commits(s)
	release := make(chan struct{})
	bolt.HoldNextCommit(s, release)
	first := make(chan error, 1)
	go func() { first <- s.Write(ctx, store.Put(store.K("p", "first"), []byte("1"))) }()
	waitFor(t, func() bool { return bolt.Commits(s) == before+1 })

	const n = 40
	got := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ms := []store.Mutation{store.Put(store.K("p", fmt.Sprintf("w%02d", i)), []byte("w"))}
			switch i {
			case 7:
				ms = append(ms, store.Put(taken, []byte("y")).IfAbsent())
			case 10, 11:
				ms = append(ms, store.Put(store.K("p", "shared"), []byte{byte(i)}).IfAbsent())
			}
			got[i] = s.Write(ctx, ms...)
		})
	}
	waitFor(t, func() bool { return bolt.Queued(s) == n })
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatalf("held write: %v", err)
	}
	if c := bolt.Commits(s) - before; c != 2 {
		t.Errorf("commits: got %d, want 2 (the held one, then all %d queued writes together)", c, n)
	}
	if k, ok := store.FailedKey(got[7]); !errs.Is(errs.Conflict, got[7]) || !ok || k != taken {
		t.Errorf("write 7: got %v, want a failed condition on %s", got[7], taken)
	}
	winner, loser := 10, 11
	if got[10] != nil {
		winner, loser = 11, 10
	}
	if got[winner] != nil || !errs.Is(errs.Conflict, got[loser]) {
		t.Errorf("writes 10 and 11 claiming one key: got %v and %v, want one to win", got[10], got[11])
	}
	for i := range n {
		it, err := s.Get(ctx, store.K("p", fmt.Sprintf("w%02d", i)))
		switch {
		case i == 7 || i == loser:
			if !errs.Is(errs.NotExist, err) {
				t.Errorf("w%02d of a failed write: got %+v, %v; want nothing written", i, it, err)
			}
		case err != nil || got[i] != nil || it.Version != 1:
			t.Errorf("w%02d: write %v, item %+v, %v; want it written once", i, got[i], it, err)
		}
	}
	if it, err := s.Get(ctx, taken); err != nil || string(it.Data) != "x" || it.Version != 1 {
		t.Errorf("taken: got %+v, %v; want it unchanged", it, err)
	}
	if it, err := s.Get(ctx, store.K("p", "shared")); err != nil || int(it.Data[0]) != winner || it.Version != 1 {
		t.Errorf("shared: got %+v, %v; want write %d's", it, err, winner)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}
