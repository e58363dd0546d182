package coupons

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/parallel"
	"github.com/wemember/wemember/shared/store"
)

// batch is how many due items one atomic write settles: four mutations each
// (instance, old and new listing copy, due item) fill a store.MaxWrite.
const batch = store.MaxWrite / 4

// dueItem is a due index item as the sweep read it, with the coupon as the
// sweep believes it is.
type dueItem struct {
	key   store.Key
	day   int    // The index of its day in the run's walk.
	id    string // The coupon's id; empty for an item that names none.
	in    Instance
	ver   int64 // The coupon's version; 0 when it is gone.
	known bool  // in and ver are known: copied from the item, or read.
}

// readDue decodes a due index item; an item without a copy of its coupon
// (as earlier releases wrote them) leaves the coupon to be read.
func readDue(it store.Item, day int) dueItem {
	d := dueItem{key: it.Key, day: day}
	if _, id, ok := strings.Cut(it.SK, "#"); ok && id != "" {
		d.id = id
	} else {
		d.known = true // Not ours to understand: it is only dropped.
		return d
	}
	var e dueEntry
	if json.Unmarshal(it.Data, &e) == nil && e.Version > 0 && e.Coupon != nil && e.Coupon.ID == d.id {
		d.in, d.ver, d.known = *e.Coupon, e.Version, true
	}
	return d
}

// expiry returns the mutations that settle a due item: the coupon expired,
// if it is still available and past its validity, and the item removed
// either way; and whether it expires the coupon.
func expiry(now time.Time, d dueItem) ([]store.Mutation, bool) {
	ms := []store.Mutation{store.Delete(d.key)}
	if d.ver == 0 || d.in.Status != Available || !now.After(d.in.ValidTo) {
		return ms, false
	}
	in := d.in
	in.Status, in.ClosedAt, in.ClosedBy, in.CloseReason = Expired, now, sweeper, "validity ended"
	put := store.PutJSON(instKey(d.id), in).IfVersion(d.ver)
	// The listing copy is the same JSON: encoded once.
	return append(ms, put, store.Delete(listKey(d.in)), store.Put(listKey(in), put.Data)), true
}

// expireBatch settles a batch of due items in one atomic write, reading
// first only the coupons the items carry no copy of. If any coupon changed
// since (a redemption or another sweep), the write fails as a whole and
// each item is settled on its own instead, from a fresh read.
func (s *Service) expireBatch(ctx context.Context, now time.Time, items []dueItem) (expired, cleaned int, err error) {
	if err := s.loadDue(ctx, items); err != nil {
		return 0, 0, err
	}
	var ms []store.Mutation
	seen := make(map[string]bool, len(items))
	alone := false
	for _, d := range items {
		if d.id != "" && seen[d.id] {
			alone = true // Two items of one coupon cannot share a write.
			break
		}
		seen[d.id] = true
		m, e := expiry(now, d)
		ms = append(ms, m...)
		if e {
			expired++
		} else {
			cleaned++
		}
	}
	if !alone {
		// A batch over the store's size limits (coupons of a template saved
		// with a scope that large before it was bounded) is settled item by
		// item too.
		err = s.st.Write(ctx, ms...)
		if _, ok := store.FailedKey(err); !ok && !errs.Is(errs.Invalid, err) {
			if err != nil {
				return 0, 0, err
			}
			return expired, cleaned, nil
		}
	}
	var mu sync.Mutex
	expired, cleaned = 0, 0
	err = parallel.Each(ctx, 8, len(items), func(ctx context.Context, i int) error {
		e, err := s.expireOne(ctx, now, items[i])
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if e {
			expired++
		} else {
			cleaned++
		}
		return nil
	})
	return expired, cleaned, err
}

// expireOne settles one due item on its own, reading its coupon afresh and
// trying again while the coupon keeps changing under it.
func (s *Service) expireOne(ctx context.Context, now time.Time, d dueItem) (bool, error) {
	for range 8 {
		one := []dueItem{d}
		one[0].known = d.id == "" // Read the coupon afresh; the copy may be stale.
		if err := s.loadDue(ctx, one); err != nil {
			return false, err
		}
		ms, expired := expiry(now, one[0])
		err := s.st.Write(ctx, ms...)
		if _, ok := store.FailedKey(err); ok {
			continue
		}
		return expired && err == nil, err
	}
	return false, errs.E(errs.Transient, "coupon is changing; retry")
}

// loadDue reads the coupons of the items that carry no copy of theirs, at
// most 8 at a time; a coupon that is gone gets version 0.
func (s *Service) loadDue(ctx context.Context, items []dueItem) error {
	var unknown []int
	for i, d := range items {
		if !d.known {
			unknown = append(unknown, i)
		}
	}
	return parallel.Each(ctx, 8, len(unknown), func(ctx context.Context, j int) error {
		d := &items[unknown[j]]
		in, ver, err := s.load(ctx, "coupons.ExpireDue", d.id)
		if err != nil && !errs.Is(errs.NotExist, err) {
			return err
		}
		d.in, d.ver, d.known = in, ver, true
		return nil
	})
}
