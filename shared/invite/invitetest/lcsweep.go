package invitetest

import (
	"testing"
	"time"

	"github.com/wemember/wemember/shared/codes"
	"github.com/wemember/wemember/shared/invite"
	"github.com/wemember/wemember/shared/store"
)

func lcExpireResumable(t *testing.T, e *lcEnv) {
	// Five codes expiring on three days, one still live.
	var ids []string
	for i, d := range []time.Duration{0, 0, 24 * time.Hour, 48 * time.Hour, 30 * 24 * time.Hour} {
		e.now.Store(lcStart.Add(d).Unix())
		c, _, err := e.svc.OwnCode(e.ctx, "m"+string(rune('a'+i)), invite.KindRegistration, "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	e.now.Store(lcStart.Add(3*24*time.Hour + time.Hour).Unix()) // The first four are past their 24 h.
	total, runs := 0, 0
	for more := true; more; runs++ {
		if runs > 10 {
			t.Fatal("the sweep never finishes")
		}
		n, m, err := e.svc.ExpireCodes(e.ctx, e.clock(), 1)
		if err != nil || n > 1 {
			t.Fatalf("run %d: %d, %v", runs, n, err)
		}
		total, more = total+n, m
	}
	if total != 4 || runs < 4 {
		t.Fatalf("expired %d in %d runs, want 4 in at least 4", total, runs)
	}
	for i, id := range ids {
		want := invite.Expired
		if i == 4 {
			want = invite.Active
		}
		if c := e.lookupID(t, id); c.Status != want {
			t.Fatalf("code %d: %s, want %s", i, c.Status, want)
		}
	}
	// Idempotent: run twice more, nothing changes.
	for range 2 {
		if n, more, err := e.svc.ExpireCodes(e.ctx, e.clock(), 100); n != 0 || more || err != nil {
			t.Fatalf("repeat: %d %v %v", n, more, err)
		}
	}
	// The last code expires when its day comes.
	e.now.Store(lcStart.Add(32 * 24 * time.Hour).Unix())
	if n, _, err := e.svc.ExpireCodes(e.ctx, e.clock(), 100); n != 1 || err != nil {
		t.Fatalf("later run: %d, %v", n, err)
	}
	if _, _, err := e.svc.ExpireCodes(e.ctx, e.clock(), 0); err == nil {
		t.Fatal("a limit of 0 was taken")
	}
}

func lcExpireBatchPage(t *testing.T, e *lcEnv) {
	b, err := e.svc.CreateBatch(e.ctx, invite.BatchCmd{Kind: invite.KindOAFollow, Count: 120, Operator: "op"})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(72*time.Hour + time.Second)
	n, more, err := e.svc.ExpireCodes(e.ctx, e.clock(), 1000)
	if err != nil || n != 120 || more {
		t.Fatalf("sweep of 120: %d %v %v", n, more, err)
	}
	for _, text := range b.Codes {
		if c := e.lookup(t, text); c.Status != invite.Expired {
			t.Fatalf("code %s", c.Status)
		}
	}
}

func lcCampaignEnds(t *testing.T, e *lcEnv) {
	e.campaign(t, "spring", 8)
	owned := map[string]string{}
	for _, m := range []string{"m1", "m2", "m3"} {
		c, _, err := e.svc.OwnCode(e.ctx, m, invite.KindCampaign, "spring")
		if err != nil {
			t.Fatal(err)
		}
		owned[c.ID] = m
	}
	pooled := e.poolCount(t, "spring")
	if pooled == 0 {
		t.Fatal("the pool is empty")
	}
	e.advance(6 * 24 * time.Hour)
	if n, more, err := e.svc.EndCampaigns(e.ctx, e.clock(), 100); n != 0 || more || err != nil {
		t.Fatalf("before the end: %d %v %v", n, more, err)
	}
	e.advance(24*time.Hour + time.Second)
	total := 0
	for runs := 0; ; runs++ {
		if runs > 30 {
			t.Fatal("the end never finishes")
		}
		n, more, err := e.svc.EndCampaigns(e.ctx, e.clock(), 2)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if !more {
			break
		}
	}
	if total != 3+pooled {
		t.Fatalf("settled %d codes, want %d", total, 3+pooled)
	}
	for id, m := range owned {
		c := e.lookupID(t, id)
		if c.Kind != invite.KindRegistration || c.Owner != m || c.Campaign != "" || c.FromCampaign != "spring" ||
			!c.EndsAt.IsZero() || c.Status != invite.Active || !c.ExpiresAt.Equal(e.clock().Add(24*time.Hour)) {
			t.Fatalf("ended campaign code %+v", c)
		}
	}
	if got := e.poolCount(t, "spring"); got != 0 {
		t.Fatalf("%d pool items left", got)
	}
	cp, err := e.svc.Campaign(e.ctx, "spring")
	if err != nil || !cp.Ended {
		t.Fatalf("campaign %+v %v", cp, err)
	}
	if n, more, err := e.svc.EndCampaigns(e.ctx, e.clock(), 100); n != 0 || more || err != nil {
		t.Fatalf("repeat: %d %v %v", n, more, err)
	}
	// The former campaign code is an ordinary code: a share extends it.
	for id, m := range owned {
		c, err := e.svc.Shared(e.ctx, m, id)
		if err != nil || !c.ExpiresAt.Equal(e.clock().Add(30*time.Hour)) {
			t.Fatalf("share after the end: %v %v", c.ExpiresAt, err)
		}
		break
	}
}

func lcRotateWeCom(t *testing.T, e *lcEnv) {
	old, oldText, err := e.svc.OwnCode(e.ctx, "staff1", invite.KindWeCom, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.svc.CreateBatch(e.ctx, invite.BatchCmd{Kind: invite.KindWeCom, Count: 2, Channel: "wecom-way-1",
		Format: &codes.Format{Prefix: "WX", Length: 10}, Operator: "op"})
	if err != nil {
		t.Fatal(err)
	}
	if !old.RotateAt.Equal(lcStart.Add(7 * 24 * time.Hour)) {
		t.Fatalf("rotate at %v", old.RotateAt)
	}
	e.advance(7*24*time.Hour - time.Second)
	if rs, _, err := e.svc.RotateWeCom(e.ctx, e.clock(), 100); len(rs) != 0 || err != nil {
		t.Fatalf("early rotation: %v %v", rs, err)
	}
	e.advance(time.Second)
	rs, more, err := e.svc.RotateWeCom(e.ctx, e.clock(), 100)
	if err != nil || more || len(rs) != 3 {
		t.Fatalf("rotation: %v %v %v", rs, more, err)
	}
	next := map[string]string{}
	for _, r := range rs {
		next[r.Old] = r.New
		n := e.lookupID(t, r.New)
		if n.Status != invite.Active || !n.RotateAt.Equal(e.clock().Add(7*24*time.Hour)) || n.Owner != r.Owner || n.Channel != r.Channel {
			t.Fatalf("new code %+v for %+v", n, r)
		}
		o := e.lookupID(t, r.Old)
		if o.ReplacedBy != r.New || o.Status != invite.Active || !o.ExpiresAt.Equal(e.clock().Add(24*time.Hour)) {
			t.Fatalf("old code in its grace %+v", o)
		}
	}
	if next[old.ID] == "" {
		t.Fatal("the member's code did not rotate")
	}
	own, _, err := e.svc.OwnCode(e.ctx, "staff1", invite.KindWeCom, "")
	if err != nil || own.ID != next[old.ID] {
		t.Fatalf("the member's code after rotation: %v %v", own.ID, err)
	}
	for _, text := range b.Codes {
		if c := e.lookup(t, text); next[c.ID] == "" || e.lookupID(t, next[c.ID]).Batch != b.ID {
			t.Fatalf("batch code %s not rotated within its batch", c.ID)
		}
	}
	// Rotation is idempotent; the grace ends with the expiry sweep.
	if rs, _, err := e.svc.RotateWeCom(e.ctx, e.clock(), 100); len(rs) != 0 || err != nil {
		t.Fatalf("repeat rotation: %v %v", rs, err)
	}
	e.advance(24 * time.Hour)
	if n, _, err := e.svc.ExpireCodes(e.ctx, e.clock(), 100); n != 3 || err != nil {
		t.Fatalf("grace sweep: %d %v", n, err)
	}
	if o := e.lookup(t, oldText); o.Status != invite.Archived {
		t.Fatalf("old code after its grace: %s", o.Status)
	}
}

func lcExpireStaleItems(t *testing.T, e *lcEnv) {
	c, _, err := e.svc.OwnCode(e.ctx, "m1", invite.KindRegistration, "")
	if err != nil {
		t.Fatal(err)
	}
	// A stale due item of the same code in the same partition, and one of
	// a code that does not exist: the sweep drops both and expires the code
	// once.
	day := c.ExpiresAt.UTC().Format("20060102")
	stale := store.K(store.Sharded("invdue#"+day, c.ID), c.ExpiresAt.Add(-time.Hour).UTC().Format("20060102T150405Z")+"#"+c.ID)
	ghost := store.K(store.Sharded("invdue#"+day, "ghost"), c.ExpiresAt.UTC().Format("20060102T150405Z")+"#ghost")
	if err := e.st.Write(e.ctx, store.Put(stale, []byte(`{"id":"`+c.ID+`"}`)), store.Put(ghost, []byte(`{"id":"ghost"}`))); err != nil {
		t.Fatal(err)
	}
	e.advance(25 * time.Hour)
	if n, more, err := e.svc.ExpireCodes(e.ctx, e.clock(), 100); n != 1 || more || err != nil {
		t.Fatalf("sweep: %d %v %v", n, more, err)
	}
	if got := e.lookupID(t, c.ID); got.Status != invite.Expired {
		t.Fatalf("code %s", got.Status)
	}
	for _, k := range []store.Key{stale, ghost} {
		if _, err := e.st.Get(e.ctx, k); err == nil {
			t.Fatalf("item %s left", k)
		}
	}
}
