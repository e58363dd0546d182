package loyalty

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/once"
	"github.com/wemember/wemember/shared/store"
)

// ReverseCmd undoes (part of) an earning, e.g. on a refund.
type ReverseCmd struct {
	MemberID string
	EarnKey  string // The idempotency key of the Earn (or positive Adjust) to undo.
	Points   int64  // How many points to undo; 0: all not yet reversed.
	Reason   string
	Source   Source
	Key      string // Idempotency key of this reversal.
}

// reversal tracks what was undone of one earning, across partial reversals.
type reversal struct {
	Reversed int64 `json:"reversed"`
	Forgiven int64 `json:"forgiven"`
}

func reversalKey(entryID string) store.Key { return store.K("idem#loyalty#rev#"+entryID, "rev") }

// Reverse undoes points of an earning. It takes them from the earning's own
// lot while it has points left (pending or not); the part already lost to
// expiry is not taken twice (Forgiven); the part already spent is covered by
// the rule Rules.Points.Reversal: ReverseClawBack takes it from the member's
// other live lots FIFO and records any rest as debt, ReverseDebt records it
// all as debt. Debt is paid first by later earnings, so nothing is lost and
// the balance never goes negative. Several partial reversals of one earning
// never undo more than it earned (errs.Invalid). Errors as Earn, plus
// errs.NotExist when EarnKey names no earning of the member.
func (s *Service) Reverse(ctx context.Context, c ReverseCmd) (Entry, error) {
	const op = "loyalty.Reverse"
	if err := validMember(op, c.MemberID); err != nil {
		return Entry{}, err
	}
	if err := validKey(op, c.Key); err != nil {
		return Entry{}, err
	}
	if c.Points < 0 || c.Points > MaxPoints || c.EarnKey == "" {
		return Entry{}, errs.E(op, errs.Invalid, "earn key is required and points must not be negative")
	}
	earn, err := s.earnEntry(ctx, op, c.MemberID, c.EarnKey)
	if err != nil {
		return Entry{}, err
	}
	scope := fmt.Sprintf("%s|%s|%s|%d", KindReverse, c.MemberID, earn.ID, c.Points)
	return runOnce(ctx, s, op, idemKey(pointsScope, c.Key), scope, func(now time.Time) ([]store.Mutation, Entry, error) {
		r, err := s.Rules(ctx)
		if err != nil {
			return nil, Entry{}, errs.E(op, err)
		}
		sm, err := s.readSummary(ctx, c.MemberID)
		if err != nil {
			return nil, Entry{}, errs.E(op, err)
		}
		var rev reversal
		rit, err := store.GetJSON(ctx, s.st, reversalKey(earn.ID), &rev)
		if err != nil && !errs.Is(errs.NotExist, err) {
			return nil, Entry{}, errs.E(op, err)
		}
		left := earn.Points - rev.Reversed
		want := c.Points
		if want == 0 {
			want = left
		}
		if want <= 0 || want > left {
			return nil, Entry{}, errs.E(op, errs.Invalid, fmt.Sprintf("only %d points of this earning are left to reverse", left))
		}
		e := Entry{ID: s.newID(), MemberID: c.MemberID, Kind: KindReverse, Points: -want, Reason: c.Reason,
			Source: c.Source, Key: c.Key, At: now, Reverses: earn.ID}
		var ms []store.Mutation
		rest := want
		// 1. From the earning's own lot while it is open.
		if earn.LotSK != "" {
			lk := store.K(memberPK(c.MemberID), earn.LotSK)
			it, err := s.st.Get(ctx, lk)
			switch {
			case err == nil:
				l, err := decodeLot(it)
				if err != nil {
					return nil, Entry{}, errs.E(op, errs.Internal, err)
				}
				take := min(rest, l.Remaining)
				l.Remaining -= take
				rest -= take
				if l.Pending {
					sm.Pending -= take
				} else {
					sm.Available -= take
				}
				e.Lots = append(e.Lots, LotUse{LotID: l.ID, Points: take})
				if l.Remaining == 0 {
					ms = append(ms, store.Delete(lk))
				} else {
					ms = append(ms, store.PutJSON(lk, l))
				}
			case errs.Is(errs.NotExist, err):
				// 2. The lot closed: the part that expired is gone already.
				done, err := s.lotDone(ctx, c.MemberID, earn)
				if err != nil {
					return nil, Entry{}, errs.E(op, err)
				}
				e.Forgiven = min(rest, done.Expired-rev.Forgiven)
				rest -= e.Forgiven
			default:
				return nil, Entry{}, errs.E(op, err)
			}
		}
		// 3. The spent part (and any debt the earning paid): claw back or debt.
		if rest > 0 && r.Points.Reversal == ReverseClawBack {
			got, err := s.consume(ctx, op, c.MemberID, rest, now, earn.LotID, MaxLotsPerWrite-len(ms), true)
			if err != nil {
				return nil, Entry{}, err
			}
			rest -= got.taken
			sm.Pending -= got.matured
			sm.Available += got.matured - got.taken
			e.Lots = append(e.Lots, got.uses...)
			ms = append(ms, got.ms...)
		}
		e.DebtAdded = rest
		sm.Debt += rest
		sm.Reversed += want
		rev.Reversed += want
		rev.Forgiven += e.Forgiven
		e.After = sm.after()
		ms = append(ms, putSummary(c.MemberID, sm),
			store.PutJSON(reversalKey(earn.ID), rev).IfVersion(rit.Version),
			store.PutJSON(ledgerKey(c.MemberID, now, e.ID), e).IfAbsent())
		return ms, e, nil
	})
}

// earnEntry finds the entry an earn key produced for member.
func (s *Service) earnEntry(ctx context.Context, op, member, key string) (Entry, error) {
	var rec once.Record
	if _, err := store.GetJSON(ctx, s.st, idemKey(pointsScope, key), &rec); err != nil {
		if errs.Is(errs.NotExist, err) {
			return Entry{}, errs.E(op, errs.NotExist, "no earning with that key")
		}
		return Entry{}, errs.E(op, err)
	}
	var e Entry
	if err := json.Unmarshal(rec.Result, &e); err != nil {
		return Entry{}, errs.E(op, errs.Internal, err)
	}
	if e.Points <= 0 || (e.Kind != KindEarn && e.Kind != KindAdjust) {
		return Entry{}, errs.E(op, errs.NotExist, "no earning with that key")
	}
	if e.MemberID != member {
		// An earning of a member merged into this one (its lot moved here).
		ok, err := s.mergedInto(ctx, e.MemberID, member)
		if err != nil {
			return Entry{}, errs.E(op, err)
		}
		if !ok {
			return Entry{}, errs.E(op, errs.NotExist, "no earning with that key")
		}
	}
	return e, nil
}

// lotDone reads the closed lot of an earning: at member, or, for an
// earning of a member merged into it, where the lot expired before the
// merge. A lot not closed yields a zero Lot.
func (s *Service) lotDone(ctx context.Context, member string, earn Entry) (Lot, error) {
	for _, m := range []string{member, earn.MemberID} {
		var done Lot
		_, err := store.GetJSON(ctx, s.st, lotDoneKey(m, earn.LotID), &done)
		if err == nil {
			return done, nil
		}
		if !errs.Is(errs.NotExist, err) {
			return Lot{}, err
		}
	}
	return Lot{}, nil
}
