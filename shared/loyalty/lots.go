package loyalty

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// Lot is one earning of points with its own expiry and pending period.
type Lot struct {
	ID          string    `json:"id"`
	MemberID    string    `json:"member_id"`
	EntryID     string    `json:"entry_id"` // The earn or adjust entry that made it.
	Points      int64     `json:"points"`   // Size when earned (after paying debt).
	Remaining   int64     `json:"remaining"`
	EarnedAt    time.Time `json:"earned_at"`
	AvailableAt time.Time `json:"available_at"`        // Pending until then.
	ExpiresAt   time.Time `json:"expires_at,omitzero"` // Zero: never.
	Pending     bool      `json:"pending,omitempty"`   // Counted as Pending in the summary.
	Expired     int64     `json:"expired,omitempty"`   // Points lost to expiry (closed lots).
	sk          string
}

// pendingAt reports whether the lot is still pending at now.
func (l Lot) pendingAt(now time.Time) bool { return now.Before(l.AvailableAt) }

// liveAt reports whether the lot has not expired at now.
func (l Lot) liveAt(now time.Time) bool { return l.ExpiresAt.IsZero() || now.Before(l.ExpiresAt) }

func lotSK(earned time.Time, id string) string { return "lot#" + ts(earned) + "#" + id }

// summary is the points balance item: Available + Pending equal the
// remaining points of the open lots (available or pending by state at the
// last write); expired lots stay counted until the sweep settles them.
type summary struct {
	Available int64 `json:"available"`
	Pending   int64 `json:"pending"`
	Debt      int64 `json:"debt"`
	Earned    int64 `json:"earned"`
	Spent     int64 `json:"spent"`
	Expired   int64 `json:"expired"`
	Reversed  int64 `json:"reversed"`
	// Carried are the lifetime totals a merge already added to the
	// survivor's (set on a merged-away member only).
	Carried *totals `json:"carried,omitempty"`
	version int64
}

// totals are the lifetime totals of a summary.
type totals struct {
	Earned   int64 `json:"earned"`
	Spent    int64 `json:"spent"`
	Expired  int64 `json:"expired"`
	Reversed int64 `json:"reversed"`
}

func (s *Service) readSummary(ctx context.Context, member string) (summary, error) {
	it, err := s.st.Get(ctx, summaryKey(member))
	if err != nil && !errs.Is(errs.NotExist, err) {
		return summary{}, err
	}
	return decodeSummary(it)
}

// decodeSummary is the summary in the item it (absent: no points yet).
func decodeSummary(it store.Item) (summary, error) {
	var sm summary
	if it.Found() {
		if err := unmarshal(it.Data, &sm); err != nil {
			return summary{}, errs.E(errs.Internal, fmt.Errorf("decode %s: %w", it.Key, err))
		}
	}
	sm.version = it.Version
	return sm, nil
}

// summaryMoved reports whether the member's summary is no longer at
// version: the summary and the lots were then read across a concurrent
// change, and the command should look again rather than fail.
func (s *Service) summaryMoved(ctx context.Context, member string, version int64) bool {
	sm, err := s.readSummary(ctx, member)
	return err == nil && sm.version != version
}

func putSummary(member string, sm summary) store.Mutation {
	return store.PutJSON(summaryKey(member), sm).IfVersion(sm.version)
}

// dueKey is the index item of a lot in a due partition of kind at t.
func dueKey(kind string, at time.Time, member, lotID string) store.Key {
	return dueIndexKey(kind, at, member, ts(at)+"#"+member+"#"+lotID)
}

// duePK is the partition of kind's due items of day: what store.Sharded
// spreads, and where the items written before the index was sharded stay.
func duePK(kind, day string) string { return "due#" + kind + "#" + day }

// dueIndexKey is the index item of kind with sort key sk, due at at, of
// member. It lives in one of the day's store.Shards partitions, chosen by
// the member: one day may hold a whole year's lots (year-end expiry), which
// one partition could not take, while one member's items of a day share a
// shard, so that a sweep settling shards side by side rarely finds a member
// in two of them at once.
func dueIndexKey(kind string, at time.Time, member, sk string) store.Key {
	return store.K(store.Sharded(duePK(kind, calendar.Day(at)), member), sk)
}

// duePartitions lists every partition holding kind's due items of day: its
// shards, and the unsharded partition of items written before the index
// was sharded, so that none of those is lost.
func duePartitions(kind, day string) []string {
	return append(store.ShardPKs(duePK(kind, day)), duePK(kind, day))
}

// dueRef is the data of a due index item.
type dueRef struct {
	MemberID string    `json:"member_id"`
	LotID    string    `json:"lot_id,omitempty"`
	LotSK    string    `json:"lot_sk,omitempty"`
	At       time.Time `json:"at"`
}

const (
	dueExpiry  = "points"
	duePending = "pointspending"
	dueReview  = "levelreview"
)

// newLot builds a lot and the mutations that create it with its index items.
func newLot(member, id, entryID string, points int64, now time.Time, exp ExpiryRule, pendingDays int) (Lot, []store.Mutation) {
	l := Lot{ID: id, MemberID: member, EntryID: entryID, Points: points, Remaining: points,
		EarnedAt: now, AvailableAt: now, ExpiresAt: exp.ExpiresAt(now)}
	if pendingDays > 0 {
		l.AvailableAt = now.AddDate(0, 0, pendingDays)
	}
	l.Pending = pendingDays > 0
	l.sk = lotSK(now, id)
	ms := []store.Mutation{store.PutJSON(store.K(memberPK(member), l.sk), l).IfAbsent()}
	ref := dueRef{MemberID: member, LotID: id, LotSK: l.sk}
	if !l.ExpiresAt.IsZero() {
		ref.At = l.ExpiresAt
		ms = append(ms, store.PutJSON(dueKey(dueExpiry, l.ExpiresAt, member, id), ref))
	}
	if pendingDays > 0 {
		ref.At = l.AvailableAt
		ms = append(ms, store.PutJSON(dueKey(duePending, l.AvailableAt, member, id), ref))
	}
	return l, ms
}

// LotUse says how many points an entry took from (or gave back to) a lot.
type LotUse struct {
	LotID  string `json:"lot_id"`
	Points int64  `json:"points"`
}

// consumption is the outcome of taking points from lots FIFO.
type consumption struct {
	uses    []LotUse
	ms      []store.Mutation
	taken   int64
	matured int64 // Remaining points of matured pending lots, moving from Pending to Available.
}

// consume takes up to want points from the member's live, available lots in
// earn order (FIFO, as SPEC.md says), skipping lot skip. Pending lots whose
// period has passed count as available and are flipped to available. It
// refuses with errs.TooLarge when more than maxLots lots would be touched,
// or, when partial is set, stops there with what it took.
func (s *Service) consume(ctx context.Context, op, member string, want int64, now time.Time, skip string, maxLots int, partial bool) (consumption, error) {
	var c consumption
	q := store.Query{PK: memberPK(member), Prefix: "lot#", Limit: 100}
	for c.taken < want {
		page, err := s.st.Query(ctx, q)
		if err != nil {
			return c, errs.E(op, err)
		}
		for _, it := range page.Items {
			if c.taken >= want {
				break
			}
			l, err := decodeLot(it)
			if err != nil {
				return c, errs.E(op, errs.Internal, err)
			}
			if l.ID == skip || !l.liveAt(now) || l.pendingAt(now) || l.Remaining <= 0 {
				continue
			}
			if len(c.uses) >= maxLots {
				if partial {
					return c, nil
				}
				return c, errs.E(op, errs.TooLarge, fmt.Sprintf("this would use more than %d lots of points; use fewer points at once", maxLots))
			}
			if l.Pending {
				c.matured += l.Remaining
				l.Pending = false
			}
			take := min(l.Remaining, want-c.taken)
			l.Remaining -= take
			c.taken += take
			c.uses = append(c.uses, LotUse{LotID: l.ID, Points: take})
			if l.Remaining == 0 {
				c.ms = append(c.ms, store.Delete(it.Key))
			} else {
				c.ms = append(c.ms, store.PutJSON(it.Key, l))
			}
		}
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	return c, nil
}

func decodeLot(it store.Item) (Lot, error) {
	var l Lot
	if err := json.Unmarshal(it.Data, &l); err != nil {
		return Lot{}, fmt.Errorf("decode lot %s: %w", it.Key, err)
	}
	l.sk = it.Key.SK
	return l, nil
}

// openLots reads all open lots of a member in FIFO order.
func (s *Service) openLots(ctx context.Context, member string, c store.Consistency) ([]Lot, error) {
	var out []Lot
	q := store.Query{PK: memberPK(member), Prefix: "lot#", Consistency: c}
	for {
		page, err := s.st.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			l, err := decodeLot(it)
			if err != nil {
				return nil, errs.E(errs.Internal, err)
			}
			out = append(out, l)
		}
		if page.Next == "" {
			return out, nil
		}
		q.After = page.Next
	}
}

func unmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
