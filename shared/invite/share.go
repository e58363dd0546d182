package invite

import (
	"context"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
)

// changeTries bounds how often a change of a code reads again after
// losing a race.
const changeTries = 8

// Shared records that a member shared its own code. An ordinary
// registration code lives KindRule.ExtendOnShare longer (6 h by default)
// each time; other kinds are returned unchanged. The change is one atomic
// write conditioned on the code's version, its due item moved with it. A
// code that is not the member's is errs.NotExist; one no longer live is
// errs.Expired.
func (s *Service) Shared(ctx context.Context, memberID, codeID string) (Code, error) {
	const op = "invite.Shared"
	if memberID == "" || codeID == "" {
		return Code{}, errs.E(op, errs.Invalid, "member and code are required")
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		return Code{}, errs.E(op, err)
	}
	var pol retry.Policy
	for range pol.Tries(ctx, changeTries) {
		c, ver, err := s.code(ctx, op, codeID)
		if err != nil {
			return Code{}, err
		}
		if c.Owner != memberID {
			return Code{}, errs.E(op, errs.NotExist, "unknown code")
		}
		ext := rules.Kinds[KindRegistration].ExtendOnShare.D()
		if c.Kind != KindRegistration || ext <= 0 || c.ExpiresAt.IsZero() {
			return c, nil
		}
		now := s.now().UTC().Truncate(time.Second)
		if !c.Live(now) {
			return Code{}, errs.E(op, errs.Expired, "the code is no longer active")
		}
		old := c.ExpiresAt
		c.ExpiresAt, c.UpdatedAt = old.Add(ext), now
		err = s.st.Write(ctx, store.PutJSON(codeKey(c.ID), c).IfVersion(ver),
			store.Delete(dueKey(old, c.ID)), store.PutJSON(dueKey(c.ExpiresAt, c.ID), codeRef{c.ID}))
		if err == nil {
			return c, nil
		}
		if !errs.Is(errs.Conflict, err) {
			return Code{}, errs.E(op, err)
		}
	}
	return Code{}, errs.E(op, errs.Transient, "the code is contended; try again")
}

// Reset replaces an enterprise code: the old one is archived (it no longer
// redeems; ReplacedBy names its successor) and a new one with the same
// owner, channel, cap and batch and a fresh validity is made, in one atomic
// write that also moves the owner's index item. It returns the new code
// and its text. Other kinds and archived codes are refused (errs.Invalid).
func (s *Service) Reset(ctx context.Context, codeID, operator string) (Code, string, error) {
	const op = "invite.Reset"
	if codeID == "" || operator == "" {
		return Code{}, "", errs.E(op, errs.Invalid, "code and operator are required")
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		return Code{}, "", errs.E(op, err)
	}
	kr := rules.Kinds[KindEnterprise]
	var pol retry.Policy
	for range pol.Tries(ctx, changeTries) {
		old, ver, err := s.code(ctx, op, codeID)
		if err != nil {
			return Code{}, "", err
		}
		if old.Kind != KindEnterprise {
			return Code{}, "", errs.E(op, errs.Invalid, "only enterprise codes are reset")
		}
		if old.Status == Archived {
			return Code{}, "", errs.E(op, errs.Invalid, "the code was reset already")
		}
		now := s.now().UTC().Truncate(time.Second)
		c := Code{Kind: old.Kind, Owner: old.Owner, Channel: old.Channel, Cap: old.Cap, Batch: old.Batch,
			Status: Active, CreatedAt: now, CreatedBy: operator}
		if kr.Validity > 0 {
			c.ExpiresAt = now.Add(kr.Validity.D())
		}
		texts, err := s.generate(op, kr.Format, 1)
		if err != nil {
			return Code{}, "", err
		}
		c.ID, _ = s.CodeID(texts[0])
		c.Seal = s.box.Seal(texts[0])
		ms, err := s.replaceMutations(ctx, op, old, ver, c, Archived, time.Time{}, now)
		if err != nil {
			return Code{}, "", err
		}
		err = s.st.Write(ctx, ms...)
		if err == nil {
			return c, texts[0], nil
		}
		if !errs.Is(errs.Conflict, err) {
			return Code{}, "", errs.E(op, err)
		}
	}
	return Code{}, "", errs.E(op, errs.Transient, "the code is contended; try again")
}

// replaceMutations replace old (at version ver) by c: old gets status and
// ReplacedBy and loses its sweep items — but for an expiry at until, when
// given (a rotated code's grace) — c is created, and the owner's index
// item, if it named old, names c.
func (s *Service) replaceMutations(ctx context.Context, op string, old Code, ver int64, c Code, status Status, until, now time.Time) ([]store.Mutation, error) {
	ms := []store.Mutation{}
	if !old.RotateAt.IsZero() {
		ms = append(ms, store.Delete(rotateKey(old.RotateAt, old.ID)))
	}
	if !until.IsZero() && !old.ExpiresAt.IsZero() && !until.Before(old.ExpiresAt) {
		until = old.ExpiresAt // The grace never lengthens a code's life.
	}
	if !old.ExpiresAt.IsZero() && !old.ExpiresAt.Equal(until) {
		ms = append(ms, store.Delete(dueKey(old.ExpiresAt, old.ID)))
	}
	if !until.IsZero() && !until.Equal(old.ExpiresAt) {
		ms = append(ms, store.PutJSON(dueKey(until, old.ID), codeRef{old.ID}))
	}
	old.Status, old.ReplacedBy, old.UpdatedAt, old.RotateAt, old.ExpiresAt = status, c.ID, now, time.Time{}, until
	ms = append(ms, store.PutJSON(codeKey(old.ID), old).IfVersion(ver))
	ms = append(ms, codeMutations(c)...)
	if old.Owner == "" {
		return ms, nil
	}
	idx := ownCodeKey(old.Owner, old.Kind, old.Campaign)
	var ref codeRef
	it, err := store.GetJSON(ctx, s.st, idx, &ref)
	if err != nil && !errs.Is(errs.NotExist, err) {
		return nil, errs.E(op, err)
	}
	if it.Found() && ref.ID == old.ID {
		ms = append(ms, store.PutJSON(idx, codeRef{c.ID}).IfVersion(it.Version))
	}
	return ms, nil
}
