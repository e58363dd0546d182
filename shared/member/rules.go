package member

import (
	"context"
	"fmt"
	"time"

	"github.com/wemember/wemember/shared/cached"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/rulesdoc"
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
	// Version is the stored version (1 for the defaults); SetRules requires
	// the caller's Version to equal the current one (optimistic concurrency).
	Version     int64           `json:"version"`
	Bind        BindMode        `json:"bind"`
	Unsubscribe UnsubscribeMode `json:"unsubscribe"`
	// ArchiveAfterDays is how long without activity archives a member.
	ArchiveAfterDays int `json:"archive_after_days"`
	// Import bounds the offline member import.
	Import ImportRules `json:"import"`
	// LoginLimit bounds mini-program logins per client IP address.
	LoginLimit LoginLimit `json:"login_limit"`
	UpdatedAt  time.Time  `json:"updated_at"`
	UpdatedBy  string     `json:"updated_by"`
}

// LoginLimit bounds the mini-program logins (mp-login calls) one client IP
// address may make: each costs WeChat a code2session call, garbage codes
// included. Many people may share one address (a carrier's NAT), so the
// default is generous.
type LoginLimit struct {
	Calls         int `json:"calls"`          // At most this many logins (1..MaxLoginCalls)…
	WindowSeconds int `json:"window_seconds"` // …per window of this many seconds (1..MaxLoginWindow).
}

// Window is the limit's window.
func (l LoginLimit) Window() time.Duration { return time.Duration(l.WindowSeconds) * time.Second }

// The bounds of a login limit.
const (
	MaxLoginCalls  = 1_000_000
	MaxLoginWindow = 86400 // Seconds: a day.
)

// ImportRules bound the offline member import: up to BatchRows rows are
// imported in one call, and up to JobRows rows become a background job.
type ImportRules struct {
	BatchRows int `json:"batch_rows"` // At most MaxImportRows.
	JobRows   int `json:"job_rows"`   // At most MaxImportJobRows.
}

// MaxImportJobRows is the most rows an import job can take: it keeps one
// job's rows and progress within what a sweep advances in a day.
const MaxImportJobRows = 100_000

// DefaultRules are the rules before an operator sets any.
func DefaultRules() Rules {
	return Rules{Bind: BindProgressive, Unsubscribe: UnsubscribeUnlink, ArchiveAfterDays: 180,
		Import:     ImportRules{BatchRows: MaxImportRows, JobRows: MaxImportJobRows},
		LoginLimit: LoginLimit{Calls: 100, WindowSeconds: 600}}
}

// withDefaults fills the fields a document stored before they existed
// lacks. Only reading uses it: SetRules stores what it was given.
func (r Rules) withDefaults() Rules {
	d := DefaultRules()
	if r.ArchiveAfterDays == 0 {
		r.ArchiveAfterDays = d.ArchiveAfterDays
	}
	if r.Import == (ImportRules{}) {
		r.Import = d.Import
	}
	if r.LoginLimit == (LoginLimit{}) {
		r.LoginLimit = d.LoginLimit
	}
	return r
}

// Validate checks the rules. Its errors are errs.Invalid and name the field.
func (r Rules) Validate() error {
	bad := func(msg string) error { return errs.E("member.Rules", errs.Invalid, msg) }
	switch {
	case r.ArchiveAfterDays < 30 || r.ArchiveAfterDays > 3660:
		return bad("archive_after_days must be 30..3660")
	case r.Import.BatchRows < 1 || r.Import.BatchRows > MaxImportRows:
		return bad(fmt.Sprintf("import.batch_rows must be 1..%d", MaxImportRows))
	case r.Import.JobRows < r.Import.BatchRows || r.Import.JobRows > MaxImportJobRows:
		return bad(fmt.Sprintf("import.job_rows must be import.batch_rows..%d", MaxImportJobRows))
	case r.LoginLimit.Calls < 1 || r.LoginLimit.Calls > MaxLoginCalls:
		return bad(fmt.Sprintf("login_limit.calls must be 1..%d", MaxLoginCalls))
	case r.LoginLimit.WindowSeconds < 1 || r.LoginLimit.WindowSeconds > MaxLoginWindow:
		return bad(fmt.Sprintf("login_limit.window_seconds must be 1..%d", MaxLoginWindow))
	}
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

// rulesCache holds the rules an instance read last, for RulesTTL.
type rulesCache = cached.Value[Rules]

// Rules returns the identity rules in force (the defaults until set).
func (s *Service) Rules(ctx context.Context) (Rules, error) {
	return s.rules.Get(s.now(), RulesTTL, func() (Rules, error) { return s.readRules(ctx) })
}

// readRules reads the stored rules, the defaults at version 1 until an
// operator sets any. A stored document's version is its item's plus one.
func (s *Service) readRules(ctx context.Context) (Rules, error) {
	var r Rules
	it, err := store.GetJSON(ctx, s.store, rulesKey(), &r)
	if errs.Is(errs.NotExist, err) {
		r, err = DefaultRules(), nil
	}
	if err != nil {
		return Rules{}, errs.E("member.Rules", err)
	}
	r.Version = it.Version + 1
	return r.withDefaults(), nil
}

// SetRules validates and stores new identity rules as the next version,
// recording who and when. r.Version must be the current version:
// errs.Invalid when it is missing (0) or negative, errs.Conflict when it is
// stale (someone changed the rules meanwhile), each saying the current
// version. It fails with errs.Invalid when the rules break a rule of
// Validate.
func (s *Service) SetRules(ctx context.Context, r Rules, operator string) (Rules, error) {
	const op = "member.SetRules"
	// No defaults are filled in: a value sent as 0 is refused by Validate,
	// never read as absent (archive_after_days: 0 is not 180).
	if err := r.Validate(); err != nil {
		return Rules{}, err
	}
	if operator == "" {
		return Rules{}, errs.E(op, errs.Invalid, "operator is required")
	}
	// The stored rules, not the kept copy, whose version may be stale; kept
	// now, so that an operator told to reload sees them.
	cur, err := s.readRules(ctx)
	if err != nil {
		return Rules{}, errs.E(op, err)
	}
	s.rules.Set(cur, s.now())
	if err := rulesdoc.CheckVersion(op, r.Version, cur.Version); err != nil {
		return Rules{}, err
	}
	r.UpdatedAt, r.UpdatedBy = s.now().UTC(), operator
	next := cur.Version + 1
	r.Version = next
	hist := store.PutJSON(store.K("rules#member", "history#"+r.UpdatedAt.Format(time.RFC3339Nano)), r)
	err = s.store.Write(ctx, store.PutJSON(rulesKey(), r).IfVersion(cur.Version-1), hist)
	if err != nil {
		return Rules{}, rulesdoc.SaveErr(op, err)
	}
	s.rules.Set(r, s.now())
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
