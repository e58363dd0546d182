package loyalty

import (
	"context"
	"fmt"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
)

// absorbBatch is how many lots one merge step moves: a lot takes at most six
// mutations (the lot out and in, and its expiry and pending index items out
// and in), and a step adds two summaries, two ledger entries and the merge
// marker, so a step stays within store.MaxWrite.
const absorbBatch = 15

// mergedKey marks a merged-away member with the survivor.
func mergedKey(id string) store.Key { return store.K(memberPK(id), "loymerged") }

type mergeMark struct {
	Into string    `json:"into"`
	At   time.Time `json:"at"`
}

// Absorb moves a merged-away member's points and growth to the survivor
// (member.Absorber). Every open lot of from (available and pending, with
// its earn time, pending period and expiry, and its due-index items) moves
// to into, so FIFO spending and expiry treat it as if into had earned it;
// from's debt moves too, and from's lifetime totals, growth and cumulative
// spend are added to into's, whose level is recomputed (an upgrade applies
// at once). A set or paid level of from carries over when it is better than
// into's, and so does from's sign-in streak when it is later. from's history stays where it is; a ledger entry (kind "merge")
// on each side records every step, and a growth entry on each side the
// growth moved. from ends with a zero balance and no level review.
//
// Absorb runs in steps of at most absorbBatch lots; each step is one atomic
// write conditioned on both members' summary (or level) versions, and moves
// only what is still on from, so a re-run after a crash, a catch-up pass
// later (moving what in-flight commands added to from since) and concurrent
// runs for the same pair all converge on one effect. Errors: errs.Invalid
// for bad ids or when from was already merged into a different member,
// errs.Transient when the accounts stay too busy.
func (s *Service) Absorb(ctx context.Context, from, into string) error {
	const op = "loyalty.Absorb"
	if err := validMember(op, from); err != nil {
		return err
	}
	if err := validMember(op, into); err != nil {
		return err
	}
	if from == into {
		return nil
	}
	if err := s.markMerged(ctx, op, from, into); err != nil {
		return err
	}
	for {
		done, err := s.absorbPointsStep(ctx, op, from, into)
		if err != nil {
			return err
		}
		if done {
			break
		}
	}
	if err := s.absorbSignIn(ctx, op, from, into); err != nil {
		return err
	}
	return s.absorbLevel(ctx, op, from, into)
}

// absorbSignIn gives into from's sign-in streak when from signed in later
// (or the same day with a longer streak), so the survivor cannot sign in
// again for a day from already signed in.
func (s *Service) absorbSignIn(ctx context.Context, op, from, into string) error {
	for try := 0; try < s.maxTries; try++ {
		if try > 0 {
			if err := retry.Pause(ctx, try); err != nil {
				return errs.E(op, errs.Transient, "cancelled while retrying", err)
			}
		}
		var stF, stI signInState
		if _, err := store.GetJSON(ctx, s.st, signInKey(from), &stF); err != nil {
			if errs.Is(errs.NotExist, err) {
				return nil
			}
			return errs.E(op, err)
		}
		it, err := store.GetJSON(ctx, s.st, signInKey(into), &stI)
		if err != nil && !errs.Is(errs.NotExist, err) {
			return errs.E(op, err)
		}
		if stF.LastDay < stI.LastDay || (stF.LastDay == stI.LastDay && stF.Streak <= stI.Streak) {
			return nil
		}
		err = s.st.Write(ctx, store.PutJSON(signInKey(into), stF).IfVersion(it.Version))
		if err == nil {
			return nil
		}
		if !errs.Is(errs.Conflict, err) {
			return errs.E(op, err)
		}
	}
	return errs.E(op, errs.Transient, "the accounts are busy; try again")
}

// markMerged records that from was merged into into, refusing a second
// survivor.
func (s *Service) markMerged(ctx context.Context, op, from, into string) error {
	var m mergeMark
	_, err := store.GetJSON(ctx, s.st, mergedKey(from), &m)
	switch {
	case err == nil && m.Into == into:
		return nil
	case err == nil:
		return errs.E(op, errs.Invalid, "member was already merged into another member")
	case !errs.Is(errs.NotExist, err):
		return errs.E(op, err)
	}
	err = s.st.Write(ctx, store.PutJSON(mergedKey(from), mergeMark{Into: into, At: s.now()}).IfAbsent())
	if errs.Is(errs.Conflict, err) {
		return s.markMerged(ctx, op, from, into) // A concurrent run wrote it: check its survivor.
	}
	if err != nil {
		return errs.E(op, err)
	}
	return nil
}

// mergedInto follows the merge marks from member (at most a few hops) and
// reports whether it was merged, directly or not, into survivor.
func (s *Service) mergedInto(ctx context.Context, member, survivor string) (bool, error) {
	for hop := 0; hop < 5 && member != survivor; hop++ {
		var m mergeMark
		if _, err := store.GetJSON(ctx, s.st, mergedKey(member), &m); err != nil {
			if errs.Is(errs.NotExist, err) {
				return false, nil
			}
			return false, err
		}
		member = m.Into
	}
	return member == survivor, nil
}

// absorbPointsStep moves up to absorbBatch lots, the debt and the lifetime
// totals not yet carried, in one atomic write; it reports done when nothing
// was left to move.
func (s *Service) absorbPointsStep(ctx context.Context, op, from, into string) (bool, error) {
	for try := 0; try < s.maxTries; try++ {
		if try > 0 {
			if err := retry.Pause(ctx, try); err != nil {
				return false, errs.E(op, errs.Transient, "cancelled while retrying", err)
			}
		}
		smF, err := s.readSummary(ctx, from)
		if err != nil {
			return false, errs.E(op, err)
		}
		smI, err := s.readSummary(ctx, into)
		if err != nil {
			return false, errs.E(op, err)
		}
		page, err := s.st.Query(ctx, store.Query{PK: memberPK(from), Prefix: "lot#", Limit: absorbBatch})
		if err != nil {
			return false, errs.E(op, err)
		}
		cur := totals{Earned: smF.Earned, Spent: smF.Spent, Expired: smF.Expired, Reversed: smF.Reversed}
		var carried totals
		if smF.Carried != nil {
			carried = *smF.Carried
		}
		if len(page.Items) == 0 && smF.Debt == 0 && cur == carried {
			return true, nil
		}
		now := s.now()
		var ms []store.Mutation
		var uses []LotUse
		var moved int64
		for _, it := range page.Items {
			l, err := decodeLot(it)
			if err != nil {
				return false, errs.E(op, errs.Internal, err)
			}
			ms = append(ms, moveLot(l, it, from, into)...)
			if l.Pending {
				smF.Pending -= l.Remaining
				smI.Pending += l.Remaining
			} else {
				smF.Available -= l.Remaining
				smI.Available += l.Remaining
			}
			moved += l.Remaining
			uses = append(uses, LotUse{LotID: l.ID, Points: l.Remaining})
		}
		debt := smF.Debt
		smF.Debt, smI.Debt = 0, smI.Debt+debt
		smI.Earned += cur.Earned - carried.Earned
		smI.Spent += cur.Spent - carried.Spent
		smI.Expired += cur.Expired - carried.Expired
		smI.Reversed += cur.Reversed - carried.Reversed
		smF.Carried = &cur
		if smF.Available < 0 || smF.Pending < 0 {
			if s.summaryMoved(ctx, from, smF.version) {
				continue // A command landed between the reads: look again.
			}
			return false, errs.E(op, errs.Internal, fmt.Errorf("member %s: summary below zero", from))
		}
		key := "merge#" + from + "#" + into
		eF := Entry{ID: s.newID(), MemberID: from, Kind: KindMerge, Points: -moved, Reason: "merge",
			Source: Source{MergeInto: into}, Key: key, At: now, Lots: uses, DebtMoved: -debt, After: smF.after()}
		eI := Entry{ID: s.newID(), MemberID: into, Kind: KindMerge, Points: moved, Reason: "merge",
			Source: Source{MergeFrom: from}, Key: key, At: now, Lots: uses, DebtMoved: debt, After: smI.after()}
		ms = append(ms, putSummary(from, smF), putSummary(into, smI),
			store.PutJSON(ledgerKey(from, now, eF.ID), eF).IfAbsent(),
			store.PutJSON(ledgerKey(into, now, eI.ID), eI).IfAbsent(),
			store.Check(mergedKey(from)))
		err = s.st.Write(ctx, ms...)
		if err == nil {
			return false, nil // Look again: more lots, or done.
		}
		if !errs.Is(errs.Conflict, err) {
			return false, errs.E(op, err)
		}
	}
	return false, errs.E(op, errs.Transient, "the accounts are busy; try again")
}

// moveLot is the mutations that move one lot, keeping its sort key (earn
// time and id), and its due-index items from member from to into. The lot
// is deleted only at the version read, so a concurrent change fails the
// step. An index item of from written before the index was sharded stays
// behind: it names a lot from no longer has, and the sweep drops it.
func moveLot(l Lot, it store.Item, from, into string) []store.Mutation {
	l.MemberID = into
	ms := []store.Mutation{
		store.Delete(it.Key).IfVersion(it.Version),
		store.PutJSON(store.K(memberPK(into), l.sk), l).IfAbsent(),
	}
	if !l.ExpiresAt.IsZero() {
		ref := dueRef{MemberID: into, LotID: l.ID, LotSK: l.sk, At: l.ExpiresAt}
		ms = append(ms, store.Delete(dueKey(dueExpiry, l.ExpiresAt, from, l.ID)),
			store.PutJSON(dueKey(dueExpiry, l.ExpiresAt, into, l.ID), ref))
	}
	if l.Pending {
		ref := dueRef{MemberID: into, LotID: l.ID, LotSK: l.sk, At: l.AvailableAt}
		ms = append(ms, store.Delete(dueKey(duePending, l.AvailableAt, from, l.ID)),
			store.PutJSON(dueKey(duePending, l.AvailableAt, into, l.ID), ref))
	}
	return ms
}

// absorbLevel adds the growth and cumulative spend from has not carried yet
// to into's, upgrades into at once if that qualifies it higher, carries a
// better set level over, and cancels from's level review; one atomic write
// conditioned on both level items.
func (s *Service) absorbLevel(ctx context.Context, op, from, into string) error {
	for try := 0; try < s.maxTries; try++ {
		if try > 0 {
			if err := retry.Pause(ctx, try); err != nil {
				return errs.E(op, errs.Transient, "cancelled while retrying", err)
			}
		}
		r, err := s.Rules(ctx)
		if err != nil {
			return errs.E(op, err)
		}
		stF, err := s.readLevel(ctx, from, r)
		if err != nil {
			return errs.E(op, err)
		}
		stI, err := s.readLevel(ctx, into, r)
		if err != nil {
			return errs.E(op, err)
		}
		now := s.now()
		dg, ds := stF.Growth-stF.CarriedGrowth, stF.SpendFen-stF.CarriedSpend
		carrySet := betterSet(r, stF.Set, stI.Set, now)
		if dg == 0 && ds == 0 && !carrySet && stF.ReviewSK == "" && len(stF.Ends) == 0 {
			return nil
		}
		verF, verI := stF.version, stI.version
		key := "merge#" + from + "#" + into
		eI := GrowthEntry{ID: s.newID(), MemberID: into, Kind: "merge", From: stI.Level, Reason: "merge",
			Source: Source{MergeFrom: from}, Key: key, At: now}
		g, sp := max(0, stI.Growth+dg), max(0, stI.SpendFen+ds)
		eI.Growth, eI.SpendFen = g-stI.Growth, sp-stI.SpendFen
		stI.Growth, stI.SpendFen = g, sp
		var ms []store.Mutation
		if q := qualified(r, stI); q > rank(r, stI.Level) {
			stI.Level, stI.Since, stI.GraceUntil = r.Levels.Table[q].ID, now, time.Time{}
			ms = stI.schedule(into, reviewAfter(r, q, now))
		}
		if carrySet {
			set := *stF.Set
			stI.Set = &set
		}
		eI.To, eI.GrowthAfter, eI.SpendAfter = stI.Level, stI.Growth, stI.SpendFen
		eF := GrowthEntry{ID: s.newID(), MemberID: from, Kind: "merge", From: stF.Level, To: stF.Level,
			Growth: -dg, SpendFen: -ds, Reason: "merge", Source: Source{MergeInto: into}, Key: key, At: now,
			GrowthAfter: stF.Growth, SpendAfter: stF.SpendFen}
		stF.CarriedGrowth, stF.CarriedSpend, stF.Merged = stF.Growth, stF.SpendFen, true
		ms = append(ms, stF.schedule(from, time.Time{})...)
		ms = append(ms, stF.indexEnds(from)...)
		ms = append(ms, stI.indexEnds(into)...)
		ms = append(ms, store.PutJSON(levelKey(from), stF).IfVersion(verF),
			store.PutJSON(levelKey(into), stI).IfVersion(verI),
			store.PutJSON(growthKey(from, now, eF.ID), eF).IfAbsent(),
			store.PutJSON(growthKey(into, now, eI.ID), eI).IfAbsent())
		err = s.st.Write(ctx, ms...)
		if err == nil {
			return nil
		}
		if !errs.Is(errs.Conflict, err) {
			return errs.E(op, err)
		}
	}
	return errs.E(op, errs.Transient, "the accounts are busy; try again")
}

// betterSet reports whether the merged-away member's set level f should
// replace the survivor's i: f is in force and ranks higher, or ranks the
// same and lasts longer.
func betterSet(r Rules, f, i *SetLevel, now time.Time) bool {
	active := func(x *SetLevel) bool { return x != nil && (x.Until.IsZero() || now.Before(x.Until)) }
	if !active(f) {
		return false
	}
	if !active(i) {
		return true
	}
	rf, ri := rank(r, f.Level), rank(r, i.Level)
	if rf != ri {
		return rf > ri
	}
	return !i.Until.IsZero() && (f.Until.IsZero() || f.Until.After(i.Until))
}
