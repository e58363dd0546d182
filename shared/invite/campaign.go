package invite

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wemember/wemember/shared/codes"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// MaxPool is the largest pool of ready codes a campaign keeps.
const MaxPool = 1000

// Campaign is a referral campaign: its codes carry a brand prefix and the
// campaign's window, one per member (join once), handed out from a pool of
// ready codes that refills itself. When the window ends the sweep turns
// the members' codes into ordinary codes and archives the unclaimed ones.
type Campaign struct {
	ID         string        `json:"id"`
	Name       string        `json:"name"`
	Format     *codes.Format `json:"format,omitempty"` // The brand's format; nil: the campaign kind's.
	StartsAt   time.Time     `json:"starts_at"`
	EndsAt     time.Time     `json:"ends_at"`
	CapPerCode int64         `json:"cap_per_code,omitempty"` // Redemptions per code; 0: no cap.
	PoolSize   int           `json:"pool_size,omitempty"`    // Ready codes kept; 0: codes are made on demand.
	Coupon     string        `json:"coupon,omitempty"`       // Coupon template of the campaign's reward.
	// Ended says the sweep has turned the campaign's codes (EndCampaigns).
	Ended     bool      `json:"ended,omitempty"`
	Version   int64     `json:"version"` // The stored version; SaveCampaign requires the current one (0: new).
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

func campaignKey(id string) store.Key { return store.K("invcamp#"+id, "campaign") }

// campaignCodesPK lists a campaign's codes, for its end.
func campaignCodesPK(id string) string { return "invcampcodes#" + id }

func campaignCodeKey(campaign, codeID string) store.Key {
	return store.K(campaignCodesPK(campaign), "c#"+codeID)
}

// campaignEndPK indexes campaigns by their end, for the sweeps.
const campaignEndPK = "invcampend"

// campaignEndKey indexes campaigns by their end, for the sweep.
func campaignEndKey(c Campaign) store.Key {
	return store.K(campaignEndPK, stamp(c.EndsAt)+"#"+c.ID)
}

// SaveCampaign creates a campaign (c.Version 0) or changes one (c.Version
// the current version; errs.Conflict when stale). A campaign's window and
// format are fixed once saved; its name, cap, pool size and coupon may
// change. Bad input is errs.Invalid.
func (s *Service) SaveCampaign(ctx context.Context, c Campaign, operator string) (Campaign, error) {
	const op = "invite.SaveCampaign"
	if operator == "" {
		return Campaign{}, errs.E(op, errs.Invalid, "operator is required")
	}
	if err := c.validate(op); err != nil {
		return Campaign{}, err
	}
	c.StartsAt, c.EndsAt = c.StartsAt.UTC().Truncate(time.Second), c.EndsAt.UTC().Truncate(time.Second)
	ms := []store.Mutation{}
	if c.Version > 0 {
		cur, _, err := s.campaign(ctx, op, c.ID)
		if err != nil {
			return Campaign{}, err
		}
		if cur.Version != c.Version {
			return Campaign{}, errs.E(op, errs.Conflict, "the campaign changed meanwhile; reload it")
		}
		if !cur.StartsAt.Equal(c.StartsAt) || !cur.EndsAt.Equal(c.EndsAt) || !sameFormat(cur.Format, c.Format) {
			return Campaign{}, errs.E(op, errs.Invalid, "a campaign's window and format are fixed once saved")
		}
		if cur.Ended {
			return Campaign{}, errs.E(op, errs.Invalid, "the campaign has ended")
		}
	} else {
		if !c.EndsAt.After(s.now()) {
			return Campaign{}, errs.E(op, errs.Invalid, "the campaign would have ended already")
		}
		ms = append(ms, store.PutJSON(campaignEndKey(c), codeRef{c.ID}))
	}
	prev := c.Version
	c.Version++
	c.UpdatedAt, c.UpdatedBy = s.now().UTC(), operator
	ms = append(ms, store.PutJSON(campaignKey(c.ID), c).IfVersion(prev))
	if err := s.st.Write(ctx, ms...); err != nil {
		if errs.Is(errs.Conflict, err) {
			return Campaign{}, errs.E(op, errs.Conflict, "the campaign changed meanwhile; reload it", err)
		}
		return Campaign{}, errs.E(op, err)
	}
	return c, nil
}

func (c Campaign) validate(op string) error {
	switch {
	case c.ID == "" || len(c.ID) > 64 || strings.ContainsAny(c.ID, "#\x00") || !utf8.ValidString(c.ID):
		return errs.E(op, errs.Invalid, "id must be 1..64 bytes of text without '#'")
	case strings.TrimSpace(c.Name) == "":
		return errs.E(op, errs.Invalid, "name is required")
	case c.StartsAt.IsZero() || !c.EndsAt.After(c.StartsAt):
		return errs.E(op, errs.Invalid, "the campaign must end after it starts")
	case c.CapPerCode < 0:
		return errs.E(op, errs.Invalid, "cap_per_code must not be negative")
	case c.PoolSize < 0 || c.PoolSize > MaxPool:
		return errs.E(op, errs.Invalid, "pool_size must be 0..1000")
	case c.Version < 0:
		return errs.E(op, errs.Invalid, "version must not be negative")
	}
	if c.Format != nil {
		if err := c.Format.Validate(); err != nil {
			return errs.E(op, errs.Invalid, "format: "+errs.SafeMessage(err))
		}
	}
	return nil
}

func sameFormat(a, b *codes.Format) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// Campaign returns a campaign.
func (s *Service) Campaign(ctx context.Context, id string) (Campaign, error) {
	c, _, err := s.campaign(ctx, "invite.Campaign", id)
	return c, err
}

func (s *Service) campaign(ctx context.Context, op, id string) (Campaign, int64, error) {
	if id == "" || strings.Contains(id, "\x00") {
		return Campaign{}, 0, errs.E(op, errs.NotExist, "unknown campaign")
	}
	var c Campaign
	it, err := store.GetJSON(ctx, s.st, campaignKey(id), &c)
	if errs.Is(errs.NotExist, err) {
		return Campaign{}, 0, errs.E(op, errs.NotExist, "unknown campaign")
	}
	if err != nil {
		return Campaign{}, 0, errs.E(op, err)
	}
	return c, it.Version, nil
}

// campaignFormat is the format of a campaign's codes.
func campaignFormat(c Campaign, rules Rules) codes.Format {
	if c.Format != nil {
		return *c.Format
	}
	return rules.Kinds[KindCampaign].Format
}
