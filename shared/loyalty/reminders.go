package loyalty

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/parallel"
	"github.com/wemember/wemember/shared/store"
)

// Reminder is a pre-expiry reminder candidate: a lot with points left that
// expires soon.
type Reminder struct {
	MemberID string    `json:"member_id"`
	LotID    string    `json:"lot_id"`
	Points   int64     `json:"points"`
	At       time.Time `json:"at"`
}

// ExpiringWithin lists lots expiring after now and within d, from the
// expiry index (one day's partitions at a time, no table scan), in expiry order, a
// page of at most limit at a time; pass the returned cursor ("" when done)
// to continue. Lots already spent are left out.
func (s *Service) ExpiringWithin(ctx context.Context, now time.Time, d time.Duration, cursor string, limit int) ([]Reminder, string, error) {
	const op = "loyalty.ExpiringWithin"
	end := now.Add(d)
	var out []Reminder
	next, err := s.walkWindow(ctx, op, dueExpiry, now, end, cursor, limit, func(_ string, it store.Item) (bool, bool, error) {
		var ref dueRef
		if err := json.Unmarshal(it.Data, &ref); err != nil {
			return false, false, errs.E(errs.Internal, err)
		}
		if ref.At.After(end) {
			return false, true, nil // Sorted by time: the window is done.
		}
		if !ref.At.After(now) {
			return false, false, nil
		}
		lit, err := s.st.Get(ctx, store.K(memberPK(ref.MemberID), ref.LotSK))
		if errs.Is(errs.NotExist, err) {
			return false, false, nil
		} else if err != nil {
			return false, false, err
		}
		l, err := decodeLot(lit)
		if err != nil || l.Remaining <= 0 {
			return false, false, nil
		}
		out = append(out, Reminder{MemberID: ref.MemberID, LotID: l.ID, Points: l.Remaining, At: l.ExpiresAt})
		return true, false, nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// walkWindow reads one due index day by day, from the cursor's day (or
// now's) through end's, and calls visit for each item until visit has kept
// limit of them. visit reports whether it kept the item, and done to end
// the walk early. A day's items are read from all its partitions (see
// dayPage) in sort-key order. The cursor ("day|sort key") resumes after the
// last item visited; it is "" when the window is done.
func (s *Service) walkWindow(ctx context.Context, op, kind string, now, end time.Time, cursor string, limit int,
	visit func(day string, it store.Item) (kept, done bool, err error)) (string, error) {
	if limit <= 0 || !end.After(now) {
		return "", errs.E(op, errs.Invalid, "limit and window must be positive")
	}
	day, after := calendar.Day(now), ""
	if cursor != "" {
		var ok bool
		if day, after, ok = strings.Cut(cursor, "|"); !ok {
			return "", errs.E(op, errs.Invalid, "bad cursor")
		}
		if _, err := calendar.ParseDay(day); err != nil {
			return "", errs.E(op, errs.Invalid, "bad cursor")
		}
	}
	kept := 0
	for day <= calendar.Day(end) {
		for {
			items, more, err := s.dayPage(ctx, kind, day, after, min(limit, store.MaxPage))
			if err != nil {
				return "", errs.E(op, err)
			}
			for _, it := range items {
				if kept >= limit {
					return day + "|" + after, nil
				}
				k, done, err := visit(day, it)
				if err != nil {
					return "", errs.E(op, err)
				}
				if done {
					return "", nil
				}
				after = it.Key.SK
				if k {
					kept++
				}
			}
			if !more {
				break
			}
		}
		var err error
		if day, err = calendar.NextDay(day); err != nil {
			return "", errs.E(op, errs.Internal, err)
		}
		after = ""
	}
	return "", nil
}

// dayPage reads the first n items of kind's index of day with a sort key
// after after, merged in sort-key order from every partition of the day
// (its shards and the unsharded partition), which it queries side by side.
// more reports that the day may hold further items. Each partition gives at
// most n items, so the n smallest of their union are the day's next n.
func (s *Service) dayPage(ctx context.Context, kind, day, after string, n int) ([]store.Item, bool, error) {
	pks := duePartitions(kind, day)
	pages := make([]store.Page, len(pks))
	err := parallel.Each(ctx, s.workers, len(pks), func(ctx context.Context, i int) error {
		q := store.Query{PK: pks[i], Limit: n}
		if after != "" {
			q.After = store.EncodeCursor(after)
		}
		var err error
		pages[i], err = s.st.Query(ctx, q)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	var items []store.Item
	more := false
	for _, p := range pages {
		items = append(items, p.Items...)
		more = more || p.Next != ""
	}
	slices.SortFunc(items, func(a, b store.Item) int { return strings.Compare(a.Key.SK, b.Key.SK) })
	if len(items) > n {
		items, more = items[:n], true
	}
	return items, more, nil
}
