package couponstest

import (
	"testing"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// testPrepareIssue: a prepared issue changes nothing until the command that
// carries it writes, then the coupon is issued as Issue issues it; a failed
// write leaves nothing; the key answers the first coupon afterwards; the
// take limit, the stock and a paused template refuse with errs.Conflict.
func testPrepareIssue(t *testing.T, open Opener) {
	e := newEnv(t, open)
	x := tpl("p")
	x.Stock, x.PerMember = 2, 1
	e.save(x)
	cmd := func(member, key string) coupons.IssueCmd {
		return coupons.IssueCmd{TemplateID: "p", MemberID: member, Reason: "test", Key: key}
	}
	prepare := func(c coupons.IssueCmd) coupons.Prepared {
		t.Helper()
		p, err := e.svc.PrepareIssue(e.ctx, c)
		if err != nil {
			t.Fatalf("PrepareIssue(%+v): %v", c, err)
		}
		return p
	}
	own := store.K("command", "effect") // The carrying command's own item.

	p := prepare(cmd("m1", "k1"))
	if p.Duplicate || len(p.Mutations) != 6 || p.Instance.ID == "" || p.Instance.MemberID != "m1" {
		t.Fatalf("prepared = %+v; want a new coupon of m1 in 6 mutations", p)
	}
	if l, n := e.list("m1", ""), e.taken("p"); len(l) != 0 || n != 0 {
		t.Fatalf("before the write: %d coupons, %d taken; want none", len(l), n)
	}
	err := e.st.Write(e.ctx, append([]store.Mutation{store.Check(own).IfExists()}, p.Mutations...)...)
	wantKind(t, "write whose own condition fails", err, errs.Conflict)
	if l, n := e.list("m1", ""), e.taken("p"); len(l) != 0 || n != 0 {
		t.Fatalf("after a failed write: %d coupons, %d taken; want none", len(l), n)
	}
	if err := e.st.Write(e.ctx, append([]store.Mutation{store.Put(own, nil)}, p.Mutations...)...); err != nil {
		t.Fatalf("write: %v", err)
	}
	if l := e.list("m1", ""); len(l) != 1 || l[0].ID != p.Instance.ID || e.taken("p") != 1 {
		t.Fatalf("after the write: %+v, %d taken; want %s, 1 taken", l, e.taken("p"), p.Instance.ID)
	}
	again := prepare(cmd("m1", "k1"))
	if !again.Duplicate || len(again.Mutations) != 0 || again.Instance.ID != p.Instance.ID {
		t.Errorf("prepared again = %+v; want the first coupon %s, no mutations", again, p.Instance.ID)
	}
	if got, err := e.svc.Issue(e.ctx, cmd("m1", "k1")); err != nil || !got.Duplicate || got.Instance.ID != p.Instance.ID {
		t.Errorf("Issue of the key = %+v, %v; want the prepared coupon", got, err)
	}

	_, err = e.svc.PrepareIssue(e.ctx, cmd("m1", "k2"))
	wantKind(t, "beyond the take limit", err, errs.Conflict)
	if err := e.st.Write(e.ctx, prepare(cmd("m2", "k3")).Mutations...); err != nil {
		t.Fatalf("write of m2's coupon: %v", err)
	}
	_, err = e.svc.PrepareIssue(e.ctx, cmd("m3", "k4"))
	wantKind(t, "sold out", err, errs.Conflict)
	paused := tpl("paused")
	paused.Status = coupons.Paused
	e.save(paused)
	_, err = e.svc.PrepareIssue(e.ctx, coupons.IssueCmd{TemplateID: "paused", MemberID: "m1", Reason: "test", Key: "k5"})
	wantKind(t, "paused", err, errs.Conflict)
}
