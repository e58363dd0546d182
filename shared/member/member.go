// Package member is the identity graph: one member per person, however many
// ways the person arrives. A member owns identities (an openid per app, a
// unionid, WeCom external user ids, a phone), each recorded as an index item
// that points to the member and is written in the same atomic write as the
// member, so a lookup is never stale and two concurrent arrivals of the same
// new person create exactly one member.
package member

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/text"
)

// Status is a member's lifecycle state.
type Status string

// The statuses.
const (
	Active   Status = "active"
	Archived Status = "archived" // Inactive for long; kept, restored on next login.
	Merged   Status = "merged"   // Merged into another member (MergedInto).
)

// IdentityKind names a kind of identity.
type IdentityKind string

// The identity kinds.
const (
	OpenID   IdentityKind = "openid"   // Per app: Scope is the appid.
	UnionID  IdentityKind = "unionid"  // Across the merchant's apps.
	External IdentityKind = "external" // WeCom external_userid: Scope is the corp id.
	Phone    IdentityKind = "phone"    // Value is the keyed hash of the phone, never the number.
)

// Identity is one way to recognise a person.
type Identity struct {
	Kind  IdentityKind `json:"kind"`
	Scope string       `json:"scope,omitempty"`
	Value string       `json:"value"`
}

// Channel is what brought a member: a channel kind ("mini-program",
// "oa-qr", "wecom", "share", "import", …), a value (scene, state, code,
// campaign) and, when known, the inviting member.
type Channel struct {
	Kind    string            `json:"kind"`
	Value   string            `json:"value,omitempty"`
	Inviter string            `json:"inviter,omitempty"`
	UTM     map[string]string `json:"utm,omitempty"`
	// Claimed marks a channel the client reported (its launch scene, a
	// share, UTM parameters) rather than one a verified source set: good
	// for statistics, never a reason to pay anyone.
	Claimed bool `json:"claimed,omitempty"`
}

// MaxUTM bounds a channel's UTM parameters.
const MaxUTM = 8

// Problem says what is wrong with a channel's free text — its value, inviter
// and UTM parameters, each bounded plain text — or "" when nothing is, so
// that a channel stays small wherever it is copied (a member's profile, a
// scene).
func (c Channel) Problem() string {
	if p := text.Problem(c.Value, 128); p != "" {
		return "channel.value " + p
	}
	if p := text.Problem(c.Inviter, 64); p != "" {
		return "channel.inviter " + p
	}
	if len(c.UTM) > MaxUTM {
		return fmt.Sprintf("channel.utm takes at most %d parameters", MaxUTM)
	}
	for k, v := range c.UTM {
		if p := text.Problem(k, 32); p != "" || k == "" {
			return "channel.utm keys must be 1..32 bytes of plain text"
		}
		if p := text.Problem(v, 128); p != "" {
			return "channel.utm values " + p
		}
	}
	return ""
}

// Consent is a recorded privacy-agreement consent.
type Consent struct {
	Version string    `json:"version"`
	At      time.Time `json:"at"`
	Channel string    `json:"channel"`
}

// Member is a person's membership record.
type Member struct {
	ID         string    `json:"id"`
	Status     Status    `json:"status"`
	MergedInto string    `json:"merged_into,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	ActiveAt   time.Time `json:"active_at"`
	Nickname   string    `json:"nickname,omitempty"`
	Avatar     string    `json:"avatar,omitempty"`
	Channel    Channel   `json:"channel"`
	// Attributions are the channels of members merged into this one.
	Attributions []Channel  `json:"attributions,omitempty"`
	Identities   []Identity `json:"identities"`
	PhoneSeal    string     `json:"phone_seal,omitempty"` // E.164 (+8613800138000), sealed with pii.Box; never shown unmasked.
	PhoneMask    string     `json:"phone_mask,omitempty"`
	NameSeal     string     `json:"name_seal,omitempty"` // Imported real name, sealed.
	Imported     bool       `json:"imported,omitempty"`  // Created by an offline import, not yet claimed.
	// BirthdaySeal is the birthday ("MM-DD"), sealed; given only with consent.
	BirthdaySeal string   `json:"birthday_seal,omitempty"`
	Gender       string   `json:"gender,omitempty"`
	Consent      *Consent `json:"consent,omitempty"`
	Welcomed     bool     `json:"welcomed,omitempty"` // Registration rewards granted.
}

// Has reports whether the member owns an identity.
func (m *Member) Has(id Identity) bool {
	for _, x := range m.Identities {
		if x == id {
			return true
		}
	}
	return false
}

// OpenIDFor returns the member's openid under an app, if any.
func (m *Member) OpenIDFor(appID string) string {
	for _, x := range m.Identities {
		if x.Kind == OpenID && x.Scope == appID {
			return x.Value
		}
	}
	return ""
}

// The store layout this package owns.
const profileSK = "profile"

// Partition is a member's partition key; other packages keep the member's
// points, coupons and history under it with their own sort keys.
func Partition(id string) string { return "member#" + id }

func profileKey(id string) store.Key { return store.K(Partition(id), profileSK) }

func indexKey(id Identity) store.Key {
	return store.K("ident#"+string(id.Kind)+"#"+id.Scope+"#"+id.Value, "ident")
}

// indexEntry is the data of an identity index item.
type indexEntry struct {
	MemberID string `json:"member_id"`
}

// NewID returns a fresh, unguessable member id: "m" and 20 base32 characters.
func NewID() string {
	var b [13]byte
	rand.Read(b[:])
	return "m" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))[:20]
}
