package member

import (
	"context"
	"sync"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// BindMode is how a person's identities from different apps are joined.
type BindMode string

// The binding modes.
const (
	// BindForced joins identities like BindProgressive, and tells the client
	// to ask for phone authorization while a member has no phone.
	BindForced BindMode = "forced"
	// BindProgressive links silently when the same unionid or phone appears
	// on a key action (login, follow, payment), merging members if needed.
	BindProgressive BindMode = "progressive"
	// BindIndependent keeps each app's members apart: only the per-app
	// openid (and WeCom external id) finds a member.
	BindIndependent BindMode = "independent"
)

// UnsubscribeMode is what an Official Account unsubscribe does to the data.
type UnsubscribeMode string

// The unsubscribe modes.
const (
	UnsubscribeKeep   UnsubscribeMode = "keep"   // Mark the follower; keep everything.
	UnsubscribeUnlink UnsubscribeMode = "unlink" // Also drop the Official Account openid identity.
)

// Rules are the identity rules, stored as data and changed by operators.
type Rules struct {
	Bind        BindMode        `json:"bind"`
	Unsubscribe UnsubscribeMode `json:"unsubscribe"`
	UpdatedAt   time.Time       `json:"updated_at"`
	UpdatedBy   string          `json:"updated_by"`
}

// DefaultRules are the rules before an operator sets any.
func DefaultRules() Rules {
	return Rules{Bind: BindProgressive, Unsubscribe: UnsubscribeUnlink}
}

// Validate checks the rules.
func (r Rules) Validate() error {
	switch r.Bind {
	case BindForced, BindProgressive, BindIndependent:
	default:
		return errs.E("member.Rules", errs.Invalid, "bind must be forced, progressive or independent")
	}
	switch r.Unsubscribe {
	case UnsubscribeKeep, UnsubscribeUnlink:
	default:
		return errs.E("member.Rules", errs.Invalid, "unsubscribe must be keep or unlink")
	}
	return nil
}

func rulesKey() store.Key { return store.K("rules#member", "current") }

// RulesTTL is how long an instance keeps the identity rules before reading
// them again: a change made through another instance is in force everywhere
// within it. Every arrival needs the rules; this saves it a read.
const RulesTTL = 30 * time.Second

// rulesCache holds the rules an instance read last.
type rulesCache struct {
	mu   sync.Mutex
	r    Rules
	read time.Time
}

// Rules returns the identity rules in force (the defaults until set).
func (s *Service) Rules(ctx context.Context) (Rules, error) {
	now := s.now()
	s.rules.mu.Lock()
	if !s.rules.read.IsZero() && now.Sub(s.rules.read) < RulesTTL && !now.Before(s.rules.read) {
		r := s.rules.r
		s.rules.mu.Unlock()
		return r, nil
	}
	s.rules.mu.Unlock()
	var r Rules
	_, err := store.GetJSON(ctx, s.store, rulesKey(), &r)
	if errs.Is(errs.NotExist, err) {
		r, err = DefaultRules(), nil
	}
	if err != nil {
		return Rules{}, errs.E("member.Rules", err)
	}
	s.remember(r, now)
	return r, nil
}

func (s *Service) remember(r Rules, at time.Time) {
	s.rules.mu.Lock()
	s.rules.r, s.rules.read = r, at
	s.rules.mu.Unlock()
}

// SetRules validates and stores new identity rules, recording who and when.
func (s *Service) SetRules(ctx context.Context, r Rules, operator string) (Rules, error) {
	const op = "member.SetRules"
	if err := r.Validate(); err != nil {
		return Rules{}, err
	}
	if operator == "" {
		return Rules{}, errs.E(op, errs.Invalid, "operator is required")
	}
	r.UpdatedAt, r.UpdatedBy = s.now().UTC(), operator
	hist := store.PutJSON(store.K("rules#member", "history#"+r.UpdatedAt.Format(time.RFC3339Nano)), r)
	if err := s.store.Write(ctx, store.PutJSON(rulesKey(), r), hist); err != nil {
		return Rules{}, errs.E(op, err)
	}
	s.remember(r, s.now())
	return r, nil
}

// usable filters identities by the binding mode: independent mode joins by
// per-app identities only.
func usable(mode BindMode, ids []Identity) []Identity {
	if mode != BindIndependent {
		return ids
	}
	var out []Identity
	for _, id := range ids {
		if id.Kind == OpenID || id.Kind == External {
			out = append(out, id)
		}
	}
	return out
}
