package invite

import (
	"context"
	"encoding/json"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// endPage is how many of a campaign's codes one atomic write settles
// (three mutations a code: the code, its campaign entry, its due or pool
// item).
const endPage = store.MaxWrite / 3

// EndCampaigns settles the campaigns whose window ended by now: each
// member's campaign code becomes an ordinary code of its owner (kind
// registration, no window, FromCampaign set, the registration validity
// from now, extended by shares like any), each unclaimed pool code is
// archived; then the campaign is marked Ended. Codes are settled a page to
// an atomic write, each conditioned on the code's version, and removed from
// the campaign's list as they are, so a run stopped at limit codes (or its
// deadline) is continued by the next, and a repeated run changes nothing.
// It reports how many codes it changed and whether work remains.
func (s *Service) EndCampaigns(ctx context.Context, now time.Time, limit int) (int, bool, error) {
	const op = "invite.EndCampaigns"
	if limit <= 0 {
		return 0, false, errs.E(op, errs.Invalid, "limit must be positive")
	}
	now = now.UTC().Truncate(time.Second)
	rules, err := s.Rules(ctx)
	if err != nil {
		return 0, false, errs.E(op, err)
	}
	page, err := s.st.Query(ctx, store.Query{PK: campaignEndPK, Before: stamp(now.Add(time.Second)), Limit: 100})
	if err != nil {
		return 0, false, errs.E(op, err)
	}
	done := 0
	for _, it := range page.Items {
		var ref codeRef
		if err := json.Unmarshal(it.Data, &ref); err != nil {
			return done, false, errs.E(op, errs.Internal, err)
		}
		n, finished, err := s.endCampaign(ctx, op, ref.ID, it.Key, rules, now, limit-done)
		done += n
		if err != nil {
			if ctx.Err() != nil {
				return done, true, nil
			}
			return done, false, err
		}
		if !finished {
			return done, true, nil
		}
	}
	return done, page.Next != "", nil
}

// endCampaign settles up to limit codes of an ended campaign, and the
// campaign itself once none is left.
func (s *Service) endCampaign(ctx context.Context, op, id string, endItem store.Key, rules Rules, now time.Time, limit int) (int, bool, error) {
	done := 0
	for tries := 0; ; {
		if done >= limit || ctx.Err() != nil {
			return done, false, nil
		}
		page, err := s.st.Query(ctx, store.Query{PK: campaignCodesPK(id), Prefix: "c#", Limit: min(endPage, limit-done)})
		if err != nil {
			return done, false, errs.E(op, err)
		}
		if len(page.Items) == 0 {
			break
		}
		n, err := s.settlePage(ctx, page.Items, now, func(_ store.Item, c Code, ver int64, now time.Time) []store.Mutation {
			return endMutations(c, ver, rules, now)
		})
		if errs.Is(errs.Conflict, err) && tries < changeTries {
			tries++ // A claim or another run changed a code: read again.
			continue
		}
		if err != nil {
			return done, false, errs.E(op, err)
		}
		done += n
	}
	cp, ver, err := s.campaign(ctx, op, id)
	if errs.Is(errs.NotExist, err) {
		return done, true, s.st.Write(ctx, store.Delete(endItem))
	}
	if err != nil {
		return done, false, err
	}
	cp.Ended, cp.Version, cp.UpdatedAt, cp.UpdatedBy = true, cp.Version+1, now, "sweep"
	err = s.st.Write(ctx, store.PutJSON(campaignKey(id), cp).IfVersion(ver), store.Delete(endItem))
	if err != nil && !errs.Is(errs.Conflict, err) {
		return done, false, errs.E(op, err)
	}
	return done, err == nil, nil
}

// endMutations turn a campaign code into its owner's ordinary code, or
// archive an unclaimed one with its pool item.
func endMutations(c Code, ver int64, rules Rules, now time.Time) []store.Mutation {
	if ver == 0 || c.Campaign == "" {
		return nil
	}
	camp := c.Campaign
	c.UpdatedAt = now
	if c.Owner == "" {
		c.Status = Archived
		return []store.Mutation{store.PutJSON(codeKey(c.ID), c).IfVersion(ver), store.Delete(poolKey(camp, c.ID))}
	}
	kr := rules.Kinds[KindRegistration]
	c.Kind, c.FromCampaign, c.Campaign, c.StartsAt, c.EndsAt = KindRegistration, camp, "", time.Time{}, time.Time{}
	ms := []store.Mutation{}
	if kr.Validity > 0 && c.Status == Active {
		c.ExpiresAt = now.Add(kr.Validity.D())
		ms = append(ms, store.PutJSON(dueKey(c.ExpiresAt, c.ID), codeRef{c.ID}))
	}
	return append(ms, store.PutJSON(codeKey(c.ID), c).IfVersion(ver))
}
