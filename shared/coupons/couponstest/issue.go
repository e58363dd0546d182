package couponstest

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/once"
	"github.com/wemember/wemember/shared/store"
)

func testIssueRecordsEverything(t *testing.T, open Opener) {
	e := newEnv(t, open)
	x := tpl("welcome")
	x.Threshold, x.AmountOff, x.Validity.Days = 5000, 1000, 30
	e.save(x)
	in := e.issue("welcome", "m1", "k1")
	want := coupons.Instance{ID: in.ID, MemberID: "m1", TemplateID: "welcome", TemplateVersion: 1,
		Name: x.Name, Kind: coupons.AmountOff, AmountOff: 1000, Threshold: 5000, Scope: x.Scope,
		ValidFrom: t0(), ValidTo: t0().AddDate(0, 0, 30), Status: coupons.Available,
		Reason: "test", IssueKey: "k1", IssuedAt: t0(), Shard: in.Shard}
	if fmt.Sprint(in) != fmt.Sprint(want) {
		t.Errorf("issued\n got %+v\nwant %+v", in, want)
	}
	if len(in.ID) != 26 || strings.Contains(in.ID, "welcome") {
		t.Errorf("id %q: want 26 random base32 characters", in.ID)
	}
	other := e.issue("welcome", "m2", "k2")
	if other.ID == in.ID {
		t.Errorf("two coupons share id %q", in.ID)
	}
	got, err := e.svc.Get(e.ctx, in.ID)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(in) {
		t.Errorf("Get = %+v, %v; want the issued coupon", got, err)
	}
	if l := e.list("m1", ""); len(l) != 1 || l[0].ID != in.ID {
		t.Errorf("m1 list = %v, want just %s", l, in.ID)
	}
	if n := e.taken("welcome"); n != 2 {
		t.Errorf("taken = %d, want 2", n)
	}
	// A later template change does not alter issued coupons.
	cur, _ := e.svc.Template(e.ctx, "welcome")
	cur.AmountOff = 2000
	if _, err := e.svc.SaveTemplate(e.ctx, cur, "op-bob"); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.Get(e.ctx, in.ID); got.AmountOff != 1000 {
		t.Errorf("issued coupon amount changed to %d with the template", got.AmountOff)
	}
	if later := e.issue("welcome", "m3", "k3"); later.AmountOff != 2000 || later.TemplateVersion != 2 {
		t.Errorf("new coupon = %d fen from v%d, want 2000 from v2", later.AmountOff, later.TemplateVersion)
	}

	fixed := tpl("fixed")
	fixed.Validity = coupons.Validity{Kind: coupons.Fixed, From: t0().Add(24 * time.Hour), To: t0().Add(72 * time.Hour)}
	e.save(fixed)
	f := e.issue("fixed", "m1", "k4")
	if !f.ValidFrom.Equal(t0().Add(24*time.Hour)) || !f.ValidTo.Equal(t0().Add(72*time.Hour)) {
		t.Errorf("fixed window = [%v, %v], want the template's", f.ValidFrom, f.ValidTo)
	}
}

func testIssueRefusals(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.save(tpl("a"))
	paused := tpl("paused")
	paused.Status = coupons.Paused
	e.save(paused)
	ended := tpl("ended")
	ended.Validity = coupons.Validity{Kind: coupons.Fixed, From: t0().Add(-48 * time.Hour), To: t0().Add(-time.Hour)}
	e.save(ended)
	cmd := func(tplID, member, key, reason string) coupons.IssueCmd {
		return coupons.IssueCmd{TemplateID: tplID, MemberID: member, Key: key, Reason: reason}
	}
	cases := []struct {
		name string
		cmd  coupons.IssueCmd
		kind errs.Kind
	}{
		{"unknown template", cmd("zzz", "m1", "k1", "r"), errs.NotExist},
		{"paused", cmd("paused", "m1", "k2", "r"), errs.Conflict},
		{"window ended", cmd("ended", "m1", "k3", "r"), errs.Expired},
		{"no member", cmd("a", "", "k4", "r"), errs.Invalid},
		{"no key", cmd("a", "m1", "", "r"), errs.Invalid},
		{"no reason", cmd("a", "m1", "k5", ""), errs.Invalid},
	}
	for _, tc := range cases {
		_, err := e.svc.Issue(e.ctx, tc.cmd)
		wantKind(t, tc.name, err, tc.kind)
	}
	if l := e.list("m1", ""); len(l) != 0 {
		t.Errorf("refused issues left %d coupons", len(l))
	}
	e.issue("a", "m1", "used-key")
	_, err := e.svc.Issue(e.ctx, cmd("a", "m2", "used-key", "r"))
	wantKind(t, "key reused for another member", err, errs.Invalid)
	if l := e.list("m2", ""); len(l) != 0 {
		t.Errorf("key reuse issued %d coupons to m2", len(l))
	}
}

func testIssueKeyOnce(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.save(tpl("a"))
	first := e.issue("a", "m1", "once")
	e.clk.Add(time.Hour)
	again, err := e.svc.Issue(e.ctx, coupons.IssueCmd{TemplateID: "a", MemberID: "m1", Reason: "test", Key: "once"})
	if err != nil || !again.Duplicate || again.Instance.ID != first.ID {
		t.Fatalf("repeat = %+v, %v; want duplicate of %s", again, err, first.ID)
	}
	if l := e.list("m1", ""); len(l) != 1 {
		t.Errorf("member has %d coupons, want 1", len(l))
	}
}

// testIssueKeyRecord: the issue key's record is the shared idempotency
// record (package once) naming the coupon it answered, and a record stored
// in the earlier shape (instance, template and member ids) still answers a
// repeat and still refuses the key for another member.
func testIssueKeyRecord(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.save(tpl("a"))
	first := e.issue("a", "m1", "k1")
	k := store.K("idem#coupon#k1", "idem")
	var rec once.Record
	if _, err := store.GetJSON(e.ctx, e.st, k, &rec); err != nil {
		t.Fatalf("issue key record: %v", err)
	}
	var res struct {
		InstanceID string `json:"instance_id"`
	}
	if err := json.Unmarshal(rec.Result, &res); err != nil || rec.Scope == "" || !rec.At.Equal(t0()) ||
		res.InstanceID != first.ID {
		t.Errorf("issue key record = %+v (%v); want a once.Record with a scope, at %v, answering %s",
			rec, err, t0(), first.ID)
	}

	second := e.issue("a", "m1", "k2")
	old := fmt.Appendf(nil, `{"instance_id":%q,"template_id":"a","member_id":"m1"}`, second.ID)
	if err := e.st.Write(e.ctx, store.Put(store.K("idem#coupon#k2", "idem"), old)); err != nil {
		t.Fatal(err)
	}
	again, err := e.svc.Issue(e.ctx, coupons.IssueCmd{TemplateID: "a", MemberID: "m1", Reason: "test", Key: "k2"})
	if err != nil || !again.Duplicate || again.Instance.ID != second.ID {
		t.Errorf("repeat over an earlier-shape record = %+v, %v; want a duplicate of %s", again, err, second.ID)
	}
	_, err = e.svc.Issue(e.ctx, coupons.IssueCmd{TemplateID: "a", MemberID: "m2", Reason: "test", Key: "k2"})
	wantKind(t, "earlier-shape key reused for another member", err, errs.Invalid)
	if l := e.list("m1", ""); len(l) != 2 {
		t.Errorf("member has %d coupons, want 2", len(l))
	}
}

func testIssueKeyConcurrent(t *testing.T, open Opener) {
	e := newEnv(t, open)
	x := tpl("a")
	x.Stock = 50
	e.save(x)
	ids := make([]string, 20)
	errsSeen := make([]error, 20)
	parallel(20, 20, func(i int) {
		got, err := e.svc.Issue(e.ctx, coupons.IssueCmd{TemplateID: "a", MemberID: "m1", Reason: "test", Key: "same"})
		ids[i], errsSeen[i] = got.Instance.ID, err
	})
	for i := range ids {
		if errsSeen[i] != nil || ids[i] != ids[0] || ids[0] == "" {
			t.Fatalf("call %d = %q, %v; want every call to answer %q", i, ids[i], errsSeen[i], ids[0])
		}
	}
	if l := e.list("m1", ""); len(l) != 1 {
		t.Errorf("member has %d coupons, want 1", len(l))
	}
	if n := e.taken("a"); n != 1 {
		t.Errorf("stock taken = %d, want 1", n)
	}
}

func testStockUnderConcurrency(t *testing.T, open Opener, members, workers int) {
	for _, shards := range []int{0, 1} {
		t.Run(fmt.Sprintf("shards=%d", shards), func(t *testing.T) {
			e := newEnv(t, open)
			x := tpl("flash")
			x.Stock, x.Shards = 100, shards
			x = e.save(x)
			var ok, soldOut atomic.Int64
			var mu sync.Mutex
			var other []error
			start := time.Now()
			parallel(members, workers, func(i int) {
				_, err := e.svc.Issue(e.ctx, coupons.IssueCmd{TemplateID: "flash",
					MemberID: fmt.Sprintf("m%04d", i), Reason: "test", Key: fmt.Sprintf("flash#%d", i)})
				switch {
				case err == nil:
					ok.Add(1)
				case errs.Is(errs.Conflict, err) && errs.SafeMessage(err) == "coupon is sold out":
					soldOut.Add(1)
				default:
					mu.Lock()
					other = append(other, err)
					mu.Unlock()
				}
			})
			t.Logf("%d members over %d goroutines, %d shards: %v", members, workers, x.Shards, time.Since(start))
			if len(other) > 0 {
				t.Fatalf("%d unexpected errors, first: %v", len(other), other[0])
			}
			if ok.Load() != 100 || soldOut.Load() != int64(members-100) {
				t.Errorf("issued %d, sold out %d; want 100 and %d", ok.Load(), soldOut.Load(), members-100)
			}
			if n := e.taken("flash"); n != 100 {
				t.Errorf("taken = %d, want 100", n)
			}
		})
	}
}

func testTakeLimitUnderConcurrency(t *testing.T, open Opener) {
	e := newEnv(t, open)
	x := tpl("limited")
	x.PerMember = 3
	e.save(x)
	var ok atomic.Int64
	parallel(20, 20, func(i int) {
		_, err := e.svc.Issue(e.ctx, coupons.IssueCmd{TemplateID: "limited", MemberID: "m1", Reason: "test",
			Key: fmt.Sprintf("take#%d", i)})
		if err == nil {
			ok.Add(1)
		} else if !errs.Is(errs.Conflict, err) {
			t.Errorf("take %d: %v, want success or conflict", i, err)
		}
	})
	if ok.Load() != 3 {
		t.Errorf("took %d, want 3", ok.Load())
	}
	if l := e.list("m1", ""); len(l) != 3 {
		t.Errorf("member has %d coupons, want 3", len(l))
	}
	e.issue("limited", "m2", "take#m2") // Another member is unaffected.
}

func testShardedStockGrows(t *testing.T, open Opener) {
	e := newEnv(t, open)
	x := tpl("grow")
	x.Stock, x.Shards = 8, 4
	cur := e.save(x)
	issueAll := func(round int) (ok int) {
		for i := range 10 {
			_, err := e.svc.Issue(e.ctx, coupons.IssueCmd{TemplateID: "grow", MemberID: fmt.Sprintf("m%d-%d", round, i),
				Reason: "test", Key: fmt.Sprintf("g%d-%d", round, i)})
			if err == nil {
				ok++
			} else if !errs.Is(errs.Conflict, err) {
				t.Fatalf("issue: %v", err)
			}
		}
		return ok
	}
	if got := issueAll(1); got != 8 {
		t.Errorf("first round issued %d, want the stock of 8", got)
	}
	cur.Stock = 12
	if _, err := e.svc.SaveTemplate(e.ctx, cur, "op-alice"); err != nil {
		t.Fatal(err)
	}
	if got := issueAll(2); got != 4 {
		t.Errorf("after growing to 12, issued %d more, want 4", got)
	}
	if n := e.taken("grow"); n != 12 {
		t.Errorf("taken = %d, want 12", n)
	}
}
