package loyalty

import (
	"context"
	"fmt"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// EntryKind names a kind of ledger entry.
type EntryKind string

// The ledger entry kinds: one per command that changes points.
const (
	KindEarn    EntryKind = "earn"
	KindSpend   EntryKind = "spend"
	KindReverse EntryKind = "reverse"
	KindExpire  EntryKind = "expire"
	KindAdjust  EntryKind = "adjust"
	KindMerge   EntryKind = "merge" // Lots and debt moved by a member merge (Absorb).
)

// Entry is one points ledger entry: one change with its reason and source.
type Entry struct {
	ID       string    `json:"id"`
	MemberID string    `json:"member_id"`
	Kind     EntryKind `json:"kind"`
	// Points is the change as commanded: positive for earn and positive
	// adjust, negative for spend, reverse, expire and negative adjust.
	Points    int64     `json:"points"`
	Reason    string    `json:"reason"`
	Source    Source    `json:"source"`
	Key       string    `json:"key"` // The idempotency key of the command.
	At        time.Time `json:"at"`
	LotID     string    `json:"lot_id,omitempty"` // The lot an earning made, or the lot that expired.
	LotSK     string    `json:"lot_sk,omitempty"`
	Lots      []LotUse  `json:"lots,omitempty"`       // Lots taken from, FIFO.
	DebtPaid  int64     `json:"debt_paid,omitempty"`  // Part of an earning that paid debt.
	DebtAdded int64     `json:"debt_added,omitempty"` // Part of a reversal that became debt.
	Forgiven  int64     `json:"forgiven,omitempty"`   // Part of a reversal already lost to expiry.
	Reverses  string    `json:"reverses,omitempty"`   // The entry a reversal undoes.
	DebtMoved int64     `json:"debt_moved,omitempty"` // Debt a merge moved (negative on the merged-away side).
	// After is the balance once the entry applied (pending lots by their
	// state at that write).
	After BalanceAfter `json:"after"`
}

// BalanceAfter is the summary right after an entry.
type BalanceAfter struct {
	Available int64 `json:"available"`
	Pending   int64 `json:"pending"`
	Debt      int64 `json:"debt"`
}

func (sm summary) after() BalanceAfter {
	return BalanceAfter{Available: sm.Available, Pending: sm.Pending, Debt: sm.Debt}
}

func ledgerKey(member string, at time.Time, id string) store.Key {
	return store.K(memberPK(member), "ledger#"+ts(at)+"#"+id)
}

const pointsScope = "points"

// EarnCmd credits points as a new lot.
type EarnCmd struct {
	MemberID string
	Points   int64
	Reason   string
	Source   Source
	Key      string      // Idempotency key, e.g. "pay:<transaction_id>".
	Expiry   *ExpiryRule // Nil: Rules.Points.Expiry.
	// PendingDays locks the lot for that many days before it counts (for
	// orders, pass Rules.Points.PendingDays). 0: available at once.
	PendingDays int
}

func checkCmd(op, member string, points int64, key string) error {
	if err := validMember(op, member); err != nil {
		return err
	}
	if points <= 0 || points > MaxPoints {
		return errs.E(op, errs.Invalid, fmt.Sprintf("points must be 1..%d", MaxPoints))
	}
	return validKey(op, key)
}

// Earn credits points to a member as a lot with its own expiry and pending
// period. Outstanding debt is paid first from the new points. The same Key
// has one effect; a duplicate returns the first entry. Errors: errs.Invalid
// for a bad command, errs.Exist when Key was used by another command,
// errs.Transient when the account stays too busy.
func (s *Service) Earn(ctx context.Context, c EarnCmd) (Entry, error) {
	const op = "loyalty.Earn"
	if err := checkCmd(op, c.MemberID, c.Points, c.Key); err != nil {
		return Entry{}, err
	}
	if c.PendingDays < 0 || c.PendingDays > 366 {
		return Entry{}, errs.E(op, errs.Invalid, "pending days must be 0..366")
	}
	if c.Expiry != nil {
		if err := c.Expiry.validate(); err != nil {
			return Entry{}, errs.E(op, errs.Invalid, err.Error())
		}
	}
	return s.credit(ctx, op, KindEarn, c)
}

// credit is Earn and positive Adjust.
func (s *Service) credit(ctx context.Context, op string, kind EntryKind, c EarnCmd) (Entry, error) {
	scope := fmt.Sprintf("%s|%s|%d", kind, c.MemberID, c.Points)
	return runOnce(ctx, s, op, idemKey(pointsScope, c.Key), scope, func(now time.Time) ([]store.Mutation, Entry, error) {
		return s.creditWrite(ctx, op, kind, c, now)
	})
}

// creditWrite computes the mutations and entry of a credit at now.
func (s *Service) creditWrite(ctx context.Context, op string, kind EntryKind, c EarnCmd, now time.Time) ([]store.Mutation, Entry, error) {
	exp := ExpiryRule{}
	if c.Expiry != nil {
		exp = *c.Expiry
	} else {
		r, err := s.Rules(ctx)
		if err != nil {
			return nil, Entry{}, errs.E(op, err)
		}
		exp = r.Points.Expiry
	}
	sm, err := s.readSummary(ctx, c.MemberID)
	if err != nil {
		return nil, Entry{}, errs.E(op, err)
	}
	e := Entry{ID: s.newID(), MemberID: c.MemberID, Kind: kind, Points: c.Points, Reason: c.Reason,
		Source: c.Source, Key: c.Key, At: now}
	e.DebtPaid = min(sm.Debt, c.Points)
	sm.Debt -= e.DebtPaid
	sm.Earned += c.Points
	var ms []store.Mutation
	if lotPts := c.Points - e.DebtPaid; lotPts > 0 {
		l, lms := newLot(c.MemberID, s.newID(), e.ID, lotPts, now, exp, c.PendingDays)
		e.LotID, e.LotSK = l.ID, l.sk
		if l.Pending {
			sm.Pending += lotPts
		} else {
			sm.Available += lotPts
		}
		ms = append(ms, lms...)
	}
	e.After = sm.after()
	ms = append(ms, putSummary(c.MemberID, sm), store.PutJSON(ledgerKey(c.MemberID, now, e.ID), e).IfAbsent())
	return ms, e, nil
}

// SpendCmd debits points (exchange, cash offset, lottery).
type SpendCmd struct {
	MemberID string
	Points   int64
	Reason   string
	Source   Source
	Key      string
}

// Spend debits points from the member's live, available lots first-in
// first-out by earn time (as SPEC.md specifies; not soonest-expiring first)
// and records which lots it used. Pending and expired lots are never spent.
// Errors: errs.Invalid "insufficient points" when the live available
// balance is short (nothing changes), errs.TooLarge when more than
// MaxLotsPerWrite lots would be used, errs.Exist for a key used by another
// command, errs.Transient when the account stays too busy.
func (s *Service) Spend(ctx context.Context, c SpendCmd) (Entry, error) {
	const op = "loyalty.Spend"
	if err := checkCmd(op, c.MemberID, c.Points, c.Key); err != nil {
		return Entry{}, err
	}
	return s.debit(ctx, op, KindSpend, c)
}

// debit is Spend and negative Adjust.
func (s *Service) debit(ctx context.Context, op string, kind EntryKind, c SpendCmd) (Entry, error) {
	scope := fmt.Sprintf("%s|%s|%d", kind, c.MemberID, -c.Points)
	return runOnce(ctx, s, op, idemKey(pointsScope, c.Key), scope, func(now time.Time) ([]store.Mutation, Entry, error) {
		sm, err := s.readSummary(ctx, c.MemberID)
		if err != nil {
			return nil, Entry{}, errs.E(op, err)
		}
		if sm.Available+sm.Pending < c.Points {
			return nil, Entry{}, errs.E(op, errs.Invalid, "insufficient points")
		}
		got, err := s.consume(ctx, op, c.MemberID, c.Points, now, "", MaxLotsPerWrite, false)
		if err != nil {
			return nil, Entry{}, err
		}
		if got.taken < c.Points {
			return nil, Entry{}, errs.E(op, errs.Invalid, "insufficient points")
		}
		sm.Pending -= got.matured
		sm.Available += got.matured - got.taken
		sm.Spent += got.taken
		if sm.Available < 0 || sm.Pending < 0 {
			if s.summaryMoved(ctx, c.MemberID, sm.version) {
				return nil, Entry{}, errRetry
			}
			return nil, Entry{}, errs.E(op, errs.Internal, fmt.Errorf("member %s: summary below zero", c.MemberID))
		}
		e := Entry{ID: s.newID(), MemberID: c.MemberID, Kind: kind, Points: -c.Points, Reason: c.Reason,
			Source: c.Source, Key: c.Key, At: now, Lots: got.uses, After: sm.after()}
		ms := append(got.ms, putSummary(c.MemberID, sm), store.PutJSON(ledgerKey(c.MemberID, now, e.ID), e).IfAbsent())
		return ms, e, nil
	})
}

// AdjustCmd is an operator's manual change: positive credits a lot,
// negative debits like Spend.
type AdjustCmd struct {
	MemberID string
	Points   int64 // Signed, not zero.
	Reason   string
	Operator string // Required; recorded as Source.Operator.
	Key      string
	Expiry   *ExpiryRule // For a credit; nil: Rules.Points.Expiry.
}

// Adjust applies an operator's manual change. A debit fails with
// errs.Invalid "insufficient points" rather than going below zero.
func (s *Service) Adjust(ctx context.Context, c AdjustCmd) (Entry, error) {
	const op = "loyalty.Adjust"
	if c.Operator == "" || c.Reason == "" {
		return Entry{}, errs.E(op, errs.Invalid, "operator and reason are required")
	}
	abs := c.Points
	if abs < 0 {
		abs = -abs
	}
	if err := checkCmd(op, c.MemberID, abs, c.Key); err != nil {
		return Entry{}, err
	}
	src := Source{Operator: c.Operator}
	if c.Points < 0 {
		return s.debit(ctx, op, KindAdjust, SpendCmd{MemberID: c.MemberID, Points: abs, Reason: c.Reason, Source: src, Key: c.Key})
	}
	if c.Expiry != nil {
		if err := c.Expiry.validate(); err != nil {
			return Entry{}, errs.E(op, errs.Invalid, err.Error())
		}
	}
	return s.credit(ctx, op, KindAdjust, EarnCmd{MemberID: c.MemberID, Points: abs, Reason: c.Reason, Source: src, Key: c.Key, Expiry: c.Expiry})
}

// Expiring is an amount of points and when it expires.
type Expiring struct {
	Points int64     `json:"points"`
	At     time.Time `json:"at,omitzero"`
}

// Balance is a member's points at a moment.
type Balance struct {
	Available int64 `json:"available"` // Spendable now.
	Pending   int64 `json:"pending"`   // Locked; counts once its period ends.
	Debt      int64 `json:"debt"`      // Owed from reversals; paid by later earnings.
	// ExpiringSoonest is the points of the live lots with the nearest expiry.
	ExpiringSoonest Expiring `json:"expiring_soonest"`
	Earned          int64    `json:"earned"` // Lifetime totals.
	Spent           int64    `json:"spent"`
	Expired         int64    `json:"expired"`
	Reversed        int64    `json:"reversed"`
}

// Balance returns a member's balance as of now, computed from the open
// lots: a pending lot whose period has passed is available, a lot past its
// expiry is excluded even before the sweep settles it. An unknown member has
// a zero balance.
func (s *Service) Balance(ctx context.Context, member string) (Balance, error) {
	const op = "loyalty.Balance"
	if err := validMember(op, member); err != nil {
		return Balance{}, err
	}
	sm, err := s.readSummary(ctx, member)
	if err != nil {
		return Balance{}, errs.E(op, err)
	}
	lots, err := s.openLots(ctx, member, store.Strong)
	if err != nil {
		return Balance{}, errs.E(op, err)
	}
	return balanceOf(sm, lots, s.now()), nil
}

// balanceOf is the balance at now of a member's summary sm and open lots.
func balanceOf(sm summary, lots []Lot, now time.Time) Balance {
	b := Balance{Debt: sm.Debt, Earned: sm.Earned, Spent: sm.Spent, Expired: sm.Expired, Reversed: sm.Reversed}
	for _, l := range lots {
		if !l.liveAt(now) || l.Remaining <= 0 {
			continue
		}
		if l.pendingAt(now) {
			b.Pending += l.Remaining
		} else {
			b.Available += l.Remaining
		}
		switch {
		case l.ExpiresAt.IsZero():
		case b.ExpiringSoonest.At.IsZero() || l.ExpiresAt.Before(b.ExpiringSoonest.At):
			b.ExpiringSoonest = Expiring{Points: l.Remaining, At: l.ExpiresAt}
		case l.ExpiresAt.Equal(b.ExpiringSoonest.At):
			b.ExpiringSoonest.Points += l.Remaining
		}
	}
	return b
}

// Ledger lists a member's entries, newest first, a page at a time (cursor
// "" for the first page; limit 0 means store.MaxPage). It is a list for
// display, read eventually consistent: an entry of the last moment may not
// show yet.
func (s *Service) Ledger(ctx context.Context, member, cursor string, limit int) ([]Entry, string, error) {
	const op = "loyalty.Ledger"
	if err := validMember(op, member); err != nil {
		return nil, "", err
	}
	page, err := s.st.Query(ctx, store.Query{PK: memberPK(member), Prefix: "ledger#", After: cursor, Limit: limit, Desc: true,
		Consistency: store.Eventual})
	if err != nil {
		return nil, "", errs.E(op, err)
	}
	out := make([]Entry, 0, len(page.Items))
	for _, it := range page.Items {
		var e Entry
		if err := unmarshal(it.Data, &e); err != nil {
			return nil, "", errs.E(op, errs.Internal, err)
		}
		out = append(out, e)
	}
	return out, page.Next, nil
}
