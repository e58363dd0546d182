package loyaltytest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/store"
)

// sameShard returns n member ids whose due index items share one shard,
// so that a sweep settles them in the same batches.
func sameShard(prefix string, n int) []string {
	var ids []string
	want := store.Sharded("due", prefix+"0")
	for i := 0; len(ids) < n; i++ {
		if id := fmt.Sprintf("%s%d", prefix, i); store.Sharded("due", id) == want {
			ids = append(ids, id)
		}
	}
	return ids
}

// indexItems counts the items of a day index pk in its shards and its
// unsharded partition.
func (e *env) indexItems(pk string) int {
	e.t.Helper()
	n := 0
	for _, p := range append(store.ShardPKs(pk), pk) {
		page, err := e.st.Query(e.ctx, store.Query{PK: p})
		if err != nil {
			e.t.Fatalf("Query %s: %v", p, err)
		}
		n += len(page.Items)
	}
	return n
}

// unshard moves every item of the day index pk from its shards to the
// unsharded partition pk, where items written before the index was sharded
// are.
func (e *env) unshard(pk string) int {
	e.t.Helper()
	n := 0
	for _, p := range store.ShardPKs(pk) {
		page, err := e.st.Query(e.ctx, store.Query{PK: p})
		if err != nil {
			e.t.Fatalf("Query %s: %v", p, err)
		}
		for _, it := range page.Items {
			if err := e.st.Write(e.ctx, store.Delete(it.Key), store.Put(store.K(pk, it.Key.SK), it.Data)); err != nil {
				e.t.Fatalf("move %s: %v", it.Key, err)
			}
			n++
		}
	}
	return n
}

// testDueIndexSharded checks that one day's due items are spread over the
// day's shards, none in the unsharded partition.
func testDueIndexSharded(t *testing.T, e *env) {
	for i := range 64 {
		e.earn(fmt.Sprintf("s%d", i), 10, fmt.Sprintf("s%d", i), rolling(1), 0)
	}
	pk := "due#points#" + calendar.Day(Start.Add(days(1)))
	page, err := e.st.Query(e.ctx, store.Query{PK: pk})
	if err != nil || len(page.Items) != 0 {
		t.Errorf("unsharded partition %s: got %d items, %v; want none", pk, len(page.Items), err)
	}
	used := 0
	for _, p := range store.ShardPKs(pk) {
		page, err := e.st.Query(e.ctx, store.Query{PK: p})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) > 0 {
			used++
		}
	}
	if used < store.Shards/2 || e.indexItems(pk) != 64 {
		t.Errorf("64 lots of 64 members: %d items over %d of %d shards; want all 64 over at least %d",
			e.indexItems(pk), used, store.Shards, store.Shards/2)
	}
}

// testSweepBatchWrites settles the lots of many members, and many lots of
// one member, in few writes: each lot takes five mutations and its
// member's summary one, and a write carries up to store.MaxWrite.
func testSweepBatchWrites(t *testing.T, e *env) {
	const members, mine = 250, 40
	var total int64
	for i := range members {
		e.earn(fmt.Sprintf("w%d", i), 10, fmt.Sprintf("w%d", i), rolling(1), 0)
		total += 10
	}
	for i := range mine {
		e.earn("big", int64(1+i), fmt.Sprintf("big%d", i), rolling(1), 0)
		total += int64(1 + i)
	}
	e.clk.Add(days(2))
	f, svc := e.faulty()
	res, err := svc.ExpireDue(e.ctx, e.clk.Now(), 1000)
	if err != nil || res.Items != members+mine || res.Points != total || res.More || res.Failed+res.Skipped != 0 {
		t.Fatalf("ExpireDue: got %+v, %v; want %d items, %d points, done", res, err, members+mine, total)
	}
	c := f.Counts()
	t.Logf("ExpireDue of %d lots: %d writes, %d mutations, %d gets, %d query pages", members+mine, c.Writes, c.Mutations, c.Gets, c.Queries)
	// 1,703 mutations fill 18 writes; each of the day's 17 partitions may
	// end on a part-filled one, and the cursor is saved once.
	if mutations := members*6 + mine*5 + 3; c.Writes > (mutations+99)/100+store.Shards+2 || c.Mutations != mutations+1 {
		t.Errorf("ExpireDue of %d lots: %d writes of %d mutations; want at most %d writes of %d",
			members+mine, c.Writes, c.Mutations, (mutations+99)/100+store.Shards+2, mutations+1)
	}
	// A summary and a lot per member, big's 40 lots and its summary once
	// per 19 of them, the rules and the cursor.
	if want := members*2 + mine + 3 + 2; c.Gets != want {
		t.Errorf("ExpireDue of %d lots: %d gets, want %d", members+mine, c.Gets, want)
	}
	b := e.balance("big")
	if b.Available != 0 || b.Expired != mine*(mine+1)/2 {
		t.Errorf("big: got %+v, want nothing left and %d expired", b, mine*(mine+1)/2)
	}
	led := e.ledger("big")
	if got := countKind(led, loyalty.KindExpire); got != mine {
		t.Errorf("big expire entries: got %d, want %d", got, mine)
	}
	var expired int64
	for i := len(led) - 1; i >= 0; i-- { // Oldest first: each entry's balance follows the one before.
		if en := led[i]; en.Kind == loyalty.KindExpire {
			expired -= en.Points
			if en.After.Available != int64(mine*(mine+1)/2)-expired {
				t.Errorf("expire entry of lot %s: balance after %d, want %d", en.LotID, en.After.Available, int64(mine*(mine+1)/2)-expired)
			}
		}
	}
	for i := range members {
		e.wantBalance(fmt.Sprintf("w%d", i), 0, 0, 0)
	}
	if n := e.indexItems("due#points#" + calendar.Day(Start.Add(days(1)))); n != 0 {
		t.Errorf("index items left: %d", n)
	}
}

// testSweepBatchContended has a concurrent spend change one member's
// account just before the batch holding its lot is written: the batch
// fails, its items are settled one by one, each once, and the contended
// member's expiry is computed from its account after the spend.
func testSweepBatchContended(t *testing.T, e *env) {
	ids := sameShard("c", 8)
	for _, m := range ids {
		e.earn(m, 10, "due-"+m, rolling(1), 0)
	}
	x := ids[3]
	e.earn(x, 20, "keep", &loyalty.ExpiryRule{Mode: loyalty.ExpireNever}, 0)
	e.clk.Add(days(2))
	f, svc := e.faulty()
	var once sync.Once
	f.BeforeWrite = func(_ context.Context, ms []store.Mutation) error {
		if len(ms) > 6 && touches(ms, "member#"+x, "points") {
			once.Do(func() {
				if _, err := e.spend(x, 5, "contend"); err != nil {
					t.Errorf("spend: %v", err)
				}
			})
		}
		return nil
	}
	res, err := svc.ExpireDue(e.ctx, e.clk.Now(), 100)
	if err != nil || res.Items != len(ids) || res.Points != int64(10*len(ids)) || res.Failed+res.Skipped != 0 {
		t.Fatalf("ExpireDue: got %+v, %v; want %d items, %d points", res, err, len(ids), 10*len(ids))
	}
	// The failed batch, each lot on its own, the cursor.
	if c := f.Counts(); c.Writes != 1+len(ids)+1 {
		t.Errorf("writes: got %d, want %d", c.Writes, 1+len(ids)+1)
	}
	for _, m := range ids {
		led := e.ledger(m)
		if got := countKind(led, loyalty.KindExpire); got != 1 {
			t.Errorf("%s expire entries: got %d, want 1", m, got)
		}
		if m != x {
			e.wantBalance(m, 0, 0, 0)
			continue
		}
		if b := e.balance(m); b.Available != 15 || b.Expired != 10 || b.Spent != 5 || countKind(led, loyalty.KindSpend) != 1 {
			t.Errorf("contended %s: got %+v, want 15 available, 10 expired, 5 spent once", m, b)
		}
	}
}

// testSweepOverlappingBatches starts two runs over one partition so that
// both have planned their first batch before either writes it: one wins,
// the other finds each item settled, and every lot expires once.
func testSweepOverlappingBatches(t *testing.T, e *env) {
	ids := sameShard("o", 30)
	for _, m := range ids {
		e.earn(m, 10, "a-"+m, rolling(1), 0)
		e.earn(m, 5, "b-"+m, rolling(1), 0)
	}
	e.clk.Add(days(2))
	var arrived sync.WaitGroup
	arrived.Add(2)
	both := make(chan struct{})
	go func() { arrived.Wait(); close(both) }()
	results := make([]loyalty.SweepResult, 2)
	var wg sync.WaitGroup
	for i := range results {
		f, svc := e.faulty()
		var first sync.Once
		f.BeforeWrite = func(context.Context, []store.Mutation) error {
			first.Do(func() {
				arrived.Done()
				select {
				case <-both:
				case <-time.After(5 * time.Second):
					t.Errorf("run %d: the other run never reached its first write", i)
				}
			})
			return nil
		}
		wg.Go(func() {
			res, err := svc.ExpireDue(e.ctx, e.clk.Now(), 1000)
			if err != nil || res.Failed != 0 {
				t.Errorf("run %d: %+v, %v", i, res, err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	if items, points := results[0].Items+results[1].Items, results[0].Points+results[1].Points; items != 2*len(ids) || points != int64(15*len(ids)) {
		t.Errorf("two runs settled %d items, %d points; want %d, %d (%+v)", items, points, 2*len(ids), 15*len(ids), results)
	}
	for _, m := range ids {
		e.wantBalance(m, 0, 0, 0)
		if got := countKind(e.ledger(m), loyalty.KindExpire); got != 2 {
			t.Errorf("%s expire entries: got %d, want 2", m, got)
		}
	}
	if res := e.expire(1000); res.Items+res.Skipped != 0 {
		t.Errorf("third run: got %+v, want nothing", res)
	}
}

// testSweepBatchAnswerLost applies a batch write but loses its answer, as
// a dropped connection or a crash just after the commit does: the run
// settles the batch's items one by one, finds them settled, and nothing
// expires twice.
func testSweepBatchAnswerLost(t *testing.T, e *env) {
	ids := sameShard("l", 10)
	for _, m := range ids {
		e.earn(m, 10, "due-"+m, rolling(1), 0)
	}
	e.clk.Add(days(2))
	f, svc := e.faulty()
	var once sync.Once
	f.BeforeWrite = func(ctx context.Context, ms []store.Mutation) error {
		var err error
		if len(ms) > 6 {
			once.Do(func() {
				if werr := e.st.Write(ctx, ms...); werr != nil {
					t.Errorf("write: %v", werr)
				}
				err = errs.E(errs.Transient, "connection reset after the commit")
			})
		}
		return err
	}
	res, err := svc.ExpireDue(e.ctx, e.clk.Now(), 100)
	if err != nil || res.Items+res.Skipped != len(ids) || res.Failed != 0 || res.More {
		t.Fatalf("ExpireDue: got %+v, %v; want %d items settled or found settled", res, err, len(ids))
	}
	for _, m := range ids {
		e.wantBalance(m, 0, 0, 0)
		if got := countKind(e.ledger(m), loyalty.KindExpire); got != 1 {
			t.Errorf("%s expire entries: got %d, want 1", m, got)
		}
	}
}

// testSweepUnsharded settles due items written before the index was
// sharded, in the day's unsharded partition: lot expiry, pending release,
// reminders and level review all still find them.
func testSweepUnsharded(t *testing.T, e *env) {
	e.earn("u1", 10, "u1", rolling(1), 0)
	e.earn("u2", 20, "u2", &loyalty.ExpiryRule{Mode: loyalty.ExpireNever}, 3)
	e.silverBelow("u3")
	expiry := "due#points#" + calendar.Day(Start.Add(days(1)))
	release := "due#pointspending#" + calendar.Day(Start.Add(days(3)))
	reviewAt := e.level("u3").ReviewAt
	review := "due#levelreview#" + calendar.Day(reviewAt)
	for _, pk := range []string{expiry, release, review} {
		if n := e.unshard(pk); n != 1 {
			t.Fatalf("unshard %s: moved %d items, want 1", pk, n)
		}
	}
	e.unshardReview("u3", review)

	if got, _, err := e.svc.ExpiringWithin(e.ctx, e.clk.Now(), days(2), "", 10); err != nil || len(got) != 1 || got[0].MemberID != "u1" {
		t.Errorf("ExpiringWithin: got %+v, %v; want u1's lot", got, err)
	}
	e.clk.Add(days(1))
	if res := e.expire(100); res.Items != 1 || res.Points != 10 {
		t.Errorf("ExpireDue: got %+v, want u1's lot", res)
	}
	e.clk.Add(days(2))
	if res, err := e.svc.ReleaseDue(e.ctx, e.clk.Now(), 100); err != nil || res.Items != 1 || res.Points != 20 {
		t.Errorf("ReleaseDue: got %+v, %v; want u2's lot", res, err)
	}
	e.clk.Add(reviewAt.Sub(e.clk.Now()))
	if res := e.review(); res.Items != 1 {
		t.Errorf("ReviewLevels: got %+v, want u3's review", res)
	}
	if v := e.level("u3"); v.GraceUntil.IsZero() {
		t.Errorf("u3 after the review: got %+v, want a grace period", v)
	}
	e.wantBalance("u1", 0, 0, 0)
	e.wantBalance("u2", 20, 0, 0)
	for _, pk := range []string{expiry, release, review} {
		if n := e.indexItems(pk); n != 0 {
			t.Errorf("%s: %d items left, want none", pk, n)
		}
	}
}

// unshardReview points member's level item at its review index item in
// the unsharded partition pk, as a level item written before the index was
// sharded does.
func (e *env) unshardReview(member, pk string) {
	e.t.Helper()
	k := store.K("member#"+member, "level")
	it, err := e.st.Get(e.ctx, k)
	if err != nil {
		e.t.Fatalf("Get %s: %v", k, err)
	}
	var st map[string]any
	if err := json.Unmarshal(it.Data, &st); err != nil {
		e.t.Fatal(err)
	}
	st["review_pk"] = pk
	if err := e.st.Write(e.ctx, store.PutJSON(k, st).IfVersion(it.Version)); err != nil {
		e.t.Fatalf("Write %s: %v", k, err)
	}
}

// testLevelEndsUnsharded reads a level end indexed before the index was
// sharded, and deletes it when the end moves.
func testLevelEndsUnsharded(t *testing.T, e *env) {
	until := Start.Add(days(2))
	e.setLevel("m1", "gold", until, "paid1")
	if n := e.unshard("due#levelend#" + calendar.Day(until)); n != 1 {
		t.Fatalf("unshard: moved %d items, want 1", n)
	}
	wantEnds(t, "unsharded", e.endingWithin(Start, days(3), 10),
		loyalty.LevelReminder{MemberID: "m1", Level: "gold", Next: "normal", At: until, Kind: loyalty.LevelEndSet})
	e.setLevel("m1", "gold", until.Add(days(5)), "paid2")
	if n := e.levelEndItems(until); n != 0 {
		t.Errorf("index items after the move: got %d, want 0", n)
	}
	e.setLevel("m1", "gold", until, "paid3") // Back to the first instant: one reminder, not two.
	wantEnds(t, "moved back", e.endingWithin(Start, days(3), 10),
		loyalty.LevelReminder{MemberID: "m1", Level: "gold", Next: "normal", At: until, Kind: loyalty.LevelEndSet})
}
