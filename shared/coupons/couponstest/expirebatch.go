package couponstest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/store/storetest"
)

// counted returns a service over a counting wrapper of e's store, its
// cursor already stored by a first run at t0 (nothing is due then), so a
// test counts one steady-state run.
func (e *env) counted() (*coupons.Service, *storetest.Faults) {
	e.t.Helper()
	f := &storetest.Faults{Store: e.st}
	svc := coupons.New(f, coupons.Config{Now: e.clk.Now})
	if p, err := svc.ExpireDue(e.ctx, t0(), 100); err != nil || p != (coupons.Progress{}) {
		e.t.Fatalf("first run = %+v, %v; want nothing due", p, err)
	}
	f.Reset()
	return svc, f
}

// expiredOnce checks that every coupon is expired, once, in its owner's
// listing too.
func (e *env) expiredOnce(ins []coupons.Instance, except string) {
	e.t.Helper()
	for _, in := range ins {
		if in.ID == except {
			continue
		}
		if l := e.list(in.MemberID, ""); len(l) != 1 || l[0].Status != coupons.Expired {
			e.t.Fatalf("member %s listing = %+v, want one expired coupon", in.MemberID, l)
		}
	}
}

// testExpireDueSharded spreads one day's due items over the shards of the
// day, none in the day's own partition.
func testExpireDueSharded(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.save(tpl("a"))
	ins := e.issueMany(100, "m")
	day := "due#coupon#" + ins[0].ValidTo.UTC().Format("20060102")
	count := func(pk string) int {
		pg, err := e.st.Query(e.ctx, store.Query{PK: pk})
		if err != nil {
			t.Fatal(err)
		}
		return len(pg.Items)
	}
	if n := count(day); n != 0 {
		t.Errorf("the day's own partition holds %d due items, want 0", n)
	}
	used, total := 0, 0
	for _, pk := range store.ShardPKs(day) {
		n := count(pk)
		total += n
		if n > 0 {
			used++
		}
	}
	if total != 100 || used < store.Shards/2 {
		t.Errorf("shards hold %d due items in %d shards, want 100 spread over at least %d", total, used, store.Shards/2)
	}
}

// testExpireDueBatched counts the store calls of a run over 250 due coupons
// of different members: a full batch per write whatever shard the items
// are in, and no coupon read (the due items carry them).
func testExpireDueBatched(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.save(tpl("a"))
	ins := e.issueMany(250, "m")
	svc, f := e.counted()
	now := t0().Add(week + time.Second)
	p, err := svc.ExpireDue(e.ctx, now, 1000)
	if err != nil || p != (coupons.Progress{Expired: 250}) {
		t.Fatalf("run = %+v, %v; want 250 expired", p, err)
	}
	got := f.Counts()
	batches := (250 + store.MaxWrite/4 - 1) / (store.MaxWrite / 4)
	if got.Writes > batches+1 || got.Gets > 1 {
		t.Errorf("run made %d writes and %d gets; want at most %d writes (%d batches and the cursor) and 1 get (the cursor)",
			got.Writes, got.Gets, batches+1, batches)
	}
	e.expiredOnce(ins, "")
}

// testExpireDueContendedBatch redeems one coupon of a batch while the sweep
// writes it: the batch fails as a whole, and item by item the sweep then
// expires every other coupon once and leaves the redeemed one used.
func testExpireDueContendedBatch(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.save(tpl("a"))
	ins := e.issueMany(25, "m")
	svc, f := e.counted()
	now := t0().Add(week + time.Second)
	hot := ins[7]
	var once sync.Once
	f.BeforeWrite = func(ctx context.Context, ms []store.Mutation) error {
		if len(ms) > 4 {
			once.Do(func() {
				e.clk.Set(t0().Add(time.Hour)) // Still valid for the redemption.
				if _, err := e.svc.Redeem(ctx, coupons.RedeemCmd{InstanceID: hot.ID, MemberID: hot.MemberID, Key: "r"}); err != nil {
					t.Errorf("Redeem: %v", err)
				}
			})
		}
		return nil
	}
	p, err := svc.ExpireDue(e.ctx, now, 100)
	if err != nil || p != (coupons.Progress{Expired: 24, Cleaned: 1}) {
		t.Fatalf("run = %+v, %v; want 24 expired and the redeemed one's due item cleaned", p, err)
	}
	if got, _ := e.svc.Get(e.ctx, hot.ID); got.Status != coupons.Used {
		t.Errorf("redeemed coupon is %s, want used", got.Status)
	}
	e.expiredOnce(ins, hot.ID)
	if p := e.expire(now, 100); p != (coupons.Progress{}) {
		t.Errorf("next run = %+v, want an empty index", p)
	}
}

// testExpireDueOverlappingBatch holds one run's batch write until a second
// run has expired every coupon: the first run's batch then fails, and it
// settles its items one by one without expiring any twice.
func testExpireDueOverlappingBatch(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.save(tpl("a"))
	ins := e.issueMany(40, "m")
	svc, f := e.counted()
	now := t0().Add(week + time.Second)
	var once sync.Once
	f.BeforeWrite = func(ctx context.Context, ms []store.Mutation) error {
		if len(ms) > 4 {
			once.Do(func() {
				if p := e.expire(now, 100); p.Expired != 40 {
					t.Errorf("the other run = %+v, want all 40 expired", p)
				}
			})
		}
		return nil
	}
	p, err := svc.ExpireDue(e.ctx, now, 100)
	if err != nil || p.Expired != 0 {
		t.Fatalf("held run = %+v, %v; want nothing expired twice", p, err)
	}
	e.expiredOnce(ins, "")
}

// testExpireDueEarlierIndex settles due items as earlier releases wrote
// them, in the day's own partition and without a copy of the coupon: an
// available coupon is expired, a redeemed one's stale item dropped, and
// reminders find the available one.
func testExpireDueEarlierIndex(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.save(tpl("a"))
	avail, used := e.issue("a", "m1", "k1"), e.issue("a", "m2", "k2")
	for _, in := range []coupons.Instance{avail, used} {
		day := "due#coupon#" + in.ValidTo.UTC().Format("20060102")
		sk := fmt.Sprintf("%010d#%s", in.ValidTo.Unix(), in.ID)
		old := fmt.Sprintf(`{"member_id":%q,"template_id":"a"}`, in.MemberID)
		if err := e.st.Write(e.ctx, store.Delete(store.K(store.Sharded(day, in.ID), sk)),
			store.Put(store.K(day, sk), []byte(old))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.Redeem(e.ctx, coupons.RedeemCmd{InstanceID: used.ID, MemberID: "m2", Key: "r"}); err != nil {
		t.Fatal(err)
	}
	soon, next, err := e.svc.ExpiringSoon(e.ctx, t0().Add(6*24*time.Hour), 3*24*time.Hour, "", 10)
	if err != nil || next != "" || len(soon) != 1 || soon[0].ID != avail.ID {
		t.Errorf("ExpiringSoon = %+v, %q, %v; want the available coupon", soon, next, err)
	}
	now := t0().Add(week + time.Second)
	if p := e.expire(now, 100); p != (coupons.Progress{Expired: 1, Cleaned: 1}) {
		t.Errorf("sweep = %+v, want the available one expired and the used one's item dropped", p)
	}
	if got, _ := e.svc.Get(e.ctx, avail.ID); got.Status != coupons.Expired {
		t.Errorf("coupon is %s, want expired", got.Status)
	}
	if got, _ := e.svc.Get(e.ctx, used.ID); got.Status != coupons.Used {
		t.Errorf("used coupon is %s, want used", got.Status)
	}
	if p := e.expire(now, 100); p != (coupons.Progress{}) {
		t.Errorf("next sweep = %+v, want an empty index", p)
	}
}
