package fraud

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// Alert records an hour in which redemptions through codes went over the
// rules' SpikeHourly. There is at most one per hour, written by the
// redemption that found the count over the threshold.
type Alert struct {
	Hour      string    `json:"hour"`      // yyyymmddhh, China time.
	Start     time.Time `json:"start"`     // When the hour began.
	Count     int64     `json:"count"`     // The hour's count when the alert was written.
	Threshold int       `json:"threshold"` // SpikeHourly then.
	At        time.Time `json:"at"`        // When the alert was written.
}

// Alerts lists the spike alerts newest first, a page of up to limit
// (1..MaxList; otherwise MaxList) after cursor ("" for the first page). It
// returns the next page's cursor, "" after the last. A bad cursor is
// errs.Invalid.
func (s *Service) Alerts(ctx context.Context, cursor string, limit int) ([]Alert, string, error) {
	var out []Alert
	next, err := listJSON(ctx, s.st, store.Query{PK: alertPK, After: cursor, Desc: true}, limit, func(a Alert) {
		out = append(out, a)
	})
	if err != nil {
		return nil, "", errs.E("fraud.Alerts", err)
	}
	return out, next, nil
}

// listJSON reads one page of q, of up to limit items (1..MaxList, otherwise
// MaxList), eventually consistent (an operator's list), decoding each into
// a T for keep, and returns the next page's cursor.
func listJSON[T any](ctx context.Context, st store.Store, q store.Query, limit int, keep func(T)) (string, error) {
	if limit < 1 || limit > MaxList {
		limit = MaxList
	}
	q.Limit, q.Consistency = limit, store.Eventual
	page, err := st.Query(ctx, q)
	if err != nil {
		return "", err
	}
	for _, it := range page.Items {
		var v T
		if err := json.Unmarshal(it.Data, &v); err != nil {
			return "", errs.E(errs.Internal, fmt.Errorf("decode %s: %w", it.Key, err))
		}
		keep(v)
	}
	return page.Next, nil
}
