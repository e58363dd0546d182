package loyalty

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// The kinds of level end a member is told about ahead.
const (
	// LevelEndSet is the end (Until) of an operator-set or paid level.
	LevelEndSet = "set"
	// LevelEndGrace is the end of the grace period after a failed review,
	// when the member is downgraded unless they qualify again.
	LevelEndGrace = "grace"
)

// dueLevelEnd is the level-end index: per Shanghai day, the partitions
// due#levelend#<yyyymmdd>#s<n> (see dueIndexKey; items written before the
// index was sharded stay in due#levelend#<yyyymmdd>), sort key
// <member id>#<kind>, written in the same write as the member's level item
// whenever an end is set, moved or cleared.
// An item whose end has passed stays (like the points expiry index) until
// that end changes again (a later SetLevel or grace); readers look ahead only.
const dueLevelEnd = "levelend"

// LevelReminder is a level about to end: the level in force until At and
// the level the member has after it.
type LevelReminder struct {
	MemberID string    `json:"member_id"`
	Level    string    `json:"level"` // The level in force now.
	Next     string    `json:"next"`  // The level in force after At.
	At       time.Time `json:"at"`
	Kind     string    `json:"kind"` // LevelEndSet or LevelEndGrace.
}

func levelEndKey(member, kind string, at time.Time) store.Key {
	return dueIndexKey(dueLevelEnd, at, member, member+"#"+kind)
}

// unshardedLevelEndKey is where levelEndKey was before the index was
// sharded.
func unshardedLevelEndKey(member, kind string, at time.Time) store.Key {
	return store.K(duePK(dueLevelEnd, calendar.Day(at)), member+"#"+kind)
}

// wantEnds are the level ends st should have index items for.
func (st levelState) wantEnds() map[string]time.Time {
	w := map[string]time.Time{}
	if st.Merged {
		return w
	}
	if st.Set != nil && !st.Set.Until.IsZero() {
		w[LevelEndSet] = st.Set.Until
	}
	if !st.GraceUntil.IsZero() {
		w[LevelEndGrace] = st.GraceUntil
	}
	return w
}

// indexEnds brings the member's level-end index items in line with st and
// returns the mutations to write with the level item: the item of an end
// that moved to another day or went away is deleted, a new or changed one
// is put.
func (st *levelState) indexEnds(member string) []store.Mutation {
	want := st.wantEnds()
	var ms []store.Mutation
	for _, kind := range []string{LevelEndSet, LevelEndGrace} {
		old, had := st.Ends[kind]
		at, ok := want[kind]
		if had && (!ok || calendar.Day(old) != calendar.Day(at)) {
			// The item may still be where it was written before the index
			// was sharded: left there, it would come back to life should the
			// end return to the same instant.
			ms = append(ms, store.Delete(levelEndKey(member, kind, old)),
				store.Delete(unshardedLevelEndKey(member, kind, old)))
		}
		if ok && (!had || !old.Equal(at)) {
			ms = append(ms, store.PutJSON(levelEndKey(member, kind, at), dueRef{MemberID: member, At: at}))
		}
	}
	if len(want) == 0 {
		want = nil
	}
	st.Ends = want
	return ms
}

// levelEnd computes the level in force just before and just after an end
// of kind at (the one st records), and whether the member notices it.
func levelEnd(r Rules, st levelState, kind string, at time.Time) (from, to string, ok bool) {
	earned, q := rank(r, st.Level), qualified(r, st)
	setRank := func(t time.Time) int { // The set level's rank in force at t, or -1.
		if st.Set == nil || st.Set.Level == "" || (!st.Set.Until.IsZero() && !t.Before(st.Set.Until)) {
			return -1
		}
		return rank(r, st.Set.Level)
	}
	var before, after int
	switch kind {
	case LevelEndSet:
		if !st.GraceUntil.IsZero() && !st.GraceUntil.After(at) && q < earned {
			earned = q // The grace ended first: the earned level is lower by then.
		}
		before, after = max(earned, rank(r, st.Set.Level)), earned
	case LevelEndGrace:
		if q >= earned {
			return "", "", false // Qualified again: the review keeps the level.
		}
		s := setRank(at)
		before, after = max(earned, s), max(q, s)
	default:
		return "", "", false
	}
	if before <= after {
		return "", "", false
	}
	return r.Levels.Table[before].ID, r.Levels.Table[after].ID, true
}

// LevelsEndingWithin lists levels that end after now and within d — set
// levels reaching their Until and grace periods ending in a downgrade —
// from the level-end index (one partition per Shanghai day, no table scan),
// a page of at most limit at a time; pass the returned cursor ("" when
// done) to continue. Index items that no longer match the member's level
// item, and ends that change nothing the member sees (a set level below the
// earned one, a member qualified again), are left out.
func (s *Service) LevelsEndingWithin(ctx context.Context, now time.Time, d time.Duration, cursor string, limit int) ([]LevelReminder, string, error) {
	const op = "loyalty.LevelsEndingWithin"
	r, err := s.Rules(ctx)
	if err != nil {
		return nil, "", errs.E(op, err)
	}
	end := now.Add(d)
	var out []LevelReminder
	next, err := s.walkWindow(ctx, op, dueLevelEnd, now, end, cursor, limit, func(day string, it store.Item) (bool, bool, error) {
		lr, ok, err := s.levelEndOf(ctx, r, it, day)
		if err != nil || !ok || !lr.At.After(now) || lr.At.After(end) {
			return false, false, err
		}
		out = append(out, lr)
		return true, false, nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// levelEndOf checks one index item of day against the member's level item;
// ok is false for a stale item or an end the member would not notice.
func (s *Service) levelEndOf(ctx context.Context, r Rules, it store.Item, day string) (LevelReminder, bool, error) {
	var ref dueRef
	if err := json.Unmarshal(it.Data, &ref); err != nil {
		return LevelReminder{}, false, errs.E("loyalty.levelEndOf", errs.Internal, err)
	}
	i := strings.LastIndexByte(it.Key.SK, '#')
	if i < 0 || ref.MemberID != it.Key.SK[:i] {
		return LevelReminder{}, false, nil
	}
	kind := it.Key.SK[i+1:]
	st, err := s.readLevel(ctx, ref.MemberID, r)
	if err != nil {
		return LevelReminder{}, false, err
	}
	at, ok := st.wantEnds()[kind]
	if !ok || !at.Equal(ref.At) || calendar.Day(at) != day {
		return LevelReminder{}, false, nil // Stale: moved, cleared or merged away.
	}
	from, to, ok := levelEnd(r, st, kind, at)
	if !ok {
		return LevelReminder{}, false, nil
	}
	return LevelReminder{MemberID: ref.MemberID, Level: from, Next: to, At: at, Kind: kind}, true, nil
}
