package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

var hot = store.K("member#hot", "points")

// TestTurnsOneAtATime: many commands at one key each get the turn, one at a
// time, while a turn that keeps moving never times out (the line as a whole
// waits far longer than the stall time).
func TestTurnsOneAtATime(t *testing.T) {
	turns := store.NewTurns(100*time.Millisecond, 0)
	var holding, most, done atomic.Int64
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			release, err := turns.Take(context.Background(), "test", hot)
			if err != nil {
				t.Errorf("Take: %v", err)
				return
			}
			if n := holding.Add(1); n > most.Load() {
				most.Store(n)
			}
			time.Sleep(20 * time.Millisecond) // 20 × 20 ms: 4 stall times in all.
			holding.Add(-1)
			done.Add(1)
			release()
			release() // A second call does nothing.
		})
	}
	wg.Wait()
	if done.Load() != 20 || most.Load() != 1 {
		t.Errorf("%d commands got the turn, at most %d at once; want 20, 1", done.Load(), most.Load())
	}
	// Another key is never held up.
	release, err := turns.Take(context.Background(), "test", store.K("member#other", "points"))
	if err != nil {
		t.Fatalf("Take of a free key: %v", err)
	}
	release()
}

// TestTurnsStuckHolder: when the holder never hands the turn on, a waiter
// gives up after the stall time with errs.Transient, and the line still
// works once the holder is done.
func TestTurnsStuckHolder(t *testing.T) {
	const stall = 150 * time.Millisecond
	turns := store.NewTurns(stall, 0)
	release, err := turns.Take(context.Background(), "test", hot)
	if err != nil {
		t.Fatalf("Take: %v", err)
	}
	start := time.Now()
	_, err = turns.Take(context.Background(), "test", hot)
	waited := time.Since(start)
	if !errs.Is(errs.Transient, err) || errs.SafeMessage(err) != "the store is busy; try again" {
		t.Errorf("Take behind a stuck holder = %v; want transient, busy", err)
	}
	if waited < stall || waited > stall+2*time.Second {
		t.Errorf("gave up after %v; want about %v", waited, stall)
	}
	release()
	release, err = turns.Take(context.Background(), "test", hot)
	if err != nil {
		t.Fatalf("Take after the holder left: %v", err)
	}
	release()
}

// TestTurnsBounds: a full line refuses at once; a waiter whose context ends
// leaves the line without taking anyone's turn.
func TestTurnsBounds(t *testing.T) {
	turns := store.NewTurns(time.Minute, 1)
	release, err := turns.Take(context.Background(), "test", hot)
	if err != nil {
		t.Fatalf("Take: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	start := func() chan error {
		done := make(chan error, 1)
		go func() {
			r, err := turns.Take(ctx, "test", hot)
			if err == nil {
				r()
			}
			done <- err
		}()
		return done
	}
	waiter := start()
	// Once the waiter is in line, the line is full: a Take fails at once,
	// not through its (already ended) context. A probe that found room
	// stood in line for a moment; if the waiter was turned away meanwhile,
	// it comes again.
	ended, stop := context.WithCancel(context.Background())
	stop()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if _, err = turns.Take(ended, "test", hot); !errors.Is(err, context.Canceled) {
			break
		}
		select {
		case <-waiter:
			waiter = start()
		default:
		}
	}
	if !errs.Is(errs.Transient, err) || errors.Is(err, context.Canceled) {
		t.Errorf("Take on a full line = %v; want transient without waiting", err)
	}
	cancel()
	if err := <-waiter; !errs.Is(errs.Transient, err) || !errors.Is(err, context.Canceled) {
		t.Errorf("waiter whose context ended = %v; want transient, cancelled", err)
	}
	release()
	release, err = turns.Take(context.Background(), "test", hot)
	if err != nil {
		t.Fatalf("Take after the line emptied: %v", err)
	}
	release()
}
