package loyalty

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/rulesdoc"
	"github.com/wemember/wemember/shared/store"
)

func rulesKey() store.Key { return store.K("rules#loyalty", "current") }

func historyKey(v int64) store.Key {
	return store.K("rules#loyalty", fmt.Sprintf("history#%012d", v))
}

// RulesTTL is how long a service keeps the loyalty rules before reading
// them again: a change made through another instance is in force everywhere
// within it, and at once in the instance that made it. Every sign-in,
// earning and swept item needs the rules; this saves each a read.
const RulesTTL = 30 * time.Second

// InstallDefaults stores DefaultRules unless rules exist, and returns the
// current rules. It is safe to call on every start, concurrently.
func (s *Service) InstallDefaults(ctx context.Context) (Rules, error) {
	r, err := s.installDefaults(ctx)
	if err == nil {
		s.rules.Set(r.clone(), s.now())
	}
	return r, err
}

func (s *Service) installDefaults(ctx context.Context) (Rules, error) {
	const op = "loyalty.InstallDefaults"
	r, err := s.readRules(ctx)
	if err == nil || !errs.Is(errs.NotExist, err) {
		return r, err
	}
	r = DefaultRules()
	now := s.now()
	r.InstalledAt, r.UpdatedAt, r.UpdatedBy = now, now, "system:defaults"
	err = s.st.Write(ctx,
		store.PutJSON(rulesKey(), r).IfAbsent(),
		store.PutJSON(historyKey(1), RulesChange{Version: 1, By: r.UpdatedBy, At: now, Rules: r}).IfAbsent())
	if err != nil && !errs.Is(errs.Conflict, err) {
		return Rules{}, errs.E(op, err)
	}
	return s.readRules(ctx)
}

// Rules returns the current rules, installing the defaults on first use.
// It answers from the copy this service read or set less than RulesTTL ago.
func (s *Service) Rules(ctx context.Context) (Rules, error) {
	r, err := s.rules.Get(s.now(), RulesTTL, func() (Rules, error) { return s.freshRules(ctx) })
	return r.clone(), err
}

// freshRules reads the current rules from the store, installing the
// defaults on first use.
func (s *Service) freshRules(ctx context.Context) (Rules, error) {
	r, err := s.readRules(ctx)
	if errs.Is(errs.NotExist, err) {
		return s.InstallDefaults(ctx)
	}
	return r, err
}

func (s *Service) readRules(ctx context.Context) (Rules, error) {
	it, err := s.st.Get(ctx, rulesKey())
	if err != nil {
		return Rules{}, errs.E("loyalty.Rules", err)
	}
	return decodeRules(it)
}

// decodeRules is the rules in the item it, which must be found.
func decodeRules(it store.Item) (Rules, error) {
	var r Rules
	if err := unmarshal(it.Data, &r); err != nil {
		return Rules{}, errs.E("loyalty.Rules", errs.Internal, fmt.Errorf("decode %s: %w", it.Key, err))
	}
	r.Version = it.Version
	return r.withDefaults(), nil
}

// SetRules validates r and stores it as the next version, with a history
// item naming operator and time. r.Version must be the current version:
// errs.Invalid when it is missing (0), errs.Conflict when it is stale
// (someone changed the rules meanwhile), each saying the current version.
// It fails with errs.Invalid when the rules break a rule of Validate.
func (s *Service) SetRules(ctx context.Context, r Rules, operator string) (Rules, error) {
	const op = "loyalty.SetRules"
	if operator == "" {
		return Rules{}, errs.E(op, errs.Invalid, "operator is required")
	}
	// No defaults are filled in: a section left at zero is refused by
	// Validate, never read as absent (reminders.ahead_days: 0 is not 3).
	if err := r.Validate(); err != nil {
		return Rules{}, errs.E(op, err)
	}
	if err := s.checkTemplates(ctx, r); err != nil {
		return Rules{}, errs.E(op, err)
	}
	// The stored rules, not the kept copy, whose version may be stale; kept
	// now, so that an operator told to reload sees them.
	cur, err := s.freshRules(ctx)
	if err != nil {
		return Rules{}, errs.E(op, err)
	}
	s.rules.Set(cur.clone(), s.now())
	if err := rulesdoc.CheckVersion(op, r.Version, cur.Version); err != nil {
		return Rules{}, err
	}
	now := s.now()
	r.InstalledAt, r.UpdatedAt, r.UpdatedBy = cur.InstalledAt, now, operator
	next := cur.Version + 1
	err = s.st.Write(ctx,
		store.PutJSON(rulesKey(), r).IfVersion(cur.Version),
		store.PutJSON(historyKey(next), RulesChange{Version: next, By: operator, At: now, Rules: r}).IfAbsent())
	if err != nil {
		return Rules{}, rulesdoc.SaveErr(op, err)
	}
	r.Version = next
	s.rules.Set(r.clone(), s.now())
	return r, nil
}

// checkTemplates refuses rules naming a coupon template that does not
// exist, in field order so the refusal is the same every time.
func (s *Service) checkTemplates(ctx context.Context, r Rules) error {
	if s.templateExists == nil {
		return nil
	}
	refs := r.Templates()
	for _, field := range slices.Sorted(maps.Keys(refs)) {
		err := s.templateExists(ctx, refs[field])
		if errs.Is(errs.NotExist, err) {
			return errs.E(errs.Invalid, fmt.Sprintf("rules: %s names coupon template %q, which does not exist", field, refs[field]))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// RulesHistory lists rules changes, newest first, a page at a time (cursor
// "" for the first page).
func (s *Service) RulesHistory(ctx context.Context, cursor string, limit int) ([]RulesChange, string, error) {
	const op = "loyalty.RulesHistory"
	page, err := s.st.Query(ctx, store.Query{PK: "rules#loyalty", Prefix: "history#", After: cursor, Limit: limit, Desc: true})
	if err != nil {
		return nil, "", errs.E(op, err)
	}
	out := make([]RulesChange, 0, len(page.Items))
	for _, it := range page.Items {
		var c RulesChange
		if err := unmarshal(it.Data, &c); err != nil {
			return nil, "", errs.E(op, errs.Internal, err)
		}
		c.Rules.Version = c.Version
		out = append(out, c)
	}
	return out, page.Next, nil
}
