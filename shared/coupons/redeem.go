package coupons

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/text"
)

// RedeemCmd redeems (核销) one coupon instance: by its owner at checkout, or
// by a clerk who scanned the member's QR code.
type RedeemCmd struct {
	InstanceID string
	MemberID   string // The member presenting it; must own the coupon.
	Clerk      string // The clerk who scanned it; empty when the member redeems.
	OrderID    string // Optional order it pays for.
	// OrderAmount is checked against the threshold (fen); a coupon with a
	// threshold requires it.
	OrderAmount int64
	// Key makes the redemption idempotent: resending the same key with the
	// same order after a success returns the redeemed coupon; the same key
	// with another order is "already used for order …".
	Key string
}

// MaxRedeemField is the most bytes of a redemption's clerk and order id,
// which are stored with the coupon and shown to operators.
const MaxRedeemField = 64

// Get returns one instance by id (errs.NotExist if unknown).
func (s *Service) Get(ctx context.Context, id string) (Instance, error) {
	in, _, err := s.load(ctx, "coupons.Get", id)
	return in, err
}

func (s *Service) load(ctx context.Context, op, id string) (Instance, int64, error) {
	if err := validID(op, "coupon id", id); err != nil {
		return Instance{}, 0, err
	}
	var in Instance
	it, err := store.GetJSON(ctx, s.st, instKey(id), &in)
	if errs.Is(errs.NotExist, err) {
		return Instance{}, 0, errs.E(op, errs.NotExist, "coupon not found", err)
	}
	if err != nil {
		return Instance{}, 0, errs.E(op, err)
	}
	return in, it.Version, nil
}

// Redeem marks a coupon used, once, within its validity.
//
// Errors: errs.Invalid (bad command, order below threshold), errs.NotExist
// (unknown coupon), errs.Permission (another member's coupon), errs.Conflict
// ("coupon already used for order …", revoked, or not valid yet),
// errs.Expired (past its validity or swept), errs.Transient.
func (s *Service) Redeem(ctx context.Context, cmd RedeemCmd) (Instance, error) {
	const op = "coupons.Redeem"
	if err := validKey(op, cmd.Key); err != nil {
		return Instance{}, err
	}
	if err := memberOf(op, cmd.MemberID); err != nil {
		return Instance{}, err
	}
	if cmd.OrderAmount < 0 || cmd.OrderAmount > MaxFen {
		return Instance{}, errs.E(op, errs.Invalid, fmt.Sprintf("order_amount must be 0..%d fen", MaxFen))
	}
	if p := text.Problem(cmd.Clerk, MaxRedeemField); p != "" {
		return Instance{}, errs.E(op, errs.Invalid, "clerk "+p)
	}
	if p := text.Problem(cmd.OrderID, MaxRedeemField); p != "" {
		return Instance{}, errs.E(op, errs.Invalid, "order_id "+p)
	}
	var out Instance
	err := s.retry(ctx, func(int) error {
		var err error
		out, err = s.change(ctx, op, cmd.InstanceID, func(in *Instance) (bool, error) {
			if in.MemberID != cmd.MemberID {
				return false, errs.E(op, errs.Permission, "coupon belongs to another member")
			}
			if in.Status == Used && in.RedeemKey == cmd.Key && in.OrderID == cmd.OrderID && in.OrderAmount == cmd.OrderAmount {
				return false, nil // A retry of our own redemption.
			}
			now := s.clock()
			switch {
			case in.Status == Used && in.OrderID != "":
				return false, errs.E(op, errs.Conflict, "coupon already used for order "+in.OrderID)
			case in.Status == Used:
				return false, errs.E(op, errs.Conflict, "coupon already used")
			case in.Status == Revoked:
				return false, errs.E(op, errs.Conflict, "coupon was revoked")
			case in.Status == Expired || now.After(in.ValidTo):
				return false, errs.E(op, errs.Expired, "coupon has expired")
			case now.Before(in.ValidFrom):
				return false, errs.E(op, errs.Conflict, "coupon is not valid yet")
			case cmd.OrderAmount == 0 && in.Threshold > 0:
				return false, errs.E(op, errs.Invalid, fmt.Sprintf(
					"order_amount is required: this coupon needs orders of at least %d fen", in.Threshold))
			case cmd.OrderAmount < in.Threshold:
				return false, errs.E(op, errs.Invalid, "order amount is below the coupon threshold")
			}
			in.Status, in.UsedAt, in.OrderID, in.OrderAmount, in.RedeemKey = Used, now, cmd.OrderID, cmd.OrderAmount, cmd.Key
			in.UsedBy = cmd.MemberID
			if cmd.Clerk != "" {
				in.UsedBy = cmd.Clerk
			}
			return true, nil
		})
		return err
	})
	return out, err
}

// RevokeCmd withdraws an unused coupon.
type RevokeCmd struct {
	InstanceID string
	Operator   string
	Reason     string
}

// Revoke withdraws an available coupon. Revoking a revoked coupon again
// succeeds; a used or expired one is errs.Conflict.
func (s *Service) Revoke(ctx context.Context, cmd RevokeCmd) (Instance, error) {
	const op = "coupons.Revoke"
	if err := validID(op, "operator", cmd.Operator); err != nil {
		return Instance{}, err
	}
	return s.change(ctx, op, cmd.InstanceID, func(in *Instance) (bool, error) {
		switch in.Status {
		case Revoked:
			return false, nil
		case Available:
		default:
			return false, errs.E(op, errs.Conflict, fmt.Sprintf("a %s coupon cannot be revoked", in.Status))
		}
		in.Status, in.ClosedAt, in.ClosedBy, in.CloseReason = Revoked, s.clock(), cmd.Operator, cmd.Reason
		return true, nil
	})
}

// change applies f to the stored instance and writes the result atomically
// with its listing copy and due item, retrying when the instance changed
// under it. f returns false to leave the instance as it is.
func (s *Service) change(ctx context.Context, op, id string, f func(*Instance) (bool, error)) (Instance, error) {
	for range 8 {
		in, ver, err := s.load(ctx, op, id)
		if err != nil {
			return Instance{}, err
		}
		old := in
		write, err := f(&in)
		if err != nil {
			return Instance{}, err
		}
		if !write {
			return in, nil
		}
		ms := []store.Mutation{store.PutJSON(instKey(id), in).IfVersion(ver)}
		if listKey(old) != listKey(in) {
			ms = append(ms, store.Delete(listKey(old)))
		}
		ms = append(ms, store.PutJSON(listKey(in), in))
		if in.Status != Available {
			ms = append(ms, store.Delete(dueKey(in)))
		}
		err = s.st.Write(ctx, ms...)
		if err == nil {
			return in, nil
		}
		if _, ok := store.FailedKey(err); !ok {
			return Instance{}, errs.E(op, err)
		}
	}
	return Instance{}, errs.E(op, errs.Transient, "coupon is changing; retry")
}

// ListQuery selects a page of a member's coupons.
type ListQuery struct {
	MemberID string
	Status   Status // Empty: all, available first, then used, expired, revoked.
	Cursor   string // From the previous page's Next.
	Limit    int    // Default 20, at most 100.
}

// ListPage is one page of a member's coupons. Within a status they are in
// order of validity end, soonest first.
type ListPage struct {
	Items []Instance
	Next  string // Empty when there are no more.
}

// List pages through a member's coupons. Each Instance's Status is as
// stored; call Effective for the status as of now. It is a list for
// display, read eventually consistent: a coupon issued or used in the last
// moment may not show so yet.
func (s *Service) List(ctx context.Context, q ListQuery) (ListPage, error) {
	const op = "coupons.List"
	if err := memberOf(op, q.MemberID); err != nil {
		return ListPage{}, err
	}
	prefix := listPrefix
	switch q.Status {
	case "":
	case Available, Used, Expired, Revoked:
		prefix = statusPrefix(q.Status)
	default:
		return ListPage{}, errs.E(op, errs.Invalid, "unknown coupon status")
	}
	if q.Limit <= 0 {
		q.Limit = 20
	}
	q.Limit = min(q.Limit, 100)
	pg, err := s.st.Query(ctx, store.Query{PK: memberPK(q.MemberID), Prefix: prefix, After: q.Cursor, Limit: q.Limit,
		Consistency: store.Eventual})
	if err != nil {
		return ListPage{}, errs.E(op, err)
	}
	out := ListPage{Items: make([]Instance, 0, len(pg.Items)), Next: pg.Next}
	for _, it := range pg.Items {
		var in Instance
		if err := json.Unmarshal(it.Data, &in); err != nil {
			return ListPage{}, errs.E(op, errs.Internal, fmt.Errorf("decode %s: %w", it.Key, err))
		}
		out.Items = append(out.Items, in)
	}
	return out, nil
}
