// Package session issues and verifies member session tokens: a member id and
// an expiry, signed with HMAC-SHA256 under a configured secret. A token says
// nothing about the member beyond the id (no openid, no session_key).
package session

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/errs"
)

// Claims is what a valid token vouches for.
type Claims struct {
	MemberID string    `json:"sub"`
	Issued   time.Time `json:"-"`
	Expires  time.Time `json:"-"`
}

type wire struct {
	Sub string `json:"sub"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
}

// Issuer signs and verifies tokens.
type Issuer struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
}

// NewIssuer returns an issuer; secret must be at least 32 bytes.
func NewIssuer(secret []byte, ttl time.Duration, now func() time.Time) (*Issuer, error) {
	if len(secret) < 32 {
		return nil, errs.E("session.NewIssuer", errs.Invalid, "session secret shorter than 32 bytes")
	}
	return &Issuer{secret: secret, ttl: ttl, now: now}, nil
}

const prefix = "wm1."

// Issue returns a session token for memberID and its expiry.
func (i *Issuer) Issue(memberID string) (string, time.Time) {
	return i.issue(prefix, memberID, i.ttl)
}

// IssueScoped returns a short-lived token for another purpose (scope), such
// as a coupon QR code a clerk scans. A scoped token is never a session
// token, nor a token of another scope.
func (i *Issuer) IssueScoped(scope, subject string, ttl time.Duration) (string, time.Time) {
	return i.issue(scopePrefix(scope), subject, ttl)
}

// VerifyScoped checks a token made by IssueScoped for the same scope.
func (i *Issuer) VerifyScoped(scope, token string) (Claims, error) {
	return i.verify(scopePrefix(scope), token, "invalid "+scope+" token", scope+" token expired")
}

func scopePrefix(scope string) string { return "ws1." + scope + "." }

func (i *Issuer) issue(pfx, subject string, ttl time.Duration) (string, time.Time) {
	now := i.now()
	exp := now.Add(ttl)
	payload, _ := json.Marshal(wire{Sub: subject, Iat: now.Unix(), Exp: exp.Unix()}) // Cannot fail.
	body := base64.RawURLEncoding.EncodeToString(payload)
	return pfx + body + "." + i.sign(pfx, body), time.Unix(exp.Unix(), 0)
}

func (i *Issuer) sign(pfx, body string) string {
	m := hmac.New(sha256.New, i.secret)
	m.Write([]byte(pfx + body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Verify checks a session token's signature and expiry. A malformed or
// forged token is errs.Unauthorized "invalid session token"; an expired one
// is errs.Unauthorized "session expired".
func (i *Issuer) Verify(token string) (Claims, error) {
	return i.verify(prefix, token, "invalid session token", "session expired")
}

func (i *Issuer) verify(pfx, token, invalidMsg, expiredMsg string) (Claims, error) {
	const op = "session.Verify"
	invalid := errs.E(op, errs.Unauthorized, invalidMsg)
	rest, ok := strings.CutPrefix(token, pfx)
	if !ok || len(token) > 1024 {
		return Claims{}, invalid
	}
	body, sig, ok := strings.Cut(rest, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(i.sign(pfx, body))) {
		return Claims{}, invalid
	}
	payload, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return Claims{}, invalid
	}
	var w wire
	if err := json.Unmarshal(payload, &w); err != nil || w.Sub == "" {
		return Claims{}, invalid
	}
	if !i.now().Before(time.Unix(w.Exp, 0)) {
		return Claims{}, errs.E(op, errs.Unauthorized, expiredMsg)
	}
	return Claims{MemberID: w.Sub, Issued: time.Unix(w.Iat, 0), Expires: time.Unix(w.Exp, 0)}, nil
}

// Bearer extracts the token from an Authorization header value.
func Bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}
