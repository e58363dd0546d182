// Package store is the port through which domain code reaches a database. It
// is a small key-value model, strongly consistent unless a read asks for less,
// that both adapters (package dynamo over DynamoDB, package bolt over bbolt)
// implement identically, as proven by the conformance suite in package
// storetest.
//
// Items are addressed by a partition key and a sort key. Every item carries a
// version that starts at 1 and grows by one on every change, an opaque data
// blob (JSON by convention), an atomic counter N, and an optional expiry. An
// expired item is treated as absent by every read and condition, even before
// the backend removes it. Lookups by another key are explicit index items,
// written in the same atomic Write as the item they point to.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wemember/wemember/shared/errs"
)

// MaxWrite is the largest number of mutations one atomic Write may carry.
const MaxWrite = 100

// The size limits of a Write, DynamoDB's, which every backend keeps so that
// a write one accepts is never refused by another: an item (keys, data and
// the backend's attributes) of at most 400 KB, a transaction of at most
// 4 MB. Validate counts each mutation as its Size.
const (
	MaxItemBytes  = 400 << 10
	MaxWriteBytes = 4 << 20
)

// Key addresses one item.
type Key struct {
	PK string // Partition key: the unit a Query reads.
	SK string // Sort key: the order within a partition.
}

// K builds a Key.
func K(pk, sk string) Key { return Key{PK: pk, SK: sk} }

// String renders the key for logs and errors.
func (k Key) String() string { return k.PK + "|" + k.SK }

// Item is one stored item.
type Item struct {
	Key
	Version int64     // 1 after the first write, +1 on every later write; 0 for an absent item.
	Data    []byte    // Opaque payload, JSON by convention.
	N       int64     // Atomic counter, changed only by Add mutations.
	Expires time.Time // Zero: never. Second precision.
}

// Found reports whether the item exists: GetMany hands back an absent or
// expired item as its key alone, at version 0.
func (it Item) Found() bool { return it.Version > 0 }

// Consistency is how fresh a read must be.
type Consistency int

// The consistencies.
const (
	// Strong reads see every write that succeeded before they began. Every
	// read that a command's decision or write depends on is strong.
	Strong Consistency = iota
	// Eventual reads may miss the writes of the last moment (on DynamoDB,
	// about a second) and cost half as much. They serve what is only shown
	// — the member card, list pages, reports — where a stale answer changes
	// no outcome.
	Eventual
)

// Op is what a Mutation does.
type Op int

// The mutation operations.
const (
	OpPut    Op = iota // Set Data and Expires; keep N; create if absent.
	OpDelete           // Remove the item; a missing item is not an error.
	OpCheck            // Change nothing; only the condition counts.
	OpAdd              // Add Delta to N (and set Expires if given); create the item (Data nil) if absent.
)

// Cond is the condition a Mutation requires of the current item.
type Cond int

// The conditions. Expired items count as absent.
const (
	Always    Cond = iota // No condition.
	IfAbsent              // The item must not exist.
	IfExists              // The item must exist.
	IfVersion             // The item's version must equal Mutation.Version (0: absent).
)

// Mutation is one change in an atomic Write. Build it with Put, Delete, Check
// or Add and refine it with the If… and At… methods.
type Mutation struct {
	Op      Op
	Key     Key
	Cond    Cond
	Version int64     // For IfVersion.
	Data    []byte    // For OpPut.
	Expires time.Time // For OpPut: the new expiry (zero: never). For OpAdd: the new expiry (zero: keep the item's).
	Delta   int64     // For OpAdd.
	// For OpAdd: bounds the counter after the add must stay within; the write
	// fails with a condition error when it would leave them.
	Min, Max       int64
	HasMin, HasMax bool
}

// Put sets an item's data, creating it if absent.
func Put(k Key, data []byte) Mutation { return Mutation{Op: OpPut, Key: k, Data: data} }

// Delete removes an item.
func Delete(k Key) Mutation { return Mutation{Op: OpDelete, Key: k} }

// Check requires a condition of an item without changing it; give it one of
// the If… methods.
func Check(k Key) Mutation { return Mutation{Op: OpCheck, Key: k, Cond: IfExists} }

// Add adds delta to an item's counter N, creating the item if absent.
func Add(k Key, delta int64) Mutation { return Mutation{Op: OpAdd, Key: k, Delta: delta} }

// IfAbsent requires that the item does not exist.
func (m Mutation) IfAbsent() Mutation { m.Cond = IfAbsent; return m }

// IfExists requires that the item exists.
func (m Mutation) IfExists() Mutation { m.Cond = IfExists; return m }

// IfVersion requires that the item has version v (0 means absent).
func (m Mutation) IfVersion(v int64) Mutation {
	m.Cond, m.Version = IfVersion, v
	if v == 0 {
		m.Cond = IfAbsent
	}
	return m
}

// ExpiresAt sets the expiry a Put or an Add gives the item. An Add without
// one keeps the item's expiry; window counters (a rate limit's) give every
// Add the window's end, so they clean up after themselves.
func (m Mutation) ExpiresAt(t time.Time) Mutation { m.Expires = t; return m }

// AtMost bounds an Add: the counter after it must be ≤ max.
func (m Mutation) AtMost(max int64) Mutation { m.Max, m.HasMax = max, true; return m }

// AtLeast bounds an Add: the counter after it must be ≥ min.
func (m Mutation) AtLeast(min int64) Mutation { m.Min, m.HasMin = min, true; return m }

// Size is what the mutation counts towards the size limits: its keys and
// data, and 512 bytes for the rest, counted generously (DynamoDB counts
// attribute names and numbers in an item's size, and its expressions in a
// transaction's: about 150 bytes).
func (m Mutation) Size() int { return len(m.Key.PK) + len(m.Key.SK) + len(m.Data) + 512 }

// Query reads one partition in sort-key order.
type Query struct {
	PK     string
	Prefix string // Only sort keys starting with Prefix.
	Before string // If set, only sort keys < Before.
	After  string // A Page.Next cursor: continue after it.
	Limit  int    // Items per page; 0 or over MaxPage means MaxPage.
	Desc   bool   // Descending sort-key order.
	// Consistency is how fresh the page must be; Strong unless set.
	Consistency Consistency
}

// MaxPage is the largest page a Query returns.
const MaxPage = 1000

// Page is one page of a Query.
type Page struct {
	Items []Item
	Next  string // Cursor for the next page; empty when there is none.
}

// Store is the database port.
type Store interface {
	// Get returns the item at k, read strongly consistent. It fails with
	// errs.NotExist when the item is absent or expired, errs.Invalid when
	// ValidKey refuses k.
	Get(ctx context.Context, k Key) (Item, error)

	// GetMany returns the items at ks, in the order of ks, read together
	// with consistency c (DynamoDB: one BatchGetItem per 100 keys). An absent
	// or expired item comes back as its key alone, at version 0 (see
	// Item.Found); a key may be asked for more than once. It fails with
	// errs.Invalid, before reading anything, when ValidKey refuses one of
	// ks, and with errs.Transient when the backend stays too busy to answer.
	GetMany(ctx context.Context, ks []Key, c Consistency) ([]Item, error)

	// Write applies up to MaxWrite mutations atomically: either every
	// condition holds and every mutation is applied, or nothing changes and
	// the error (kind errs.Conflict) is a *ConditionError naming the key of
	// the first mutation, in write order, whose condition failed (FailedKey). Two mutations of the same key, a key
	// ValidKey refuses, more than MaxWrite mutations, or a write over the
	// size limits (MaxItemBytes, MaxWriteBytes) fail with errs.Invalid.
	// Backend trouble is errs.Transient or errs.Internal.
	Write(ctx context.Context, ms ...Mutation) error

	// Query returns the live items of one partition in sort-key order, a page
	// at a time. An unknown partition yields an empty page, not an error.
	// A query ValidQuery refuses (a malformed key, prefix, bound or cursor)
	// fails with errs.Invalid.
	Query(ctx context.Context, q Query) (Page, error)

	// Close releases the backend.
	Close() error
}

// ConditionError reports which mutation of a Write failed its condition, by
// its key: a Write holds each key at most once, so the key names the
// mutation whatever order the write lists them in.
type ConditionError struct {
	Key Key
}

func (e *ConditionError) Error() string {
	return fmt.Sprintf("condition failed on %s", e.Key)
}

// ConditionFailed wraps a ConditionError in an errs.Error of kind Conflict.
func ConditionFailed(op string, k Key) error {
	return errs.E(op, errs.Conflict, &ConditionError{Key: k})
}

// FailedKey reports the key of the mutation that failed its condition, if
// err is a condition failure of a Write.
func FailedKey(err error) (Key, bool) {
	var ce *ConditionError
	if errors.As(err, &ce) {
		return ce.Key, true
	}
	return Key{}, false
}

// Validate checks a batch of mutations against the rules both backends share.
// Adapters call it before touching the backend.
func Validate(op string, ms []Mutation) error {
	if len(ms) == 0 {
		return errs.E(op, errs.Invalid, "empty write")
	}
	if len(ms) > MaxWrite {
		return errs.E(op, errs.Invalid, fmt.Sprintf("write of %d mutations exceeds %d", len(ms), MaxWrite))
	}
	seen := make(map[Key]struct{}, len(ms))
	total := 0
	for i, m := range ms {
		if err := ValidKey(op, m.Key); err != nil {
			return err
		}
		if _, dup := seen[m.Key]; dup {
			return errs.E(op, errs.Invalid, fmt.Sprintf("mutation %d repeats key %s", i, m.Key))
		}
		seen[m.Key] = struct{}{}
		if m.Op < OpPut || m.Op > OpAdd || m.Cond < Always || m.Cond > IfVersion {
			return errs.E(op, errs.Invalid, fmt.Sprintf("mutation %d is malformed", i))
		}
		size := m.Size()
		if size > MaxItemBytes {
			return errs.E(op, errs.Invalid, fmt.Sprintf("a record of %d bytes is over the store's limit of %d bytes", size, MaxItemBytes))
		}
		total += size
	}
	if total > MaxWriteBytes {
		return errs.E(op, errs.Invalid, fmt.Sprintf("a change of %d bytes is over the store's limit of %d bytes for one change", total, MaxWriteBytes))
	}
	return nil
}

// Live reports whether an item with the given expiry is live at now.
func Live(expires, now time.Time) bool {
	return expires.IsZero() || now.Before(expires)
}

// GetJSON reads the item at k and decodes its data into v.
func GetJSON(ctx context.Context, s Store, k Key, v any) (Item, error) {
	it, err := s.Get(ctx, k)
	if err != nil {
		return Item{}, err
	}
	if err := json.Unmarshal(it.Data, v); err != nil {
		return Item{}, errs.E("store.GetJSON", errs.Internal, fmt.Errorf("decode %s: %w", k, err))
	}
	return it, nil
}

// PutJSON is Put with v encoded as JSON. Encoding a domain struct cannot
// fail; a value that does not encode is a programming error and panics.
func PutJSON(k Key, v any) Mutation {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("store.PutJSON %s: %v", k, err))
	}
	return Put(k, b)
}
