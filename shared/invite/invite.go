// Package invite is referral by invitation codes (邀请码 / 裂变): the codes
// themselves (kinds and formats as data, issued by operators in batches or to
// members on demand), their redemption (every check, with the reason of a
// refusal), the binding of an invitee to one inviter with the ancestor chain
// stored on the member, and the rewards of both sides, each granted exactly
// once through the loyalty and coupon ledgers.
//
// A leaked table reveals neither codes nor relations: a code is found by a
// keyed hash of its text (pii.Box.Hash) and its text is kept sealed
// (pii.Box.Seal), shown to its owner only.
package invite

import (
	"crypto/rand"
	"io"
	"time"

	"github.com/wemember/wemember/shared/cached"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/store"
)

// Service issues and redeems invitation codes.
type Service struct {
	st      store.Store
	box     *pii.Box
	members *member.Service
	loyalty *loyalty.Service
	coupons *coupons.Service
	now     func() time.Time
	newID   func() string
	random  io.Reader // Crypto randomness for codes.
	rules   cached.Value[Rules]
	redeemer
}

// Option adjusts a Service.
type Option func(*Service)

// WithRandom sets the source of code randomness (crypto/rand by default);
// tests make it deterministic.
func WithRandom(r io.Reader) Option { return func(s *Service) { s.random = r } }

// New returns the invitation service over a store, sealing and hashing
// codes with box; rewards go through the loyalty and coupon services.
func New(st store.Store, box *pii.Box, members *member.Service, l *loyalty.Service, c *coupons.Service,
	now func() time.Time, newID func() string, opts ...Option) *Service {
	s := &Service{st: st, box: box, members: members, loyalty: l, coupons: c, now: now, newID: newID,
		random: rand.Reader}
	s.turns = store.NewTurns(0, 0)
	for _, o := range opts {
		o(s)
	}
	return s
}
