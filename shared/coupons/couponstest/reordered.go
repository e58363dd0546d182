package couponstest

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// reversed hands every write to the store with its mutations in reverse
// order: a failed condition must be told apart by its key, never by where
// it sat in the write.
type reversed struct{ store.Store }

func (r reversed) Write(ctx context.Context, ms ...store.Mutation) error {
	rev := slices.Clone(ms)
	slices.Reverse(rev)
	return r.Store.Write(ctx, rev...)
}

// testIssueReordered: with the mutations of every write reordered, a
// repeated key still answers the first coupon, a member at the take limit
// is still refused for the limit, and a shard filled by a racer still sends
// the issue to another shard or to "sold out".
func testIssueReordered(t *testing.T, open Opener) {
	e := newEnv(t, func(t *testing.T) store.Store { return reversed{open(t)} })
	once := tpl("once")
	once.PerMember = 1
	e.save(once)
	first := e.issue("once", "m1", "k1")
	_, err := e.svc.Issue(e.ctx, coupons.IssueCmd{TemplateID: "once", MemberID: "m1", Reason: "test", Key: "k2"})
	if want := "member has already taken this coupon 1 time(s)"; !errs.Is(errs.Conflict, err) || errs.SafeMessage(err) != want {
		t.Errorf("second take = %v (%q); want a conflict %q", err, errs.SafeMessage(err), want)
	}
	if l := e.list("m1", ""); len(l) != 1 || l[0].ID != first.ID {
		t.Errorf("m1 holds %v; want just %s", l, first.ID)
	}

	e.save(tpl("same"))
	ids := make([]string, 20)
	errList := make([]error, 20)
	parallel(20, 20, func(i int) {
		got, err := e.svc.Issue(e.ctx, coupons.IssueCmd{TemplateID: "same", MemberID: "m2", Reason: "test", Key: "same"})
		ids[i], errList[i] = got.Instance.ID, err
	})
	for i := range ids {
		if errList[i] != nil || ids[i] != ids[0] || ids[0] == "" {
			t.Errorf("same key, call %d = %q, %v; want every call to answer %q", i, ids[i], errList[i], ids[0])
		}
	}

	flash := tpl("flash")
	flash.Stock, flash.Shards = 10, 2
	e.save(flash)
	var ok, soldOut atomic.Int64
	parallel(60, 20, func(i int) {
		_, err := e.svc.Issue(e.ctx, coupons.IssueCmd{TemplateID: "flash",
			MemberID: fmt.Sprintf("f%02d", i), Reason: "test", Key: fmt.Sprintf("flash#%d", i)})
		switch {
		case err == nil:
			ok.Add(1)
		case errs.Is(errs.Conflict, err) && errs.SafeMessage(err) == "coupon is sold out":
			soldOut.Add(1)
		default:
			t.Errorf("flash issue %d: %v (%q); want success or sold out", i, err, errs.SafeMessage(err))
		}
	})
	if ok.Load() != 10 || soldOut.Load() != 50 {
		t.Errorf("issued %d, sold out %d; want 10 and 50", ok.Load(), soldOut.Load())
	}
	if n := e.taken("flash"); n != 10 {
		t.Errorf("taken = %d, want 10", n)
	}
}
