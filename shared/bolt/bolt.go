// Package bolt is the store.Store adapter over go.etcd.io/bbolt: the embedded
// store for one machine (local runs and tests). Writes are serialised and
// each is atomic; concurrent writes share one bbolt read-write transaction
// (group commit), so they share its disk sync.
package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

var bucket = []byte("items")

// Store is a store.Store over one bbolt file.
type Store struct {
	db  *bbolt.DB
	now func() time.Time

	mu         sync.Mutex
	queue      []*write // Writes waiting for the next commit.
	committing bool     // A write is committing; it commits the queue next.
	commits    int64    // Group commits so far (read by tests).
	// beforeCommit, when set, runs as a group starts committing (tests).
	beforeCommit func()
}

// maxGroup bounds how many writes one transaction commits.
const maxGroup = 128

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock used to decide expiry (time.Now by default).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// Open opens (creating if needed) the bbolt file at path.
func Open(path string, opts ...Option) (*Store, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, errs.E("bolt.Open", errs.Internal, fmt.Errorf("open %s: %w", path, err))
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		db.Close()
		return nil, errs.E("bolt.Open", errs.Internal, err)
	}
	s := &Store{db: db, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// The on-disk key is pk, a zero byte, sk; store.ValidKey refuses keys with a
// zero byte, so the split is unambiguous.
func dbKey(k store.Key) []byte {
	b := make([]byte, 0, len(k.PK)+1+len(k.SK))
	b = append(b, k.PK...)
	b = append(b, 0)
	return append(b, k.SK...)
}

// The on-disk value: version (8), counter (8), expiry unix seconds (8), data.
const header = 24

func encode(it store.Item) []byte {
	b := make([]byte, header+len(it.Data))
	binary.BigEndian.PutUint64(b[0:], uint64(it.Version))
	binary.BigEndian.PutUint64(b[8:], uint64(it.N))
	var exp int64
	if !it.Expires.IsZero() {
		exp = it.Expires.Unix()
	}
	binary.BigEndian.PutUint64(b[16:], uint64(exp))
	copy(b[header:], it.Data)
	return b
}

func decode(k store.Key, v []byte) (store.Item, error) {
	if len(v) < header {
		return store.Item{}, fmt.Errorf("corrupt item %s", k)
	}
	it := store.Item{
		Key:     k,
		Version: int64(binary.BigEndian.Uint64(v[0:])),
		N:       int64(binary.BigEndian.Uint64(v[8:])),
	}
	if exp := int64(binary.BigEndian.Uint64(v[16:])); exp != 0 {
		it.Expires = time.Unix(exp, 0)
	}
	if len(v) > header {
		it.Data = bytes.Clone(v[header:])
	}
	return it, nil
}

// live reads the item at k from a bucket, reporting false if it is absent or
// expired; without withData it leaves the item's Data out.
func (s *Store) live(b *bbolt.Bucket, k store.Key, now time.Time, withData bool) (store.Item, bool, error) {
	v := b.Get(dbKey(k))
	if v == nil {
		return store.Item{}, false, nil
	}
	if !withData && len(v) > header {
		v = v[:header]
	}
	it, err := decode(k, v)
	if err != nil {
		return store.Item{}, false, err
	}
	if !store.Live(it.Expires, now) {
		return store.Item{}, false, nil
	}
	return it, true, nil
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, k store.Key) (store.Item, error) {
	const op = "bolt.Get"
	if err := store.ValidKey(op, k); err != nil {
		return store.Item{}, err
	}
	var it store.Item
	var ok bool
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		it, ok, err = s.live(tx.Bucket(bucket), k, s.now(), true)
		return err
	})
	if err != nil {
		return store.Item{}, errs.E(op, errs.Internal, err)
	}
	if !ok {
		return store.Item{}, errs.E(op, errs.NotExist, fmt.Errorf("no item %s", k))
	}
	return it, nil
}

// GetMany implements store.Store in one read transaction. Every bbolt
// read is strongly consistent, whatever the consistency asked for.
func (s *Store) GetMany(ctx context.Context, ks []store.Key, _ store.Consistency) ([]store.Item, error) {
	const op = "bolt.GetMany"
	for _, k := range ks {
		if err := store.ValidKey(op, k); err != nil {
			return nil, err
		}
	}
	out := make([]store.Item, len(ks))
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, now := tx.Bucket(bucket), s.now()
		for i, k := range ks {
			it, ok, err := s.live(b, k, now, true)
			if err != nil {
				return err
			}
			if !ok {
				it = store.Item{Key: k}
			}
			out[i] = it
		}
		return nil
	})
	if err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	return out, nil
}

// Write implements store.Store. Writes that arrive while another commits
// wait and are then committed together, in arrival order, in one bbolt
// transaction: one disk sync for all of them instead of one each. Each
// write still succeeds or fails on its own: its conditions are checked
// against the writes before it before any of its mutations is applied.
func (s *Store) Write(ctx context.Context, ms ...store.Mutation) error {
	const op = "bolt.Write"
	if err := store.Validate(op, ms); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return errs.E(op, errs.Transient, err)
	}
	w := &write{ms: ms, wake: make(chan bool, 1)}
	s.mu.Lock()
	s.queue = append(s.queue, w)
	lead := !s.committing
	s.committing = true
	s.mu.Unlock()
	if !lead && !<-w.wake {
		return w.err // Committed by the write that led.
	}
	s.mu.Lock()
	n := min(len(s.queue), maxGroup) // w is first: it led, or was woken as the first queued.
	group := s.queue[:n:n]
	s.queue = s.queue[n:]
	s.commits++
	hook := s.beforeCommit
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	s.commit(group)
	for _, o := range group {
		if o != w {
			o.wake <- false
		}
	}
	s.mu.Lock()
	if len(s.queue) > 0 {
		s.queue[0].wake <- true // It commits the writes that came meanwhile.
	} else {
		s.committing = false
	}
	s.mu.Unlock()
	return w.err
}

// write is one Write waiting for its commit.
type write struct {
	ms   []store.Mutation
	err  error
	wake chan bool // true: commit the queue; false: done, err is the outcome.
}

// commit applies a group of writes in one transaction. If the transaction
// itself fails, each write of a group is tried again alone, so one bad
// write fails alone.
func (s *Store) commit(group []*write) {
	const op = "bolt.Write"
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		now := s.now()
		for _, w := range group {
			failed, err := s.apply(b, w.ms, now)
			if err != nil {
				return err
			}
			w.err = nil
			if failed >= 0 {
				w.err = store.ConditionFailed(op, w.ms[failed].Key)
			}
		}
		return nil
	})
	if err == nil {
		return
	}
	if len(group) > 1 {
		for _, w := range group {
			s.commit([]*write{w})
		}
		return
	}
	group[0].err = errs.E(op, errs.Internal, err)
}

// apply checks every condition of a write and, if all hold, applies its
// mutations; otherwise it changes nothing and returns the index of the
// first mutation whose condition failed (-1 when none did).
func (s *Store) apply(b *bbolt.Bucket, ms []store.Mutation, now time.Time) (int, error) {
	next := make([]store.Item, len(ms))
	for i, m := range ms {
		// Only an Add keeps the item's data; the others need its header.
		cur, exists, err := s.live(b, m.Key, now, m.Op == store.OpAdd)
		if err != nil {
			return -1, err
		}
		if !holds(m, cur, exists) {
			return i, nil
		}
		if !exists {
			cur = store.Item{}
		}
		cur.Key = m.Key
		cur.Version++
		switch m.Op {
		case store.OpPut:
			cur.Data = m.Data
			cur.Expires = m.Expires
		case store.OpAdd:
			cur.N += m.Delta
			if !m.Expires.IsZero() {
				cur.Expires = m.Expires
			}
			if (m.HasMax && cur.N > m.Max) || (m.HasMin && cur.N < m.Min) {
				return i, nil
			}
		}
		next[i] = cur
	}
	for i, m := range ms {
		var err error
		switch m.Op {
		case store.OpCheck:
		case store.OpDelete:
			err = b.Delete(dbKey(m.Key))
		default:
			err = b.Put(dbKey(m.Key), encode(next[i]))
		}
		if err != nil {
			return -1, err
		}
	}
	return -1, nil
}

func holds(m store.Mutation, cur store.Item, exists bool) bool {
	switch m.Cond {
	case store.IfAbsent:
		return !exists
	case store.IfExists:
		return exists
	case store.IfVersion:
		return exists && cur.Version == m.Version
	}
	return true
}

// Query implements store.Store.
func (s *Store) Query(ctx context.Context, q store.Query) (store.Page, error) {
	const op = "bolt.Query"
	if err := store.ValidQuery(op, q); err != nil {
		return store.Page{}, err
	}
	limit := q.Limit
	if limit <= 0 || limit > store.MaxPage {
		limit = store.MaxPage
	}
	var after string
	if q.After != "" {
		var err error
		if after, err = store.DecodeCursor(op, q.After); err != nil {
			return store.Page{}, err
		}
	}
	base := append([]byte(q.PK), 0)
	prefix := append(bytes.Clone(base), q.Prefix...)
	var page store.Page
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		now := s.now()
		var k, v []byte
		inRange := func(k []byte) bool {
			if k == nil || !bytes.HasPrefix(k, prefix) {
				return false
			}
			return q.Before == "" || string(k[len(base):]) < q.Before
		}
		if !q.Desc {
			switch {
			case after != "":
				k, v = c.Seek(append(bytes.Clone(base), after...))
				if k != nil && string(k[len(base):]) == after {
					k, v = c.Next()
				}
			default:
				k, v = c.Seek(prefix)
			}
			for ; k != nil && bytes.HasPrefix(k, prefix) && len(page.Items) < limit; k, v = c.Next() {
				if !inRange(k) {
					break
				}
				if err := s.collect(&page, q.PK, k[len(base):], v, now); err != nil {
					return err
				}
			}
		} else {
			// Position on the last key of the range, then walk back.
			upper := prefixEnd(prefix)
			if q.Before != "" {
				if b := append(bytes.Clone(base), q.Before...); upper == nil || bytes.Compare(b, upper) < 0 {
					upper = b
				}
			}
			if after != "" {
				if a := append(bytes.Clone(base), after...); upper == nil || bytes.Compare(a, upper) < 0 {
					upper = a
				}
			}
			if upper == nil {
				k, v = c.Last()
			} else if k, v = c.Seek(upper); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
			for ; k != nil && len(page.Items) < limit; k, v = c.Prev() {
				if !bytes.HasPrefix(k, prefix) {
					break
				}
				if !inRange(k) || (after != "" && string(k[len(base):]) >= after) {
					continue
				}
				if err := s.collect(&page, q.PK, k[len(base):], v, now); err != nil {
					return err
				}
			}
		}
		if len(page.Items) < limit {
			return nil
		}
		// Hand out a cursor only if a live item follows: expired ones may not.
		for ; k != nil && inRange(k); k, v = step(c, q.Desc) {
			if it, err := decode(store.Key{}, v); err == nil && store.Live(it.Expires, now) {
				page.Next = store.EncodeCursor(page.Items[len(page.Items)-1].SK)
				break
			}
		}
		return nil
	})
	if err != nil {
		return store.Page{}, errs.E(op, errs.Internal, err)
	}
	return page, nil
}

// step moves a cursor one key on in the query's direction.
func step(c *bbolt.Cursor, desc bool) ([]byte, []byte) {
	if desc {
		return c.Prev()
	}
	return c.Next()
}

func (s *Store) collect(p *store.Page, pk string, sk, v []byte, now time.Time) error {
	it, err := decode(store.Key{PK: pk, SK: string(sk)}, v)
	if err != nil {
		return err
	}
	if store.Live(it.Expires, now) {
		p.Items = append(p.Items, it)
	}
	return nil
}

// prefixEnd is the smallest key greater than every key with prefix p, or nil
// if there is none.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

var _ store.Store = (*Store)(nil)
