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
// nothing is decided on what it returns — and overlap: the level and the
// points summary in one batched read beside the query of the open lots,
// with the rules the service keeps. Commands read with Level and the other strongly consistent reads
// instead. An unknown member has the lowest level and no points.
func (s *Service) Standing(ctx context.Context, member string) (Standing, error) {
	const op = "loyalty.Standing"
	if err := validMember(op, member); err != nil {
		return Standing{}, err
	}
	var (
		items                       []store.Item
		lots                        []Lot
		r                           Rules
		itemsErr, lotsErr, rulesErr error
		wg                          sync.WaitGroup
	)
	wg.Go(func() { r, rulesErr = s.Rules(ctx) }) // Kept for RulesTTL; installs the defaults on first use.
	wg.Go(func() {
		items, itemsErr = s.st.GetMany(ctx, []store.Key{levelKey(member), summaryKey(member)}, store.Eventual)
	})
	wg.Go(func() { lots, lotsErr = s.openLots(ctx, member, store.Eventual) })
	wg.Wait()
	if err := errors.Join(rulesErr, itemsErr, lotsErr); err != nil {
		return Standing{}, errs.E(op, err)
	}
	st, err := decodeLevel(items[0], r)
	if err != nil {
		return Standing{}, errs.E(op, err)
	}
	sm, err := decodeSummary(items[1])
	if err != nil {
		return Standing{}, errs.E(op, err)
	}
	now := s.now()
	return Standing{Level: levelView(r, st, now), Points: balanceOf(sm, lots, now)}, nil
}
