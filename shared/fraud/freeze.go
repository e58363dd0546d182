package fraud

import (
	"context"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/text"
)

// Freeze is a client address barred from redeeming until a time. It names
// the address by its keyed hash only.
type Freeze struct {
	Client string    `json:"client"`
	Until  time.Time `json:"until"`
	Reason string    `json:"reason"` // ReasonIPRate, or "operator".
	At     time.Time `json:"at"`
	By     string    `json:"by,omitempty"` // The operator, for an operator's freeze.
}

// ReasonOperator is the reason of a freeze an operator made.
const ReasonOperator = "operator"

// freezeMutations write a freeze: the address's item, the operators' list
// entry (both expiring when it ends) and the due entry ReleaseFreezes
// removes them by. cond is the freeze item's condition.
func freezeMutations(f Freeze, cond func(store.Mutation) store.Mutation) []store.Mutation {
	return []store.Mutation{
		cond(store.PutJSON(freezeKey(f.Client), f).ExpiresAt(f.Until)),
		store.PutJSON(freezeListKey(f.Client), f).ExpiresAt(f.Until),
		store.Put(freezeDueKey(f.Until, f.Client), nil),
	}
}

// FreezeAfter freezes a.Client for the rules' IPFreeze from a.At, unless it
// is frozen already, and returns the refusal of a: ReasonIPRate and when
// the freeze ends. A redemption calls it when its write failed on a key
// IsRateKey reports (Assess calls it itself when it finds the address
// over the rate). An attempt without a client is errs.Invalid.
func (s *Service) FreezeAfter(ctx context.Context, a Attempt) (Verdict, error) {
	const op = "fraud.FreezeAfter"
	if err := a.check(op); err != nil {
		return Verdict{}, err
	}
	if a.Client == "" {
		return Verdict{}, errs.E(op, errs.Invalid, "client is required")
	}
	if a.At.IsZero() {
		a.At = s.now()
	}
	r, err := s.Rules(ctx)
	if err != nil {
		return Verdict{}, errs.E(op, err)
	}
	v, err := s.freezeAfter(ctx, a, r)
	if err != nil {
		return Verdict{}, errs.E(op, err)
	}
	return v, nil
}

// freezeAfter freezes a.Client under rules r, keeping a live freeze as it
// is: of concurrent redemptions over the rate, one freezes and the others
// find its freeze.
func (s *Service) freezeAfter(ctx context.Context, a Attempt, r Rules) (Verdict, error) {
	f := Freeze{Client: a.Client, Until: a.At.Add(r.IPFreeze()).UTC().Truncate(time.Second),
		Reason: ReasonIPRate, At: a.At.UTC()}
	for range retry.Tries(ctx, 5) {
		it, err := s.st.Get(ctx, freezeKey(a.Client))
		if err != nil && !errs.Is(errs.NotExist, err) {
			return Verdict{}, err
		}
		if cur, ok := liveFreeze(it, a.At); ok {
			return Verdict{Refuse: true, Reason: ReasonIPRate, FrozenUntil: cur.Until}, nil
		}
		ms := freezeMutations(f, func(m store.Mutation) store.Mutation { return m.IfVersion(it.Version) })
		err = s.st.Write(ctx, ms...)
		if err == nil {
			return Verdict{Refuse: true, Reason: ReasonIPRate, FrozenUntil: f.Until}, nil
		}
		if !errs.Is(errs.Conflict, err) {
			return Verdict{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return Verdict{}, errs.E(errs.Transient, err)
	}
	return Verdict{}, errs.E(errs.Transient, "the address's freeze is contended")
}

// Freeze freezes a client address until a time, replacing any freeze it
// has, for an operator. A missing client or operator, or an end that is
// not in the future within MaxIPFreezeMinutes, is errs.Invalid.
func (s *Service) Freeze(ctx context.Context, client string, until time.Time, operator string) (Freeze, error) {
	const op = "fraud.Freeze"
	now := s.now()
	until = until.UTC().Truncate(time.Second)
	switch {
	case client == "" || text.Problem(client, MaxRef) != "":
		return Freeze{}, errs.E(op, errs.Invalid, "client must be an address's hash")
	case operator == "":
		return Freeze{}, errs.E(op, errs.Invalid, "operator is required")
	case !until.After(now) || until.Sub(now) > MaxIPFreezeMinutes*time.Minute:
		return Freeze{}, errs.E(op, errs.Invalid, "a freeze must end in the future, within 30 days")
	}
	f := Freeze{Client: client, Until: until, Reason: ReasonOperator, At: now.UTC(), By: operator}
	if err := s.st.Write(ctx, freezeMutations(f, func(m store.Mutation) store.Mutation { return m })...); err != nil {
		return Freeze{}, errs.E(op, err)
	}
	return f, nil
}

// Unfreeze lifts a client address's freeze, for an operator; an address
// that is not frozen is no error. A missing client or operator is
// errs.Invalid.
func (s *Service) Unfreeze(ctx context.Context, client, operator string) error {
	const op = "fraud.Unfreeze"
	if client == "" || operator == "" {
		return errs.E(op, errs.Invalid, "client and operator are required")
	}
	if err := s.st.Write(ctx, store.Delete(freezeKey(client)), store.Delete(freezeListKey(client))); err != nil {
		return errs.E(op, err)
	}
	return nil
}

// Frozen returns the freeze of a client address, and false when it is not
// frozen.
func (s *Service) Frozen(ctx context.Context, client string) (Freeze, bool, error) {
	it, err := s.st.Get(ctx, freezeKey(client))
	if errs.Is(errs.NotExist, err) {
		return Freeze{}, false, nil
	}
	if err != nil {
		return Freeze{}, false, errs.E("fraud.Frozen", err)
	}
	f, ok := liveFreeze(it, s.now())
	return f, ok, nil
}

// MaxList is the most entries a list page (Freezes, Alerts,
// TrustedMembers) holds.
const MaxList = 100

// Freezes lists the live freezes for operators, by client hash, a page of
// up to limit (1..MaxList; otherwise MaxList) at a time after cursor ("" for
// the first page). It returns the next page's cursor, "" after the last.
// A bad cursor is errs.Invalid.
func (s *Service) Freezes(ctx context.Context, cursor string, limit int) ([]Freeze, string, error) {
	now := s.now()
	var out []Freeze
	next, err := listJSON(ctx, s.st, store.Query{PK: freezesPK, After: cursor}, limit, func(f Freeze) {
		if now.Before(f.Until) {
			out = append(out, f)
		}
	})
	if err != nil {
		return nil, "", errs.E("fraud.Freezes", err)
	}
	return out, next, nil
}

// ReleaseFreezes removes the freezes that ended by now, up to limit of
// them, for the expiry sweep: reads already treat them as absent, and this
// removes the items themselves. A freeze replaced by a later one stays. It
// reports how many freezes it removed and whether more are due (run again
// to continue). Removed entries leave the due list, so a run cut short is
// continued by the next, and overlapping runs remove each freeze once. A
// limit under 1 is errs.Invalid.
func (s *Service) ReleaseFreezes(ctx context.Context, now time.Time, limit int) (released int, more bool, err error) {
	const op = "fraud.ReleaseFreezes"
	if limit < 1 {
		return 0, false, errs.E(op, errs.Invalid, "limit must be positive")
	}
	page, err := s.st.Query(ctx, store.Query{PK: freezeDuePK, Before: dueSK(now) + "$", Limit: limit})
	if err != nil {
		return 0, true, releaseErr(ctx, op, err)
	}
	for _, it := range page.Items {
		_, client, ok := strings.Cut(it.SK, "#")
		if !ok {
			continue
		}
		// An ended freeze counts as absent: removing it on that condition
		// leaves alone a freeze the address got again since.
		err := s.st.Write(ctx, store.Delete(freezeKey(client)).IfAbsent(),
			store.Delete(freezeListKey(client)).IfAbsent(), store.Delete(it.Key))
		switch {
		case err == nil:
			released++
		case errs.Is(errs.Conflict, err):
			if s.stillLive(ctx, client, it.SK) {
				continue // The store's clock has not reached the end yet.
			}
			if err := s.st.Write(ctx, store.Delete(it.Key)); err != nil {
				return released, true, releaseErr(ctx, op, err)
			}
		default:
			return released, true, releaseErr(ctx, op, err)
		}
	}
	return released, page.Next != "", nil
}

// stillLive reports whether the freeze of client is the one the due entry
// dueKey was written for, still live by the store's clock. Otherwise the
// address was frozen again (or unfrozen) since, and the entry is spent.
func (s *Service) stillLive(ctx context.Context, client, dueKey string) bool {
	var f Freeze
	if _, err := store.GetJSON(ctx, s.st, freezeKey(client), &f); err != nil {
		return false
	}
	return dueSK(f.Until)+"#"+client == dueKey
}

// releaseErr is a ReleaseFreezes failure; a store call cut short by the
// context's end is a normal stop, not a failure.
func releaseErr(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return errs.E(op, err)
}
