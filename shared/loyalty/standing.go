package loyalty

import (
	"context"
	"errors"
	"sync"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// Standing is what the member card shows of a member's loyalty.
type Standing struct {
	Level  LevelView
	Points Balance
}

// Standing reads a member's level and points for display. Its reads are
// eventually consistent — a change of the last moment may not show yet, and
// nothing is decided on what it returns — and overlap: the rules, the level
// and the points summary in one batched read beside the query of the open
// lots. Commands read with Level and the other strongly consistent reads
// instead. An unknown member has the lowest level and no points.
func (s *Service) Standing(ctx context.Context, member string) (Standing, error) {
	const op = "loyalty.Standing"
	if err := validMember(op, member); err != nil {
		return Standing{}, err
	}
	var (
		items             []store.Item
		lots              []Lot
		itemsErr, lotsErr error
		wg                sync.WaitGroup
	)
	wg.Go(func() {
		items, itemsErr = s.st.GetMany(ctx, []store.Key{rulesKey(), levelKey(member), summaryKey(member)}, store.Eventual)
	})
	wg.Go(func() { lots, lotsErr = s.openLots(ctx, member, store.Eventual) })
	wg.Wait()
	if err := errors.Join(itemsErr, lotsErr); err != nil {
		return Standing{}, errs.E(op, err)
	}
	var r Rules
	var err error
	if items[0].Found() {
		r, err = decodeRules(items[0])
	} else {
		r, err = s.Rules(ctx) // Installs the defaults on first use.
	}
	if err != nil {
		return Standing{}, errs.E(op, err)
	}
	st, err := decodeLevel(items[1], r)
	if err != nil {
		return Standing{}, errs.E(op, err)
	}
	sm, err := decodeSummary(items[2])
	if err != nil {
		return Standing{}, errs.E(op, err)
	}
	now := s.now()
	return Standing{Level: levelView(r, st, now), Points: balanceOf(sm, lots, now)}, nil
}
