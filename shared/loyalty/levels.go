package loyalty

import (
	"context"
	"fmt"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// levelState is a member's growth, cumulative spend and level (item "level").
type levelState struct {
	Growth     int64     `json:"growth"`
	SpendFen   int64     `json:"spend_fen"`
	Level      string    `json:"level"` // Earned by growth or spend; see Set for a set level.
	Since      time.Time `json:"since,omitzero"`
	ReviewAt   time.Time `json:"review_at,omitzero"`
	ReviewPK   string    `json:"review_pk,omitempty"` // The review index item, if scheduled.
	ReviewSK   string    `json:"review_sk,omitempty"`
	GraceUntil time.Time `json:"grace_until,omitzero"`
	Set        *SetLevel `json:"set,omitempty"`
	// CarriedGrowth and CarriedSpend are what a merge already added to the
	// survivor's totals (set on a merged-away member only).
	CarriedGrowth int64 `json:"carried_growth,omitempty"`
	CarriedSpend  int64 `json:"carried_spend,omitempty"`
	// Merged marks a merged-away member: its level no longer ends for anyone.
	Merged bool `json:"merged,omitempty"`
	// Ends are the level-end index items written, by kind (see levelends.go).
	Ends    map[string]time.Time `json:"ends,omitempty"`
	version int64
}

// SetLevel is a level set by an operator or bought (paid membership).
type SetLevel struct {
	Level    string    `json:"level"`
	Until    time.Time `json:"until,omitzero"` // Zero: until changed.
	Operator string    `json:"operator"`
	At       time.Time `json:"at"`
}

// GrowthEntry is one item of a member's growth and level history.
type GrowthEntry struct {
	ID       string    `json:"id"`
	MemberID string    `json:"member_id"`
	Kind     string    `json:"kind"` // "growth", "review" or "set".
	Growth   int64     `json:"growth"`
	SpendFen int64     `json:"spend_fen"`
	From     string    `json:"from"` // Earned level before and after.
	To       string    `json:"to"`
	Reason   string    `json:"reason"`
	Source   Source    `json:"source"`
	Key      string    `json:"key"`
	At       time.Time `json:"at"`
	// GrowthAfter and SpendAfter are the totals once the entry applied.
	GrowthAfter int64 `json:"growth_after"`
	SpendAfter  int64 `json:"spend_after"`
}

func growthKey(member string, at time.Time, id string) store.Key {
	return store.K(memberPK(member), "growth#"+ts(at)+"#"+id)
}

func rank(r Rules, id string) int {
	for i, l := range r.Levels.Table {
		if l.ID == id {
			return i
		}
	}
	return 0 // A level removed from the table counts as the lowest.
}

// qualified is the highest level the member's basis value reaches.
func qualified(r Rules, st levelState) int {
	q := 0
	for i, l := range r.Levels.Table {
		switch r.Levels.Basis {
		case BasisGrowth:
			if st.Growth >= l.MinGrowth {
				q = i
			}
		case BasisSpend:
			if st.SpendFen >= l.MinSpendFen {
				q = i
			}
		}
	}
	return q
}

func (s *Service) readLevel(ctx context.Context, member string, r Rules) (levelState, error) {
	it, err := s.st.Get(ctx, levelKey(member))
	if err != nil && !errs.Is(errs.NotExist, err) {
		return levelState{}, err
	}
	return decodeLevel(it, r)
}

// decodeLevel is the level state in the item it (absent: a new member's).
func decodeLevel(it store.Item, r Rules) (levelState, error) {
	var st levelState
	if it.Found() {
		if err := unmarshal(it.Data, &st); err != nil {
			return levelState{}, errs.E(errs.Internal, fmt.Errorf("decode %s: %w", it.Key, err))
		}
	}
	st.version = it.Version
	if st.Level == "" {
		st.Level = r.Levels.Table[0].ID
	}
	return st, nil
}

// schedule moves the member's review index item to at (zero: none).
func (st *levelState) schedule(member string, at time.Time) []store.Mutation {
	var ms []store.Mutation
	if st.ReviewSK != "" {
		ms = append(ms, store.Delete(store.K(st.ReviewPK, st.ReviewSK)))
	}
	st.ReviewAt, st.ReviewPK, st.ReviewSK = at, "", ""
	if !at.IsZero() {
		k := dueIndexKey(dueReview, at, member, ts(at)+"#"+member)
		st.ReviewPK, st.ReviewSK = k.PK, k.SK
		if len(ms) == 1 && ms[0].Key == k {
			ms = nil // Same slot: a Put replaces it.
		}
		ms = append(ms, store.PutJSON(k, dueRef{MemberID: member, At: at}))
	}
	return ms
}

// reviewAfter is the next review of a member holding level idx from now.
func reviewAfter(r Rules, idx int, now time.Time) time.Time {
	m := r.Levels.Table[idx].ReviewMonths
	if m <= 0 || idx == 0 {
		return time.Time{}
	}
	return now.AddDate(0, m, 0)
}

// GrowthCmd changes a member's growth and cumulative spend (either may be
// negative, e.g. on a refund; totals never go below zero).
type GrowthCmd struct {
	MemberID string
	Growth   int64
	SpendFen int64
	Reason   string
	Source   Source
	Key      string
}

// AddGrowth applies a growth and spend change and upgrades the member at
// once when they reach a higher level; it never downgrades (that waits for
// the review). The same Key has one effect. Errors: errs.Invalid,
// errs.Exist for a key used by another command, errs.Transient when busy.
func (s *Service) AddGrowth(ctx context.Context, c GrowthCmd) (GrowthEntry, error) {
	const op = "loyalty.AddGrowth"
	if err := validMember(op, c.MemberID); err != nil {
		return GrowthEntry{}, err
	}
	if err := validKey(op, c.Key); err != nil {
		return GrowthEntry{}, err
	}
	if (c.Growth == 0 && c.SpendFen == 0) || abs(c.Growth) > MaxPoints || abs(c.SpendFen) > 100*MaxPoints {
		return GrowthEntry{}, errs.E(op, errs.Invalid, "growth or spend change out of range")
	}
	scope := fmt.Sprintf("growth|%s|%d|%d", c.MemberID, c.Growth, c.SpendFen)
	return runOnce(ctx, s, op, idemKey("growth", c.Key), scope, func(now time.Time) ([]store.Mutation, GrowthEntry, error) {
		r, err := s.Rules(ctx)
		if err != nil {
			return nil, GrowthEntry{}, errs.E(op, err)
		}
		return s.growthWrite(ctx, op, r, c, now)
	})
}

// growthWrite computes the mutations and entry of a growth change at now:
// the level item (conditioned on its version), the history entry and the
// moved review and level-end index items.
func (s *Service) growthWrite(ctx context.Context, op string, r Rules, c GrowthCmd, now time.Time) ([]store.Mutation, GrowthEntry, error) {
	st, err := s.readLevel(ctx, c.MemberID, r)
	if err != nil {
		return nil, GrowthEntry{}, errs.E(op, err)
	}
	ver := st.version
	e := GrowthEntry{ID: s.newID(), MemberID: c.MemberID, Kind: "growth", From: st.Level,
		Reason: c.Reason, Source: c.Source, Key: c.Key, At: now}
	g, sp := max(0, st.Growth+c.Growth), max(0, st.SpendFen+c.SpendFen)
	e.Growth, e.SpendFen = g-st.Growth, sp-st.SpendFen
	st.Growth, st.SpendFen = g, sp
	var ms []store.Mutation
	if q := qualified(r, st); q > rank(r, st.Level) {
		st.Level, st.Since, st.GraceUntil = r.Levels.Table[q].ID, now, time.Time{}
		ms = st.schedule(c.MemberID, reviewAfter(r, q, now))
	}
	e.To, e.GrowthAfter, e.SpendAfter = st.Level, st.Growth, st.SpendFen
	ms = append(ms, st.indexEnds(c.MemberID)...)
	ms = append(ms, store.PutJSON(levelKey(c.MemberID), st).IfVersion(ver),
		store.PutJSON(growthKey(c.MemberID, now, e.ID), e).IfAbsent())
	return ms, e, nil
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// SetLevelCmd sets (or, with Level "", clears) an operator-set or paid level.
type SetLevelCmd struct {
	MemberID string
	Level    string
	Until    time.Time // Zero: until changed.
	Operator string
	Reason   string
	Key      string
}

// SetLevel records a set level. It applies while it is better than the
// earned level and Until has not passed; then the earned level shows again.
// Errors: errs.Invalid for an unknown level or a missing operator.
func (s *Service) SetLevel(ctx context.Context, c SetLevelCmd) (GrowthEntry, error) {
	const op = "loyalty.SetLevel"
	if err := validMember(op, c.MemberID); err != nil {
		return GrowthEntry{}, err
	}
	if err := validKey(op, c.Key); err != nil {
		return GrowthEntry{}, err
	}
	if c.Operator == "" {
		return GrowthEntry{}, errs.E(op, errs.Invalid, "operator is required")
	}
	scope := fmt.Sprintf("set|%s|%s|%d", c.MemberID, c.Level, c.Until.Unix())
	return runOnce(ctx, s, op, idemKey("growth", c.Key), scope, func(now time.Time) ([]store.Mutation, GrowthEntry, error) {
		r, err := s.Rules(ctx)
		if err != nil {
			return nil, GrowthEntry{}, errs.E(op, err)
		}
		if c.Level != "" && (rank(r, c.Level) == 0 && r.Levels.Table[0].ID != c.Level) {
			return nil, GrowthEntry{}, errs.E(op, errs.Invalid, "unknown level")
		}
		st, err := s.readLevel(ctx, c.MemberID, r)
		if err != nil {
			return nil, GrowthEntry{}, errs.E(op, err)
		}
		e := GrowthEntry{ID: s.newID(), MemberID: c.MemberID, Kind: "set", From: st.Level, To: c.Level,
			Reason: c.Reason, Source: Source{Operator: c.Operator}, Key: c.Key, At: now,
			GrowthAfter: st.Growth, SpendAfter: st.SpendFen}
		st.Set = nil
		if c.Level != "" {
			st.Set = &SetLevel{Level: c.Level, Until: c.Until, Operator: c.Operator, At: now}
		}
		ms := st.indexEnds(c.MemberID)
		return append(ms, store.PutJSON(levelKey(c.MemberID), st).IfVersion(st.version),
			store.PutJSON(growthKey(c.MemberID, now, e.ID), e).IfAbsent()), e, nil
	})
}

// LevelView is what a member card shows about the level.
type LevelView struct {
	Level    Level  `json:"level"`  // The level in force, with its benefits.
	Earned   string `json:"earned"` // The level earned by growth or spend.
	Growth   int64  `json:"growth"`
	SpendFen int64  `json:"spend_fen"`
	// Next is the next level above the one in force (nil at the top or
	// with BasisFixed); ToNext is the growth or fen still missing.
	Next       *Level    `json:"next,omitempty"`
	ToNext     int64     `json:"to_next"`
	Set        *SetLevel `json:"set,omitempty"`
	ReviewAt   time.Time `json:"review_at,omitzero"`
	GraceUntil time.Time `json:"grace_until,omitzero"`
}

// Level returns the member's level view now. An unknown member has the
// lowest level.
func (s *Service) Level(ctx context.Context, member string) (LevelView, error) {
	const op = "loyalty.Level"
	if err := validMember(op, member); err != nil {
		return LevelView{}, err
	}
	r, err := s.Rules(ctx)
	if err != nil {
		return LevelView{}, errs.E(op, err)
	}
	st, err := s.readLevel(ctx, member, r)
	if err != nil {
		return LevelView{}, errs.E(op, err)
	}
	return levelView(r, st, s.now()), nil
}

// levelView is the view of a member's level state st under the rules r at
// now.
func levelView(r Rules, st levelState, now time.Time) LevelView {
	idx := rank(r, st.Level)
	if st.Set != nil && (st.Set.Until.IsZero() || now.Before(st.Set.Until)) && rank(r, st.Set.Level) > idx {
		idx = rank(r, st.Set.Level)
	}
	v := LevelView{Level: r.Levels.Table[idx], Earned: st.Level, Growth: st.Growth, SpendFen: st.SpendFen,
		Set: st.Set, ReviewAt: st.ReviewAt, GraceUntil: st.GraceUntil}
	if idx+1 < len(r.Levels.Table) && r.Levels.Basis != BasisFixed {
		n := r.Levels.Table[idx+1]
		v.Next = &n
		if r.Levels.Basis == BasisGrowth {
			v.ToNext = max(0, n.MinGrowth-st.Growth)
		} else {
			v.ToNext = max(0, n.MinSpendFen-st.SpendFen)
		}
	}
	return v
}

// review applies a due review to st at now; it reports the mutations of the
// rescheduled index. Upgrades missed earlier are applied too.
func review(r Rules, st *levelState, member string, now time.Time) []store.Mutation {
	cur, q := rank(r, st.Level), qualified(r, *st)
	if q >= cur {
		if q > cur {
			st.Level, st.Since = r.Levels.Table[q].ID, now
		}
		st.GraceUntil = time.Time{}
		return st.schedule(member, reviewAfter(r, q, now))
	}
	switch r.Levels.Downgrade {
	case DowngradeNever:
		return st.schedule(member, reviewAfter(r, cur, now))
	case DowngradeAfterDays:
		if st.GraceUntil.IsZero() && r.Levels.GraceDays > 0 {
			st.GraceUntil = now.AddDate(0, 0, r.Levels.GraceDays)
			return st.schedule(member, st.GraceUntil)
		}
		if now.Before(st.GraceUntil) {
			return st.schedule(member, st.GraceUntil)
		}
	}
	st.Level, st.Since, st.GraceUntil = r.Levels.Table[q].ID, now, time.Time{}
	return st.schedule(member, reviewAfter(r, q, now))
}

// GrowthHistory lists a member's growth and level history, newest first, a
// page at a time (cursor "" for the first page).
func (s *Service) GrowthHistory(ctx context.Context, member, cursor string, limit int) ([]GrowthEntry, string, error) {
	const op = "loyalty.GrowthHistory"
	if err := validMember(op, member); err != nil {
		return nil, "", err
	}
	page, err := s.st.Query(ctx, store.Query{PK: memberPK(member), Prefix: "growth#", After: cursor, Limit: limit, Desc: true})
	if err != nil {
		return nil, "", errs.E(op, err)
	}
	out := make([]GrowthEntry, 0, len(page.Items))
	for _, it := range page.Items {
		var e GrowthEntry
		if err := unmarshal(it.Data, &e); err != nil {
			return nil, "", errs.E(op, errs.Internal, err)
		}
		out = append(out, e)
	}
	return out, page.Next, nil
}
