package coupons

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// ExpiringSoon returns available coupons whose validity ends within the
// given duration after now (for reminders), day by day in order of validity
// end (within a day, partition by partition), a page at a time: pass the
// returned cursor back to continue (empty: done). It reads only the due
// index, and a coupon only when its due item carries no copy of it.
func (s *Service) ExpiringSoon(ctx context.Context, now time.Time, within time.Duration, cursor string, limit int) ([]Instance, string, error) {
	const op = "coupons.ExpiringSoon"
	if limit <= 0 || within <= 0 {
		return nil, "", errs.E(op, errs.Invalid, "limit and window must be positive")
	}
	now = now.UTC().Truncate(time.Second)
	end := now.Add(within)
	first := dueDay(now)
	// Items of the first day that ended before now are past, not soon.
	floor := store.EncodeCursor(fmt.Sprintf("%010d#~", now.Unix()-1))
	day, part, after := first, 0, ""
	if cursor != "" {
		var ok bool
		if day, part, after, ok = parseSoon(cursor); !ok {
			return nil, "", errs.E(op, errs.Invalid, "bad reminder cursor")
		}
	}
	var out []Instance
	for ; day <= dueDay(end); day, part = nextDay(day), 0 {
		pks := duePartitions(day)
		for ; part < len(pks); part, after = part+1, "" {
			if after == "" && day == first {
				after = floor
			}
			for {
				pg, err := s.st.Query(ctx, store.Query{PK: pks[part], Before: dueSK(end.Add(time.Second), ""),
					After: after, Limit: limit - len(out)})
				if err != nil {
					return nil, "", errs.E(op, err)
				}
				items := make([]dueItem, len(pg.Items))
				for i, it := range pg.Items {
					items[i] = readDue(it, 0)
				}
				// The page's coupons without a copy are read together.
				if err := s.loadDue(ctx, items); err != nil {
					return nil, "", errs.E(op, err)
				}
				for _, d := range items {
					if d.ver != 0 && d.in.Status == Available && now.Before(d.in.ValidTo.Add(time.Second)) {
						out = append(out, d.in)
					}
				}
				after = pg.Next
				if len(out) >= limit {
					if after == "" {
						return out, soonCursor(day, part+1, ""), nil
					}
					return out, soonCursor(day, part, after), nil
				}
				if after == "" {
					break
				}
			}
		}
	}
	return out, "", nil
}

// soonCursor is ExpiringSoon's cursor: the day, the index of the partition
// in duePartitions and the page cursor within it.
func soonCursor(day string, part int, after string) string {
	if part == len(duePartitions(day)) {
		day, part = nextDay(day), 0
	}
	return day + "|" + strconv.Itoa(part) + "|" + after
}

// parseSoon reads a cursor soonCursor made, or the day|after one of earlier
// releases, whose page cursor was in the day's own partition.
func parseSoon(cursor string) (day string, part int, after string, ok bool) {
	f := strings.SplitN(cursor, "|", 3)
	switch len(f) {
	case 2:
		day, after = f[0], f[1]
	case 3:
		n, err := strconv.Atoi(f[1])
		if err != nil || n < 0 || n > store.Shards {
			return "", 0, "", false
		}
		day, part, after = f[0], n, f[2]
	default:
		return "", 0, "", false
	}
	return day, part, after, len(day) == len(dayLayout)
}
