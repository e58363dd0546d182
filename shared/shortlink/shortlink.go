// Package shortlink makes the short links members share: a link of a few
// characters (https://<domain>/s/ABCD2345) that leads to an https page or a
// mini-program path, served by the function that mounts the prefix. The
// domain is data an operator switches to a backup when the first one is
// blocked, so links already shared keep working on the other domain.
//
// Items:
//
//	shortlink#<id>          | link     the link
//	shortlink#share#<hash>  | link     the same link, found by its share (inviter, code, channel, target)
//	rules#shortlink-domains | current, history#<time>   the domains and every change
package shortlink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/codes"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/text"
)

// Link is one short link: a share of an inviter's code through a channel.
type Link struct {
	ID string `json:"id"` // 8 characters of codes.DefaultCharset.
	// Target is where the link leads: an https URL (printable ASCII, a
	// lower-case host, no user) or a mini-program path ("pages/invite/index?code=…").
	Target string `json:"target"`
	// Code is the invite code shared. The link is its owner's own share, so
	// the code may appear here and in Target; an openid never does.
	Code      string    `json:"code,omitempty"`
	Channel   string    `json:"channel,omitempty"` // Where it is shared: "moments", "poster", …
	Inviter   string    `json:"inviter,omitempty"` // A member id.
	CreatedAt time.Time `json:"created_at"`
}

// MaxTarget is the longest target a link takes, in bytes.
const MaxTarget = 1024

// idFormat is how a link's id looks: 2^40 ids, matched whatever case.
var idFormat = codes.Format{Length: 8}

// Service makes, resolves and addresses short links.
type Service struct {
	st       store.Store
	now      func() time.Time
	random   io.Reader
	prefix   string
	defaults Domains
}

// Option configures a Service.
type Option func(*Service)

// WithDomains sets the domains in force until an operator sets others
// (configuration): host names as Domains.Validate takes them.
func WithDomains(primary, backup string) Option {
	return func(s *Service) { s.defaults = Domains{Primary: primary, Backup: backup} }
}

// WithPrefix sets the path under which links are served (default "/s/"),
// slashes added at either end when missing. The function serving redirects
// mounts the same prefix.
func WithPrefix(prefix string) Option {
	return func(s *Service) { s.prefix = strings.TrimSuffix("/"+strings.Trim(prefix, "/"), "/") + "/" }
}

// New returns a short-link service over st; random is crypto/rand.Reader in
// production.
func New(st store.Store, now func() time.Time, random io.Reader, opts ...Option) *Service {
	s := &Service{st: st, now: now, random: random, prefix: "/s/"}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Prefix is the path under which links are served, e.g. "/s/".
func (s *Service) Prefix() string { return s.prefix }

func linkKey(id string) store.Key { return store.K("shortlink#"+id, "link") }

// shareKey finds a link by its share: what it leads to and on whose behalf.
func shareKey(l Link) store.Key {
	b, _ := json.Marshal([]string{l.Inviter, l.Code, l.Channel, l.Target})
	sum := sha256.Sum256(b)
	return store.K("shortlink#share#"+hex.EncodeToString(sum[:]), "link")
}

// PlanCreate validates l and returns the link of its share with the
// mutations that create it, for a command that writes them with its own
// effects: the existing link and no mutations when the share (the same
// inviter, code, channel and target) has one, else a new link with a fresh
// id, both items written if absent. A write that then fails with
// errs.Conflict lost a race or drew a taken id: plan again. An unusable
// link is errs.Invalid.
func (s *Service) PlanCreate(ctx context.Context, l Link) (Link, []store.Mutation, error) {
	const op = "shortlink.PlanCreate"
	if p := l.problem(); p != "" {
		return Link{}, nil, errs.E(op, errs.Invalid, p)
	}
	var had Link
	_, err := store.GetJSON(ctx, s.st, shareKey(l), &had)
	if err == nil {
		return had, nil, nil
	}
	if !errs.Is(errs.NotExist, err) {
		return Link{}, nil, errs.E(op, err)
	}
	ids, err := codes.Generate(s.random, idFormat, 1)
	if err != nil {
		return Link{}, nil, errs.E(op, err)
	}
	l.ID, l.CreatedAt = ids[0], s.now().UTC()
	return l, []store.Mutation{
		store.PutJSON(linkKey(l.ID), l).IfAbsent(),
		store.PutJSON(shareKey(l), l).IfAbsent(),
	}, nil
}

// Create returns the link of l's share, making it when the share has none,
// so a member who shares twice gets one link; concurrent calls for one
// share agree on one. It fails with errs.Invalid for an unusable link (a
// target neither https nor a mini-program path, a code Normalize refuses,
// an over-long channel or inviter) and errs.Transient when races or taken
// ids outlast its tries.
func (s *Service) Create(ctx context.Context, l Link) (Link, error) {
	const op = "shortlink.Create"
	for range (retry.Policy{}).Tries(ctx, 8) {
		got, ms, err := s.PlanCreate(ctx, l)
		if err != nil || len(ms) == 0 {
			return got, err
		}
		err = s.st.Write(ctx, ms...)
		if err == nil {
			return got, nil
		}
		if !errs.Is(errs.Conflict, err) {
			return Link{}, errs.E(op, err)
		}
	}
	return Link{}, errs.E(op, errs.Transient, "the short link could not be made; try again")
}

// Resolve returns the link with id (in any case). An unknown or malformed
// id is errs.NotExist; a malformed one never reaches the store.
func (s *Service) Resolve(ctx context.Context, id string) (Link, error) {
	const op = "shortlink.Resolve"
	id, ok := canonicalID(id)
	if !ok {
		return Link{}, errs.E(op, errs.NotExist, "no such link")
	}
	var l Link
	if _, err := store.GetJSON(ctx, s.st, linkKey(id), &l); errs.Is(errs.NotExist, err) {
		return Link{}, errs.E(op, errs.NotExist, "no such link", err)
	} else if err != nil {
		return Link{}, errs.E(op, err)
	}
	return l, nil
}

// canonicalID is id in the case links are stored under, if it can be one.
func canonicalID(id string) (string, bool) {
	if len(id) != idFormat.Length {
		return "", false
	}
	id = idFormat.Canonical(id)
	for i := range len(id) {
		if strings.IndexByte(codes.DefaultCharset, id[i]) < 0 {
			return "", false
		}
	}
	return id, true
}

// problem says what makes l unusable, or "".
func (l Link) problem() string {
	if !validTarget(l.Target) {
		return "link target must be an https URL or a mini-program path of at most 1024 printable ASCII characters"
	}
	if c, ok := codes.Normalize(l.Code); l.Code != "" && (!ok || c != l.Code) {
		return "link code is not an invite code"
	}
	if !plain(l.Channel) {
		return "link channel must be at most 64 letters, digits and _-:."
	}
	if p := text.Problem(l.Inviter, 64); p != "" {
		return "link inviter " + p
	}
	return ""
}

// validTarget reports whether t is an https URL with a host and no user,
// or a mini-program path: segments of [A-Za-z0-9_.-] (no "." or "..")
// with an optional leading '/' and query; printable ASCII either way.
func validTarget(t string) bool {
	if t == "" || len(t) > MaxTarget {
		return false
	}
	for i := range len(t) {
		if t[i] <= ' ' || t[i] > '~' {
			return false
		}
	}
	if rest, ok := strings.CutPrefix(t, "https://"); ok {
		u, err := url.Parse(t)
		host, _, _ := strings.Cut(rest, "/")
		host, _, _ = strings.Cut(host, "?")
		return err == nil && u.User == nil && u.Host == host && validHost(host)
	}
	path, query, _ := strings.Cut(strings.TrimPrefix(t, "/"), "?")
	if strings.ContainsAny(query, "#<>\"'`\\{}|^") {
		return false
	}
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "" || seg == "." || seg == ".." || !plainPath(seg) {
			return false
		}
	}
	return true
}

func plainPath(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// plain reports whether s is a channel: at most 64 of [A-Za-z0-9_:.-].
func plain(s string) bool { return len(s) <= 64 && plainPath(strings.ReplaceAll(s, ":", "")) }
