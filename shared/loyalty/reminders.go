package loyalty

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/errs"
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
// expiry index (one partition per day, no table scan), in expiry order, a
// page of at most limit at a time; pass the returned cursor ("" when done)
// to continue. Lots already spent are left out.
func (s *Service) ExpiringWithin(ctx context.Context, now time.Time, d time.Duration, cursor string, limit int) ([]Reminder, string, error) {
	const op = "loyalty.ExpiringWithin"
	if limit <= 0 || d <= 0 {
		return nil, "", errs.E(op, errs.Invalid, "limit and window must be positive")
	}
	day, after := dayOf(now), ""
	if cursor != "" {
		var ok bool
		if day, after, ok = strings.Cut(cursor, "|"); !ok || len(day) != 8 {
			return nil, "", errs.E(op, errs.Invalid, "bad cursor")
		}
	}
	end := now.Add(d)
	var out []Reminder
	for ; day <= dayOf(end); day, after = nextDay(day), "" {
		q := store.Query{PK: "due#" + dueExpiry + "#" + day, Limit: limit}
		if after != "" {
			q.After = store.EncodeCursor(after)
		}
		for {
			page, err := s.st.Query(ctx, q)
			if err != nil {
				return nil, "", errs.E(op, err)
			}
			for _, it := range page.Items {
				var ref dueRef
				if err := json.Unmarshal(it.Data, &ref); err != nil {
					return nil, "", errs.E(op, errs.Internal, err)
				}
				if ref.At.After(end) {
					return out, "", nil
				}
				if !ref.At.After(now) {
					continue
				}
				if len(out) >= limit {
					return out, fmt.Sprintf("%s|%s", day, after), nil
				}
				after = it.Key.SK
				lit, err := s.st.Get(ctx, store.K(memberPK(ref.MemberID), ref.LotSK))
				if errs.Is(errs.NotExist, err) {
					continue
				} else if err != nil {
					return nil, "", errs.E(op, err)
				}
				l, err := decodeLot(lit)
				if err != nil || l.Remaining <= 0 {
					continue
				}
				out = append(out, Reminder{MemberID: ref.MemberID, LotID: l.ID, Points: l.Remaining, At: l.ExpiresAt})
			}
			if page.Next == "" {
				break
			}
			q.After = page.Next
		}
	}
	return out, "", nil
}
