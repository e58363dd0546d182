package invite

import (
	"context"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
)

// ownTries bounds how often OwnCode reads again after losing a race;
// after ownPoolTries races lost for pool codes it makes a fresh one.
const (
	ownTries     = 12
	ownPoolTries = 4
)

// OwnCode returns a member's own code of a kind — of a campaign when
// campaign is set (kind KindCampaign) — with its text, making it on first
// demand: one code per member per kind and campaign, however many calls
// race (the member's index item is written, absent before, in the same
// atomic write as the code). A campaign code comes from the campaign's pool
// when it has one. An own code that expired or was archived is replaced by
// a new one on the next call; a campaign code is never replaced (join once)
// and a campaign that has ended gives none (errs.Invalid).
func (s *Service) OwnCode(ctx context.Context, memberID string, kind Kind, campaign string) (Code, string, error) {
	const op = "invite.OwnCode"
	if memberID == "" {
		return Code{}, "", errs.E(op, errs.Invalid, "member is required")
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		return Code{}, "", errs.E(op, err)
	}
	kr, ok := rules.Kind(kind)
	if !ok {
		return Code{}, "", errs.E(op, errs.Invalid, "unknown code kind")
	}
	if (campaign != "") != (kind == KindCampaign) {
		return Code{}, "", errs.E(op, errs.Invalid, "a campaign code needs its campaign, and only campaign codes have one")
	}
	idx := ownCodeKey(memberID, kind, campaign)
	var pol retry.Policy
	for try := range pol.Tries(ctx, ownTries) {
		now := s.now().UTC().Truncate(time.Second)
		var ref codeRef
		it, err := store.GetJSON(ctx, s.st, idx, &ref)
		if err != nil && !errs.Is(errs.NotExist, err) {
			return Code{}, "", errs.E(op, err)
		}
		if it.Found() {
			c, _, err := s.code(ctx, op, ref.ID)
			if err != nil {
				return Code{}, "", err
			}
			if campaign != "" || c.Status == Active && (c.ExpiresAt.IsZero() || now.Before(c.ExpiresAt)) {
				text, err := s.Text(c)
				if err != nil {
					return Code{}, "", errs.E(op, err)
				}
				return c, text, nil
			}
		}
		var c Code
		var text string
		if campaign != "" {
			// After a few lost races for pool codes a fresh code is made:
			// the pool saves work, it never makes a member wait.
			c, text, err = s.claim(ctx, op, memberID, campaign, rules, now, try >= ownPoolTries)
		} else {
			c, text, err = s.ownFresh(ctx, op, memberID, kind, kr, it.Version, now)
		}
		if err == nil {
			return c, text, nil
		}
		// A lost race or a busy store: read again.
		if !errs.Is(errs.Conflict, err) && !errs.Is(errs.Transient, err) {
			return Code{}, "", err
		}
	}
	if err := ctx.Err(); err != nil {
		return Code{}, "", errs.E(op, err)
	}
	return Code{}, "", errs.E(op, errs.Transient, "the member's code is contended; try again")
}

// ownFresh makes a member's own code and points the member's index item,
// at version ver (0: absent), to it, in one write. A lost race on the index
// or a colliding text is errs.Conflict: the caller reads again.
func (s *Service) ownFresh(ctx context.Context, op, memberID string, kind Kind, kr KindRule, ver int64, now time.Time) (Code, string, error) {
	c := Code{Kind: kind, Owner: memberID, Status: Active, CreatedAt: now}
	if err := s.applyKind(ctx, op, &c, &kr, "", now); err != nil {
		return Code{}, "", err
	}
	texts, err := s.generate(op, kr.Format, 1)
	if err != nil {
		return Code{}, "", err
	}
	c.ID, _ = s.CodeID(texts[0])
	c.Seal = s.box.Seal(texts[0])
	ms := append(codeMutations(c), store.PutJSON(ownCodeKey(memberID, kind, ""), codeRef{c.ID}).IfVersion(ver))
	if err := s.st.Write(ctx, ms...); err != nil {
		return Code{}, "", errs.E(op, err)
	}
	return c, texts[0], nil
}
