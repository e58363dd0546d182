package channels

import (
	"context"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
)

// Follow is a member's relationship with an Official Account or a WeCom
// sales rep: who, since when, and whether it still holds.
type Follow struct {
	Via       string    `json:"via"` // "oa:<appid>" or "wecom:<corpid>:<userid>".
	Active    bool      `json:"active"`
	Scene     string    `json:"scene,omitempty"`
	Since     time.Time `json:"since"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at"`
}

func followKey(memberID, via string) store.Key {
	return store.K(member.Partition(memberID), "follow#"+via)
}

// SetFollow records that a member follows (active) or stopped following via
// a channel. Repeating the same state changes nothing but the time.
func (s *Service) SetFollow(ctx context.Context, memberID, via string, active bool, scene string) (Follow, error) {
	const op = "channels.SetFollow"
	now := s.now().UTC()
	for range retry.Tries(ctx, 8) {
		var f Follow
		it, err := store.GetJSON(ctx, s.st, followKey(memberID, via), &f)
		if err != nil && !errs.Is(errs.NotExist, err) {
			return Follow{}, errs.E(op, err)
		}
		f = f.set(via, active, scene, now)
		err = s.st.Write(ctx, store.PutJSON(followKey(memberID, via), f).IfVersion(it.Version))
		if errs.Is(errs.Conflict, err) {
			continue
		}
		if err != nil {
			return Follow{}, errs.E(op, err)
		}
		return f, nil
	}
	return Follow{}, errs.E(op, errs.Transient, "too much contention, retry")
}

// FollowMutation works out, without writing it, the mutation that records that
// a member follows via a channel, as SetFollow(…, true, scene) would: for
// a caller's atomic write, conditioned on the follow as read. A member
// registered in that same write (created) has no follow yet, so nothing is
// read.
func (s *Service) FollowMutation(ctx context.Context, memberID, via, scene string, created bool) (store.Mutation, error) {
	var f Follow
	var it store.Item
	if !created {
		var err error
		it, err = store.GetJSON(ctx, s.st, followKey(memberID, via), &f)
		if err != nil && !errs.Is(errs.NotExist, err) {
			return store.Mutation{}, errs.E("channels.FollowMutation", err)
		}
	}
	f = f.set(via, true, scene, s.now().UTC())
	return store.PutJSON(followKey(memberID, via), f).IfVersion(it.Version), nil
}

// set is the follow after a member follows (active) or stops following via
// a channel at now: a new follow starts afresh, a repeated state only
// changes the time.
func (f Follow) set(via string, active bool, scene string, now time.Time) Follow {
	if f.Via == "" || (active && !f.Active) {
		f = Follow{Via: via, Since: now, Scene: scene}
	}
	f.Active, f.UpdatedAt = active, now
	if !active && f.EndedAt.IsZero() {
		f.EndedAt = now
	}
	return f
}

// FollowOf returns a member's relationship via a channel; errs.NotExist if none.
func (s *Service) FollowOf(ctx context.Context, memberID, via string) (Follow, error) {
	var f Follow
	if _, err := store.GetJSON(ctx, s.st, followKey(memberID, via), &f); err != nil {
		return Follow{}, errs.E("channels.FollowOf", err)
	}
	return f, nil
}

// Absorb moves a merged-away member's pending attribution and follows to the
// survivor where the survivor has none: it is a member.Absorber.
func (s *Service) Absorb(ctx context.Context, from, into string) error {
	const op = "channels.Absorb"
	page, err := s.st.Query(ctx, store.Query{PK: member.Partition(from), Prefix: "follow#"})
	if err != nil {
		return errs.E(op, err)
	}
	items := page.Items
	if p, err := s.st.Get(ctx, pendingKey(from)); err == nil {
		items = append(items, p)
	} else if !errs.Is(errs.NotExist, err) {
		return errs.E(op, err)
	}
	for _, it := range items {
		err := s.st.Write(ctx, store.Put(store.K(member.Partition(into), it.SK), it.Data).IfAbsent())
		if err != nil && !errs.Is(errs.Conflict, err) {
			return errs.E(op, err)
		}
	}
	return nil
}
