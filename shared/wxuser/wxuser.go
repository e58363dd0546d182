// Package wxuser is what WeChat's platforms answer about a user, as plain
// values free of any SDK: a mini-program login session, an Official Account
// follower, a WeCom external contact, and an errcode answer. Package wechat
// fills them in; handlers take them without linking the SDK.
//
// Session keys, names and unionids are personal data: every type here
// redacts them when printed or logged.
package wxuser

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// SessionKey is a mini-program session_key: the key that decrypts the data a
// mini-program hands its server. It prints, logs and marshals as
// "[redacted]"; only Reveal gives the key.
type SessionKey struct{ v string }

// NewSessionKey wraps a session_key, e.g. in a fake client or an adapter.
func NewSessionKey(v string) SessionKey { return SessionKey{v: v} }

const redacted = "[redacted]"

// Reveal returns the key itself. Never log it or send it to a client.
func (k SessionKey) Reveal() string { return k.v }

// IsZero reports whether there is no key.
func (k SessionKey) IsZero() bool { return k.v == "" }

// String redacts the key for fmt.
func (k SessionKey) String() string { return redacted }

// GoString redacts the key for %#v.
func (k SessionKey) GoString() string { return "wxuser.SessionKey(" + redacted + ")" }

// LogValue redacts the key for slog.
func (k SessionKey) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON redacts the key for encoding/json.
func (k SessionKey) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// Session is what code2session tells about the user behind a js_code.
type Session struct {
	OpenID     string     // The user's id in this mini-program.
	UnionID    string     // The user's id across the Open Platform account's apps; may be empty.
	SessionKey SessionKey // Redacted when printed or logged.
}

// LogValue logs the openid and whether there is a unionid; the unionid
// itself and the key never reach a log.
func (s Session) LogValue() slog.Value {
	return slog.GroupValue(slog.String("openid", s.OpenID), slog.Bool("has_unionid", s.UnionID != ""),
		slog.String("session_key", redacted))
}

// OAUser is what the Official Account knows of a user (cgi-bin/user/info).
type OAUser struct {
	OpenID     string
	UnionID    string    // Empty unless the account is bound to the Open Platform account.
	Subscribed bool      // Follows the account now; if not, only the ids are known.
	Since      time.Time // The last follow (subscribe_time); zero if not subscribed.
	Scene      string    // subscribe_scene, e.g. "ADD_SCENE_QR_CODE".
	QRScene    int       // qr_scene: the scene_id of the parameterized QR code followed through.
	QRSceneStr string    // qr_scene_str: its scene string, e.g. an invite code.
}

// LogValue logs the openid and the follow, never the unionid.
func (u OAUser) LogValue() slog.Value {
	return slog.GroupValue(slog.String("openid", u.OpenID), slog.Bool("subscribed", u.Subscribed),
		slog.String("scene", u.Scene))
}

// Contact is a WeCom external contact: a customer who added corp members.
type Contact struct {
	ExternalUserID string
	UnionID        string // Empty unless the corp is bound to the Open Platform account and the contact is a WeChat user.
	Name           string // The customer's WeChat name: personal data, never log it.
	Type           int    // 1: a WeChat user; 2: a WeCom user.
	FollowUsers    []FollowUser
}

// FollowUser is a corp member the contact added.
type FollowUser struct {
	UserID  string    // The member's userid, e.g. a sales rep.
	State   string    // The contact way's state: the channel or inviter the add came through.
	AddedAt time.Time // createtime.
}

// LogValue logs the ids and the members, never the name or the unionid.
func (c Contact) LogValue() slog.Value {
	ids := make([]string, 0, len(c.FollowUsers))
	for _, f := range c.FollowUsers {
		ids = append(ids, f.UserID)
	}
	return slog.GroupValue(slog.String("external_userid", c.ExternalUserID), slog.Any("follow_users", ids))
}

// APIError is a WeChat errcode answer, rendered without the request's URL.
type APIError struct {
	API     string
	ErrCode int64
	ErrMsg  string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s: errcode=%d errmsg=%q", e.API, e.ErrCode, e.ErrMsg)
}

// ErrCode reports the WeChat errcode along err's chain, or 0.
func ErrCode(err error) int64 {
	var a *APIError
	if errors.As(err, &a) {
		return a.ErrCode
	}
	return 0
}
