package store

import (
	"context"
	"sync"
	"time"

	"github.com/wemember/wemember/shared/errs"
)

// Turns lines up the commands of one process that contend for one item. A
// command whose write lost a condition race on a key (FailedKey) takes the
// turn at that key and retries while it holds it; the others that lost wait
// in line, first come first served, instead of retrying against each other
// until their retry budget runs out and the caller is told "busy". On one
// machine (bbolt, where every write also waits for the disk) a burst on one
// member thus costs waiting, not refusals. Commands of other processes
// still race optimistically: the store's conditions keep every write
// correct, the turns only spare this process's contenders the lost work.
//
// Waiting is bounded: Take gives up with errs.Transient when the turn has
// not moved on for the stall time (its holder is stuck, as on a store that
// no longer answers), when the line already holds the most waiters allowed,
// or when the context ends. A Turns is safe for concurrent use.
type Turns struct {
	stall time.Duration
	limit int

	mu    sync.Mutex
	lines map[Key]*line
}

// line is the queue at one key. It exists while someone holds the turn.
type line struct {
	waiting []chan struct{} // In order of arrival; closed to hand one the turn.
	moves   uint64          // How often the turn has moved on.
}

// The defaults of NewTurns.
const (
	DefaultTurnStall = 5 * time.Second // How long a waiter tolerates a turn that does not move.
	DefaultTurnLimit = 4096            // How many commands may wait at one key.
)

// NewTurns returns a Turns whose waiters give up when the turn has not moved
// for stall, or at once when limit commands already wait at the key (zero
// or less: the defaults).
func NewTurns(stall time.Duration, limit int) *Turns {
	if stall <= 0 {
		stall = DefaultTurnStall
	}
	if limit <= 0 {
		limit = DefaultTurnLimit
	}
	return &Turns{stall: stall, limit: limit, lines: map[Key]*line{}}
}

// Take waits for the turn at k and returns the function that hands it on,
// to be called once the command is done with k (more calls do nothing). It
// fails with errs.Transient when the wait is over its bounds.
func (t *Turns) Take(ctx context.Context, op string, k Key) (func(), error) {
	t.mu.Lock()
	l := t.lines[k]
	if l == nil {
		l = &line{}
		t.lines[k] = l
		t.mu.Unlock()
		return t.release(k, l), nil
	}
	if len(l.waiting) >= t.limit {
		t.mu.Unlock()
		return nil, errs.E(op, errs.Transient, "the store is busy; try again")
	}
	ready := make(chan struct{})
	l.waiting = append(l.waiting, ready)
	seen := l.moves
	t.mu.Unlock()

	// Waiters look at the line once per stall time, not at every move, so
	// a long line costs no more than its handovers.
	timer := time.NewTimer(t.stall)
	defer timer.Stop()
	for {
		select {
		case <-ready:
			return t.release(k, l), nil
		case <-timer.C:
			t.mu.Lock()
			moved := l.moves != seen
			seen = l.moves
			t.mu.Unlock()
			if moved {
				timer.Reset(t.stall)
				continue
			}
			if t.leave(l, ready) {
				return t.release(k, l), nil // The turn came as it gave up.
			}
			return nil, errs.E(op, errs.Transient, "the store is busy; try again")
		case <-ctx.Done():
			if t.leave(l, ready) {
				t.release(k, l)()
			}
			return nil, errs.E(op, errs.Transient, ctx.Err())
		}
	}
}

// release returns the function that hands the turn at k to the next waiter,
// or closes the line when nobody waits.
func (t *Turns) release(k Key, l *line) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			defer t.mu.Unlock()
			t.handOn(k, l)
		})
	}
}

// handOn passes the turn on; t.mu is held.
func (t *Turns) handOn(k Key, l *line) {
	l.moves++
	if len(l.waiting) == 0 {
		delete(t.lines, k)
		return
	}
	next := l.waiting[0]
	l.waiting = l.waiting[1:]
	close(next)
}

// leave takes a waiter that gives up out of the line. It reports true when
// the waiter cannot leave because the turn already reached it: it holds the
// turn and must hand it on.
func (t *Turns) leave(l *line, ready chan struct{}) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, w := range l.waiting {
		if w == ready {
			l.waiting = append(l.waiting[:i], l.waiting[i+1:]...)
			return false
		}
	}
	return true
}
