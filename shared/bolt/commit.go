package bolt

import (
	"sync"

	bbolt "go.etcd.io/bbolt"

	"github.com/wemember/wemember/shared/store"
)

// maxGroup bounds how many writes one transaction commits.
const maxGroup = 128

// group commits concurrent writes together. A bbolt commit syncs the file
// twice, which on a disk takes milliseconds whatever the size of the
// transaction; writes that arrive while one commits are queued, and the
// next commit takes them all in one transaction. Each write is still all
// or nothing: its conditions are checked against the transaction's items
// (including the changes of the writes before it in the group) before any
// of its mutations is applied, and a write whose condition fails changes
// nothing and fails alone. A lone write commits at once, as before.
type group struct {
	mu      sync.Mutex
	queue   []*queued
	leading bool // A caller is committing; the queue waits for it.
	// commits counts transactions (read by tests).
	commits int64
	// beforeCommit, when set, runs as a group starts committing (tests).
	beforeCommit func()
}

// queued is a write waiting in the group.
type queued struct {
	ms     []store.Mutation
	failed int   // The mutation whose condition failed, or -1.
	err    error // The transaction's failure.
	done   chan struct{}
	lead   chan struct{} // Closed when this write's caller is to commit the next group.
}

// commit queues ms and returns once a transaction committed or refused it:
// the index of the mutation whose condition failed (or -1), or the
// transaction's error. The caller that finds no commit under way commits
// the queue itself; when it is done, the first write queued meanwhile
// takes over, so no goroutine is started and none waits on a stranger's
// turn for longer than one commit.
func (g *group) commit(s *Store, ms []store.Mutation) (int, error) {
	q := &queued{ms: ms, failed: -1, done: make(chan struct{}), lead: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, q)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if !lead {
		select {
		case <-q.done:
			return q.failed, q.err
		case <-q.lead:
		}
	}
	g.run(s)
	<-q.done // The group just committed held q.
	return q.failed, q.err
}

// run commits the queued writes (up to maxGroup) in one transaction, then
// hands the lead to the first write still queued, if any.
func (g *group) run(s *Store) {
	g.mu.Lock()
	n := min(len(g.queue), maxGroup)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.commits++
	hook := g.beforeCommit
	g.mu.Unlock()
	if hook != nil {
		hook()
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		now := s.now()
		for _, q := range batch {
			next, failed, err := s.stage(b, q.ms, now)
			if err != nil {
				q.err = err // This write only: nothing of it was applied.
				continue
			}
			if q.failed = failed; failed >= 0 {
				continue
			}
			if err := apply(b, q.ms, next); err != nil {
				return err
			}
		}
		return nil
	})
	for _, q := range batch {
		if err != nil {
			q.failed, q.err = -1, err // Rolled back: nothing was written.
		}
		close(q.done)
	}
	g.mu.Lock()
	if len(g.queue) > 0 {
		close(g.queue[0].lead)
	} else {
		g.leading = false
	}
	g.mu.Unlock()
}
