package invite

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// Rotation is one periodic code replaced by its next: the WeCom contact
// way whose state carries Old is to carry New from now on.
type Rotation struct {
	Old     string `json:"old"` // Code ids.
	New     string `json:"new"`
	Owner   string `json:"owner,omitempty"`
	Channel string `json:"channel,omitempty"`
}

// RotateWeCom makes the next code of every periodic (WeCom) code whose
// period ended by now, reading the rotation index (by UTC day, sharded)
// from where the last run stopped. Each rotation is one atomic write: the
// new code, with the old one's owner, channel, cap and batch and the next
// rotation time, and the old one marked ReplacedBy with its life cut to the
// kind's Grace (1 day by default) — a contact who scanned the old code just
// before the rotation still redeems it; the expiry sweep archives it when
// the grace ends (at once without a grace). The owner's index item moves to
// the new code. It returns the rotations done, old id to new, so that the
// contact ways' states follow, and whether work remains.
func (s *Service) RotateWeCom(ctx context.Context, now time.Time, limit int) ([]Rotation, bool, error) {
	const op = "invite.RotateWeCom"
	rules, err := s.Rules(ctx)
	if err != nil {
		return nil, false, errs.E(op, err)
	}
	var (
		mu  sync.Mutex
		out []Rotation
	)
	settle := func(ctx context.Context, items []store.Item, now time.Time) (int, error) {
		n := 0
		for _, it := range items {
			r, ok, err := s.rotate(ctx, op, it, rules, now)
			if err != nil {
				return n, err
			}
			if ok {
				mu.Lock()
				out = append(out, r)
				mu.Unlock()
				n++
			}
		}
		return n, nil
	}
	_, more, err := s.sweepDays(ctx, op, "invrot", rotateCursorKey(), now, limit, settle)
	return out, more, err
}

// rotate settles one rotation item: it rotates its code, or drops the item
// when it is stale (the code gone, archived or rotated already).
func (s *Service) rotate(ctx context.Context, op string, it store.Item, rules Rules, now time.Time) (Rotation, bool, error) {
	var ref codeRef
	if err := json.Unmarshal(it.Data, &ref); err != nil {
		return Rotation{}, false, errs.E(op, errs.Internal, err)
	}
	for range changeTries {
		old, ver, err := s.code(ctx, op, ref.ID)
		if err != nil && !errs.Is(errs.NotExist, err) {
			return Rotation{}, false, err
		}
		if err != nil || old.Status != Active || old.RotateAt.IsZero() || it.Key != rotateKey(old.RotateAt, old.ID) {
			if err := s.st.Write(ctx, store.Delete(it.Key)); err != nil {
				return Rotation{}, false, errs.E(op, err)
			}
			return Rotation{}, false, nil
		}
		kr := rules.Kinds[old.Kind]
		c := Code{Kind: old.Kind, Owner: old.Owner, Channel: old.Channel, Cap: old.Cap, Batch: old.Batch,
			Status: Active, CreatedAt: now, CreatedBy: old.CreatedBy}
		if kr.Validity > 0 {
			c.ExpiresAt = now.Add(kr.Validity.D())
		}
		if kr.Rotation > 0 {
			c.RotateAt = now.Add(kr.Rotation.D())
		}
		texts, err := s.generate(op, kr.Format, 1)
		if err != nil {
			return Rotation{}, false, err
		}
		c.ID, _ = s.CodeID(texts[0])
		c.Seal = s.box.Seal(texts[0])
		status, until := Archived, time.Time{}
		if kr.Grace > 0 {
			status, until = Active, now.Add(kr.Grace.D())
		}
		ms, err := s.replaceMutations(ctx, op, old, ver, c, status, until, now)
		if err != nil {
			return Rotation{}, false, err
		}
		err = s.st.Write(ctx, ms...)
		if err == nil {
			return Rotation{Old: old.ID, New: c.ID, Owner: c.Owner, Channel: c.Channel}, true, nil
		}
		if !errs.Is(errs.Conflict, err) {
			return Rotation{}, false, errs.E(op, err)
		}
	}
	return Rotation{}, false, errs.E(op, errs.Transient, "a rotated code is contended")
}
