package invite

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// poolPK holds a campaign's ready codes and its refill lease.
func poolPK(campaign string) string { return "invpool#" + campaign }

func poolKey(campaign, codeID string) store.Key { return store.K(poolPK(campaign), "p#"+codeID) }

func refillKey(campaign string) store.Key { return store.K(poolPK(campaign), "refill") }

// refillLease is held by the call that refills a pool, so that concurrent
// claims do not all refill it.
type refillLease struct {
	Until time.Time `json:"until"`
}

// The pool's shape: a claim picks among the first claimSpread ready codes
// at random, so that concurrent claims rarely want the same one; a refill
// lease lasts refillLeaseFor.
const (
	claimSpread    = 16
	refillLeaseFor = 30 * time.Second
)

// lowWater is the pool size under which a claim refills the pool.
func (c Campaign) lowWater() int { return max(1, c.PoolSize/4) }

// claim gives a member a campaign code: a ready one from the campaign's
// pool — the pool item removed, the code given its owner and the member's
// index item written (absent before) in one atomic write — or, when the
// pool is empty, a fresh one. A lost race is errs.Conflict: the caller
// reads the member's index again. A claim that leaves the pool below its
// low-water mark refills it (a failed refill is left to the next claim or
// the sweep). With fresh set it makes a fresh code whatever the pool holds.
func (s *Service) claim(ctx context.Context, op, memberID, campaign string, rules Rules, now time.Time, fresh bool) (Code, string, error) {
	cp, _, err := s.campaign(ctx, op, campaign)
	if err != nil {
		return Code{}, "", err
	}
	if cp.Ended || !now.Before(cp.EndsAt) {
		return Code{}, "", errs.E(op, errs.Invalid, "the campaign has ended")
	}
	idx := store.PutJSON(ownCodeKey(memberID, KindCampaign, campaign), codeRef{}).IfAbsent()
	var page store.Page
	if cp.PoolSize > 0 && !fresh {
		page, err = s.st.Query(ctx, store.Query{PK: poolPK(campaign), Prefix: "p#", Limit: max(claimSpread, cp.lowWater()+1)})
		if err != nil {
			return Code{}, "", errs.E(op, err)
		}
	}
	var c Code
	var text string
	if len(page.Items) == 0 {
		kr := rules.Kinds[KindCampaign]
		c = Code{Kind: KindCampaign, Owner: memberID, Status: Active, CreatedAt: now}
		if err := s.applyKind(ctx, op, &c, &kr, campaign, now); err != nil {
			return Code{}, "", err
		}
		texts, err := s.generate(op, kr.Format, 1)
		if err != nil {
			return Code{}, "", err
		}
		c.ID, _ = s.CodeID(texts[0])
		c.Seal, text = s.box.Seal(texts[0]), texts[0]
		idx = store.PutJSON(idx.Key, codeRef{c.ID}).IfAbsent()
		if err := s.st.Write(ctx, append(codeMutations(c), idx)...); err != nil {
			return Code{}, "", errs.E(op, err)
		}
	} else {
		pick := page.Items[rand.IntN(min(len(page.Items), claimSpread))]
		id := strings.TrimPrefix(pick.SK, "p#")
		var ver int64
		c, ver, err = s.code(ctx, op, id)
		if errs.Is(errs.NotExist, err) || err == nil && c.Owner != "" {
			// A pool item whose code is gone or taken: drop it, try again.
			_ = s.st.Write(ctx, store.Delete(pick.Key))
			return Code{}, "", errs.E(op, errs.Conflict, "pool item was stale")
		}
		if err != nil {
			return Code{}, "", err
		}
		c.Owner, c.UpdatedAt = memberID, now
		idx = store.PutJSON(idx.Key, codeRef{c.ID}).IfAbsent()
		err = s.st.Write(ctx, store.Delete(pick.Key).IfExists(), store.PutJSON(codeKey(c.ID), c).IfVersion(ver), idx)
		if err != nil {
			return Code{}, "", errs.E(op, err)
		}
		if text, err = s.Text(c); err != nil {
			return Code{}, "", errs.E(op, err)
		}
	}
	if cp.PoolSize > 0 && !fresh && len(page.Items) <= cp.lowWater() {
		_, _ = s.RefillPool(ctx, campaign)
	}
	return c, text, nil
}

// RefillPool tops a campaign's pool of ready codes up to its PoolSize, in
// atomic writes of at most store.MaxWrite mutations, and reports how many
// codes it made. One refill runs at a time per campaign (a lease); a call
// that finds the lease held, or the campaign ended, makes none.
func (s *Service) RefillPool(ctx context.Context, campaign string) (int, error) {
	const op = "invite.RefillPool"
	cp, _, err := s.campaign(ctx, op, campaign)
	if err != nil {
		return 0, err
	}
	now := s.now().UTC().Truncate(time.Second)
	if cp.Ended || !now.Before(cp.EndsAt) || cp.PoolSize == 0 {
		return 0, nil
	}
	var lease refillLease
	lit, err := store.GetJSON(ctx, s.st, refillKey(campaign), &lease)
	if err != nil && !errs.Is(errs.NotExist, err) {
		return 0, errs.E(op, err)
	}
	if lit.Found() && now.Before(lease.Until) {
		return 0, nil
	}
	err = s.st.Write(ctx, store.PutJSON(refillKey(campaign), refillLease{Until: now.Add(refillLeaseFor)}).IfVersion(lit.Version))
	if errs.Is(errs.Conflict, err) {
		return 0, nil // Another call is refilling.
	}
	if err != nil {
		return 0, errs.E(op, err)
	}
	defer s.st.Write(context.WithoutCancel(ctx), store.Delete(refillKey(campaign)))
	page, err := s.st.Query(ctx, store.Query{PK: poolPK(campaign), Prefix: "p#", Limit: cp.PoolSize})
	if err != nil {
		return 0, errs.E(op, err)
	}
	need := cp.PoolSize - len(page.Items)
	if need <= 0 {
		return 0, nil
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		return 0, errs.E(op, err)
	}
	kr := rules.Kinds[KindCampaign]
	tmpl := Code{Kind: KindCampaign, Status: Active, CreatedAt: now}
	if err := s.applyKind(ctx, op, &tmpl, &kr, campaign, now); err != nil {
		return 0, err
	}
	texts, err := s.generate(op, kr.Format, need)
	if err != nil {
		return 0, err
	}
	made := 0
	chunk := store.MaxWrite / (len(codeMutations(tmpl)) + 1)
	for start := 0; start < len(texts); start += chunk {
		part := texts[start:min(start+chunk, len(texts))]
		if err := s.writePool(ctx, op, campaign, kr, tmpl, part); err != nil {
			return made, err
		}
		made += len(part)
	}
	return made, nil
}

// writePool writes ready codes with their pool items in one atomic write,
// redrawing a text that collides with an existing code.
func (s *Service) writePool(ctx context.Context, op, campaign string, kr KindRule, tmpl Code, texts []string) error {
	for range collisionTries {
		var ms []store.Mutation
		at := map[store.Key]int{}
		for i, t := range texts {
			c := tmpl
			c.ID, _ = s.CodeID(t)
			c.Seal = s.box.Seal(t)
			at[codeKey(c.ID)] = i
			ms = append(ms, codeMutations(c)...)
			ms = append(ms, store.PutJSON(poolKey(campaign, c.ID), codeRef{c.ID}))
		}
		err := s.st.Write(ctx, ms...)
		if err == nil {
			return nil
		}
		k, _ := store.FailedKey(err)
		i, ok := at[k]
		if !errs.Is(errs.Conflict, err) || !ok {
			return errs.E(op, err)
		}
		fresh, err := s.generate(op, kr.Format, 1)
		if err != nil {
			return err
		}
		texts[i] = fresh[0]
	}
	return errs.E(op, errs.Transient, "codes of this format keep colliding; use a longer format")
}

// RefillPools refills the pool of every campaign that has not ended, for
// the sweep, and reports how many codes it made.
func (s *Service) RefillPools(ctx context.Context, now time.Time) (int, error) {
	const op = "invite.RefillPools"
	made := 0
	q := store.Query{PK: campaignEndPK, After: "", Limit: 100}
	// Campaigns ending after now, in end order ("$" sorts after "#" and an id).
	q.After = store.EncodeCursor(stamp(now.UTC().Truncate(time.Second)) + "$")
	for {
		page, err := s.st.Query(ctx, q)
		if err != nil {
			return made, errs.E(op, err)
		}
		for _, it := range page.Items {
			var ref codeRef
			if err := json.Unmarshal(it.Data, &ref); err != nil {
				return made, errs.E(op, errs.Internal, err)
			}
			n, err := s.RefillPool(ctx, ref.ID)
			made += n
			if err != nil {
				return made, err
			}
		}
		if page.Next == "" {
			return made, nil
		}
		q.After = page.Next
	}
}
