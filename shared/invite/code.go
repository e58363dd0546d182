package invite

import (
	"context"
	"encoding/json"
	"time"

	"github.com/wemember/wemember/shared/codes"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/store"
)

// Status is where a code is in its life.
type Status string

// The code statuses.
const (
	Active   Status = "active"
	Expired  Status = "expired"  // Past its validity (the sweep marks it; reads check the time).
	Archived Status = "archived" // Reset by an operator (enterprise codes) or rotated (WeCom).
)

// Code is an invitation code as stored. Its text is sealed; ID is the keyed
// hash of the canonical text, the only form in keys, shares and logs.
type Code struct {
	ID        string    `json:"id"`
	Kind      Kind      `json:"kind"`
	Seal      string    `json:"seal"`               // The code text, sealed (pii.Box).
	Owner     string    `json:"owner,omitempty"`    // The inviting member; "" for an operator's code.
	Campaign  string    `json:"campaign,omitempty"` // The campaign it belongs to, if any.
	Channel   string    `json:"channel,omitempty"`  // Attribution carried by the code.
	Status    Status    `json:"status"`
	Cap       int64     `json:"cap,omitempty"` // Redemptions allowed; 0: no cap.
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"` // The operator of a manual batch.
	// ExpiresAt ends the code; zero: no expiry. Sharing an ordinary
	// registration code moves it (KindRule.ExtendOnShare).
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// StartsAt and EndsAt are a campaign code's window.
	StartsAt time.Time `json:"starts_at,omitzero"`
	EndsAt   time.Time `json:"ends_at,omitzero"`
	// Batch is the operator's batch the code was made in, if any.
	Batch string `json:"batch,omitempty"`
	// RotateAt is when a periodic (WeCom) code is replaced by its next one.
	RotateAt time.Time `json:"rotate_at,omitzero"`
	// ReplacedBy is the id of the code that replaced this one (a reset or
	// a rotation).
	ReplacedBy string `json:"replaced_by,omitempty"`
	// FromCampaign is the campaign an ordinary code came from: a campaign
	// code becomes its owner's ordinary code when the campaign ends.
	FromCampaign string    `json:"from_campaign,omitempty"`
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
}

// Live reports whether the code can be redeemed at now as far as its own
// record says: active, not past its expiry, within its window.
func (c Code) Live(now time.Time) bool {
	return c.Status == Active && (c.ExpiresAt.IsZero() || now.Before(c.ExpiresAt)) &&
		(c.StartsAt.IsZero() || !now.Before(c.StartsAt)) && (c.EndsAt.IsZero() || now.Before(c.EndsAt))
}

// Partition keys. A code's items live in its own partition; a member's
// referral and own codes in the member's partition.
func codePK(id string) string { return "invcode#" + id }

// codeKey is the code record, found by the keyed hash of its text.
func codeKey(id string) store.Key { return store.K(codePK(id), "code") }

// usesKey counts a code's redemptions (an atomic add capped at Code.Cap).
func usesKey(id string) store.Key { return store.K(codePK(id), "uses") }

// ownCodeKey indexes a member's own code of a campaign ("" for the
// member's ordinary code): one per member per campaign.
func ownCodeKey(memberID string, kind Kind, campaign string) store.Key {
	return store.K(member.Partition(memberID), "invown#"+string(kind)+"#"+campaign)
}

// referralKey is a member's referral: who invited it and its ancestors.
func referralKey(memberID string) store.Key { return store.K(member.Partition(memberID), "referral") }

// inviteesPK lists an inviter's invitees in binding order.
func inviteesPK(inviter string) string { return "invitees#" + inviter }

// CodeID is the keyed hash that finds a code by its canonical text (as
// issued); ok is false for text that no code can be.
func (s *Service) CodeID(text string) (string, bool) {
	canon, ok := codes.Normalize(text)
	if !ok {
		return "", false
	}
	return s.box.Hash("invite-code", canon), true
}

// Lookup finds a code by its text as a person typed or pasted it, as stored
// with its version: the text as typed finds a case-sensitive code, its
// upper case a code that ignores case (codes.Candidates), both in one read.
// It fails with errs.NotExist for text no code has (malformed included).
func (s *Service) Lookup(ctx context.Context, text string) (Code, int64, error) {
	const op = "invite.Lookup"
	canon, ok := codes.Normalize(text)
	if !ok {
		return Code{}, 0, errs.E(op, errs.NotExist, "unknown code")
	}
	cands := codes.Candidates(canon)
	ks := make([]store.Key, len(cands))
	for i, c := range cands {
		ks[i] = codeKey(s.box.Hash("invite-code", c))
	}
	its, err := s.st.GetMany(ctx, ks, store.Strong)
	if err != nil {
		return Code{}, 0, errs.E(op, err)
	}
	for _, it := range its {
		if !it.Found() {
			continue
		}
		var c Code
		if err := json.Unmarshal(it.Data, &c); err != nil {
			return Code{}, 0, errs.E(op, errs.Internal, "code record is unreadable", err)
		}
		return c, it.Version, nil
	}
	return Code{}, 0, errs.E(op, errs.NotExist, "unknown code")
}

// typedID is the id of the code a person typed: the id of its one
// canonical form, or, when the text could be a code of either case rule,
// the id of the code found (Lookup). ok is false for text no code has.
func (s *Service) typedID(ctx context.Context, text string) (id string, ok bool, err error) {
	canon, ok := codes.Normalize(text)
	if !ok {
		return "", false, nil
	}
	if len(codes.Candidates(canon)) == 1 {
		return s.box.Hash("invite-code", canon), true, nil
	}
	c, _, err := s.Lookup(ctx, canon)
	if errs.Is(errs.NotExist, err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return c.ID, true, nil
}

// code reads a code record by id.
func (s *Service) code(ctx context.Context, op, id string) (Code, int64, error) {
	var c Code
	it, err := store.GetJSON(ctx, s.st, codeKey(id), &c)
	if errs.Is(errs.NotExist, err) {
		return Code{}, 0, errs.E(op, errs.NotExist, "unknown code")
	}
	if err != nil {
		return Code{}, 0, errs.E(op, err)
	}
	return c, it.Version, nil
}

// Text opens a code's sealed text, for its owner or an operator.
func (s *Service) Text(c Code) (string, error) { return s.box.Open(c.Seal) }
