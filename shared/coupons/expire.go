package coupons

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/parallel"
	"github.com/wemember/wemember/shared/store"
)

// Progress reports what one ExpireDue run did.
type Progress struct {
	Expired int  // Coupons this run moved from available to expired.
	Cleaned int  // Due items dropped: their coupon was used, revoked or expired already.
	More    bool // Stopped at the limit or the context; run again to continue.
}

// dueCursor is the first UTC day whose due partition may still hold items.
type dueCursor struct {
	Day string `json:"day"`
}

// sweeper is the actor recorded on coupons the sweep expires.
const sweeper = "sweep"

// ExpireDue expires available coupons whose validity ended before now. It
// reads only the due index (one partition per UTC day, from the stored
// cursor to today), never the table. Each due item is handled idempotently:
// the instance changes only if its version is unchanged, so two overlapping
// runs expire each coupon once. It stops after limit due items or when ctx
// is done, reporting More, and the next run continues where it stopped:
// handled items are removed from the index, and the cursor moves past a day
// only when the whole day is done. Store failures are returned with the
// progress made so far; a store call cut short by ctx is a normal stop.
func (s *Service) ExpireDue(ctx context.Context, now time.Time, limit int) (Progress, error) {
	const op = "coupons.ExpireDue"
	if limit <= 0 {
		return Progress{}, errs.E(op, errs.Invalid, "limit must be positive")
	}
	p, err := s.expireDue(ctx, now, limit)
	if err != nil && ctx.Err() != nil {
		// The deadline cut a store call short: a normal stop, not a failure.
		p.More = true
		return p, nil
	}
	return p, err
}

func (s *Service) expireDue(ctx context.Context, now time.Time, limit int) (p Progress, err error) {
	const op = "coupons.ExpireDue"
	now = now.UTC().Truncate(time.Second)
	cur, ver, err := s.cursor(ctx, now)
	if err != nil {
		return p, errs.E(op, err)
	}
	today, open := dueDay(now), cur
	// However the run ends, even cut off by its deadline, the cursor moves
	// past the days it finished, so the next run does not read them again.
	defer func() {
		if aerr := s.advance(ctx, cur, open, ver); err == nil {
			err = aerr
		}
	}()
	for day := cur; day <= today; day = nextDay(day) {
		after := ""
		for {
			if ctx.Err() != nil || p.Expired+p.Cleaned >= limit {
				p.More = true
				return p, nil
			}
			pg, err := s.st.Query(ctx, store.Query{PK: duePK(day), Before: dueSK(now, ""), After: after,
				Limit: min(100, limit-p.Expired-p.Cleaned)})
			if err != nil {
				return p, errs.E(op, err)
			}
			for i := 0; i < len(pg.Items); i += batch {
				keys := make([]store.Key, 0, batch)
				for _, it := range pg.Items[i:min(i+batch, len(pg.Items))] {
					keys = append(keys, it.Key)
				}
				expired, cleaned, err := s.expireBatch(ctx, now, keys)
				p.Expired, p.Cleaned = p.Expired+expired, p.Cleaned+cleaned
				if err != nil {
					return p, errs.E(op, err)
				}
			}
			if pg.Next == "" {
				break
			}
			after = pg.Next
		}
		if day < today && open == day {
			open = nextDay(day) // Every item of a past day is done.
		}
	}
	return p, nil
}

// batch is how many due items one atomic write expires: four mutations each
// (instance, old and new listing copy, due item) fill a store.MaxWrite.
const batch = store.MaxWrite / 4

// expireBatch expires a batch of due items in one atomic write. If any
// instance changed since it was read (a redemption or another sweep), the
// write fails as a whole and each item is handled on its own instead.
func (s *Service) expireBatch(ctx context.Context, now time.Time, keys []store.Key) (expired, cleaned int, err error) {
	loaded, err := s.loadAll(ctx, keys)
	if err != nil {
		return 0, 0, err
	}
	var ms []store.Mutation
	for i, k := range keys {
		in, ver, id := loaded[i].in, loaded[i].ver, loaded[i].id
		ms = append(ms, store.Delete(k))
		if ver == 0 || in.Status != Available || !now.After(in.ValidTo) {
			cleaned++
			continue
		}
		old := in
		in.Status, in.ClosedAt, in.ClosedBy, in.CloseReason = Expired, now, sweeper, "validity ended"
		ms = append(ms, store.PutJSON(instKey(id), in).IfVersion(ver), store.Delete(listKey(old)),
			store.PutJSON(listKey(in), in))
		expired++
	}
	err = s.st.Write(ctx, ms...)
	if _, ok := store.FailedKey(err); !ok {
		if err != nil {
			return 0, 0, err
		}
		return expired, cleaned, nil
	}
	expired, cleaned = 0, 0
	for _, k := range keys {
		e, err := s.expireOne(ctx, now, k)
		if err != nil {
			return expired, cleaned, err
		}
		if e {
			expired++
		} else {
			cleaned++
		}
	}
	return expired, cleaned, nil
}

// loaded is an instance read for a due item; ver 0 means it is gone.
type loaded struct {
	id  string
	in  Instance
	ver int64
}

// loadAll reads the instances of due items, a few at a time in parallel: on
// a remote store the reads, not the one batched write, bound the sweep.
func (s *Service) loadAll(ctx context.Context, keys []store.Key) ([]loaded, error) {
	ids := make([]string, len(keys))
	for i, k := range keys {
		_, ids[i], _ = strings.Cut(k.SK, "#")
	}
	return s.loadIDs(ctx, ids)
}

// loadIDs reads instances by id, at most 8 at a time; an unknown id yields
// ver 0.
func (s *Service) loadIDs(ctx context.Context, ids []string) ([]loaded, error) {
	out := make([]loaded, len(ids))
	err := parallel.Each(ctx, 8, len(ids), func(ctx context.Context, i int) error {
		in, ver, err := s.load(ctx, "coupons.ExpireDue", ids[i])
		if err != nil && !errs.Is(errs.NotExist, err) {
			return err
		}
		out[i] = loaded{id: ids[i], in: in, ver: ver}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// expireOne handles one due item: it expires the coupon if still available
// and removes the due item either way.
func (s *Service) expireOne(ctx context.Context, now time.Time, k store.Key) (bool, error) {
	const op = "coupons.ExpireDue"
	_, id, ok := strings.Cut(k.SK, "#")
	if !ok {
		return false, s.st.Write(ctx, store.Delete(k)) // Not ours to understand.
	}
	expired := false
	_, err := s.change(ctx, op, id, func(in *Instance) (bool, error) {
		expired = false // A retry after a lost race starts over.
		if in.Status != Available || !now.After(in.ValidTo) {
			return false, nil
		}
		in.Status, in.ClosedAt, in.ClosedBy, in.CloseReason = Expired, now, sweeper, "validity ended"
		expired = true
		return true, nil
	})
	if err != nil && !errs.Is(errs.NotExist, err) {
		return false, err
	}
	if !expired {
		if err := s.st.Write(ctx, store.Delete(k)); err != nil {
			return false, err
		}
	}
	return expired, nil
}

// cursor loads the sweep cursor; without one it starts Lookback ago.
func (s *Service) cursor(ctx context.Context, now time.Time) (string, int64, error) {
	var c dueCursor
	it, err := store.GetJSON(ctx, s.st, cursorKey(), &c)
	if errs.Is(errs.NotExist, err) {
		return dueDay(now.Add(-s.lookback)), 0, nil
	}
	if err != nil {
		return "", 0, err
	}
	return c.Day, it.Version, nil
}

// advance stores open as the cursor if it moved past cur, unless another
// run moved it at least as far meanwhile. It writes on a detached context:
// a run cut off by its deadline still saves how far it got.
func (s *Service) advance(ctx context.Context, cur, open string, ver int64) error {
	if open <= cur {
		return nil
	}
	ctx, cancel := store.Detach(ctx)
	defer cancel()
	for range 5 {
		err := s.st.Write(ctx, store.PutJSON(cursorKey(), dueCursor{Day: open}).IfVersion(ver))
		if err == nil {
			return nil
		}
		if !errs.Is(errs.Conflict, err) {
			return errs.E("coupons.ExpireDue", err)
		}
		var c dueCursor
		it, err := store.GetJSON(ctx, s.st, cursorKey(), &c)
		if err != nil {
			return errs.E("coupons.ExpireDue", err)
		}
		if c.Day >= open {
			return nil
		}
		ver = it.Version
	}
	return errs.E("coupons.ExpireDue", errs.Transient, "expiry cursor is contended")
}

// nextDay returns the UTC day after day (yyyymmdd).
func nextDay(day string) string {
	t, err := time.Parse(dayLayout, day)
	if err != nil {
		return "99991231" // Unreachable for cursors we wrote; ends the walk.
	}
	return t.AddDate(0, 0, 1).Format(dayLayout)
}

// ExpiringSoon returns available coupons whose validity ends within the
// given duration after now (for reminders), in order of validity end, a page
// at a time: pass the returned cursor back to continue (empty: done). It
// reads only the due index.
func (s *Service) ExpiringSoon(ctx context.Context, now time.Time, within time.Duration, cursor string, limit int) ([]Instance, string, error) {
	const op = "coupons.ExpiringSoon"
	if limit <= 0 || within <= 0 {
		return nil, "", errs.E(op, errs.Invalid, "limit and window must be positive")
	}
	now = now.UTC().Truncate(time.Second)
	end := now.Add(within)
	day, after := dueDay(now), store.EncodeCursor(fmt.Sprintf("%010d#~", now.Unix()-1))
	if cursor != "" {
		var ok bool
		if day, after, ok = strings.Cut(cursor, "|"); !ok || len(day) != len(dayLayout) {
			return nil, "", errs.E(op, errs.Invalid, "bad reminder cursor")
		}
	}
	var out []Instance
	for ; day <= dueDay(end); day, after = nextDay(day), "" {
		for {
			pg, err := s.st.Query(ctx, store.Query{PK: duePK(day), Before: dueSK(end.Add(time.Second), ""),
				After: after, Limit: limit - len(out)})
			if err != nil {
				return nil, "", errs.E(op, err)
			}
			for _, it := range pg.Items {
				_, id, _ := strings.Cut(it.SK, "#")
				in, err := s.Get(ctx, id)
				if err != nil && !errs.Is(errs.NotExist, err) {
					return nil, "", errs.E(op, err)
				}
				if err == nil && in.Status == Available && now.Before(in.ValidTo.Add(time.Second)) {
					out = append(out, in)
				}
			}
			after = pg.Next
			if len(out) >= limit {
				if after == "" {
					return out, nextDay(day) + "|", nil
				}
				return out, day + "|" + after, nil
			}
			if after == "" {
				break
			}
		}
	}
	return out, "", nil
}
