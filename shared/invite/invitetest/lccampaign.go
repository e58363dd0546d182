package invitetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/codes"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/invite"
	"github.com/wemember/wemember/shared/store"
)

// lcCampaign saves a campaign running from the test's start for a week.
func (e *lcEnv) campaign(t *testing.T, id string, pool int) invite.Campaign {
	t.Helper()
	cp, err := e.svc.SaveCampaign(e.ctx, invite.Campaign{ID: id, Name: "Spring", Format: &codes.Format{Prefix: "BRAND", Length: 8},
		StartsAt: lcStart, EndsAt: lcStart.Add(7 * 24 * time.Hour), CapPerCode: 50, PoolSize: pool}, "op")
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// poolCount counts a campaign's ready codes.
func (e *lcEnv) poolCount(t *testing.T, id string) int {
	t.Helper()
	page, err := e.st.Query(e.ctx, store.Query{PK: "invpool#" + id, Prefix: "p#"})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Items)
}

func lcCampaignSave(t *testing.T, e *lcEnv) {
	cp := e.campaign(t, "spring", 0)
	if cp.Version != 1 || cp.UpdatedBy != "op" {
		t.Fatalf("saved %+v", cp)
	}
	got, err := e.svc.Campaign(e.ctx, "spring")
	if err != nil || got.Name != "Spring" || got.Format.Prefix != "BRAND" || !got.EndsAt.Equal(cp.EndsAt) {
		t.Fatalf("Campaign = %+v, %v", got, err)
	}
	got.Name = "Spring 2"
	if _, err := e.svc.SaveCampaign(e.ctx, got, "op"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SaveCampaign(e.ctx, got, "op"); !errs.Is(errs.Conflict, err) {
		t.Fatalf("stale save: %v", err)
	}
	got.Version = 2
	got.EndsAt = got.EndsAt.Add(time.Hour)
	if _, err := e.svc.SaveCampaign(e.ctx, got, "op"); !errs.Is(errs.Invalid, err) {
		t.Fatalf("window change: %v", err)
	}
	for i, bad := range []invite.Campaign{
		{ID: "", Name: "x", StartsAt: lcStart, EndsAt: lcStart.Add(time.Hour)},
		{ID: "a#b", Name: "x", StartsAt: lcStart, EndsAt: lcStart.Add(time.Hour)},
		{ID: "x", Name: "", StartsAt: lcStart, EndsAt: lcStart.Add(time.Hour)},
		{ID: "x", Name: "x", StartsAt: lcStart, EndsAt: lcStart},
		{ID: "x", Name: "x", StartsAt: lcStart.Add(-2 * time.Hour), EndsAt: lcStart.Add(-time.Hour)},
		{ID: "x", Name: "x", StartsAt: lcStart, EndsAt: lcStart.Add(time.Hour), PoolSize: invite.MaxPool + 1},
		{ID: "x", Name: "x", StartsAt: lcStart, EndsAt: lcStart.Add(time.Hour), Format: &codes.Format{Length: 2}},
	} {
		if _, err := e.svc.SaveCampaign(e.ctx, bad, "op"); !errs.Is(errs.Invalid, err) {
			t.Errorf("case %d: %v, want invalid", i, err)
		}
	}
	if _, err := e.svc.Campaign(e.ctx, "nope"); !errs.Is(errs.NotExist, err) {
		t.Fatalf("unknown campaign: %v", err)
	}
}

func lcCampaignJoinOnce(t *testing.T, e *lcEnv) {
	e.campaign(t, "spring", 0)
	c, text, err := e.svc.OwnCode(e.ctx, "m1", invite.KindCampaign, "spring")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(text, "BRAND") || c.Owner != "m1" || c.Campaign != "spring" || c.Cap != 50 ||
		!c.StartsAt.Equal(lcStart) || !c.EndsAt.Equal(lcStart.Add(7*24*time.Hour)) || !c.ExpiresAt.IsZero() {
		t.Fatalf("campaign code %+v %q", c, text)
	}
	again, _, err := e.svc.OwnCode(e.ctx, "m1", invite.KindCampaign, "spring")
	if err != nil || again.ID != c.ID {
		t.Fatalf("join twice: %v %v", again.ID, err)
	}
	if _, _, err := e.svc.OwnCode(e.ctx, "m1", invite.KindCampaign, "nope"); !errs.Is(errs.NotExist, err) {
		t.Fatalf("unknown campaign: %v", err)
	}
	// Sharing a campaign code does not extend it.
	shared, err := e.svc.Shared(e.ctx, "m1", c.ID)
	if err != nil || !shared.ExpiresAt.IsZero() || !shared.EndsAt.Equal(c.EndsAt) {
		t.Fatalf("shared campaign code %+v %v", shared, err)
	}
	e.advance(7*24*time.Hour + time.Second)
	if _, _, err := e.svc.OwnCode(e.ctx, "m2", invite.KindCampaign, "spring"); !errs.Is(errs.Invalid, err) {
		t.Fatalf("a code of an ended campaign: %v", err)
	}
}

func lcPoolClaimConcurrent(t *testing.T, e *lcEnv, members, workers int) {
	// Twice as many members as ready codes race: the pool runs low, refills
	// and, for members who lose too many races, fresh codes are made.
	pool := members / 2
	e.campaign(t, "spring", pool)
	if n, err := e.svc.RefillPool(e.ctx, "spring"); err != nil || n != pool {
		t.Fatalf("first fill: %d, %v", n, err)
	}
	if got := e.poolCount(t, "spring"); got != pool {
		t.Fatalf("pool holds %d, want %d", got, pool)
	}
	ids := make([]string, members)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c, _, err := e.svc.OwnCode(e.ctx, lcMember(i), invite.KindCampaign, "spring")
				if err != nil {
					t.Error(err)
					continue
				}
				ids[i] = c.ID
			}
		}()
	}
	for i := range members {
		next <- i
	}
	close(next)
	wg.Wait()
	if t.Failed() {
		return
	}
	owner := map[string]int{}
	for i, id := range ids {
		if j, dup := owner[id]; dup {
			t.Fatalf("code %s given to members %d and %d", id, j, i)
		}
		owner[id] = i
		if c := e.lookupID(t, id); c.Owner != lcMember(i) || c.Campaign != "spring" {
			t.Fatalf("member %d's code is stored as %+v", i, c)
		}
	}
	// No ready code left in the pool belongs to anyone.
	page, err := e.st.Query(e.ctx, store.Query{PK: "invpool#spring", Prefix: "p#"})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range page.Items {
		if c := e.lookupID(t, strings.TrimPrefix(it.SK, "p#")); c.Owner != "" {
			t.Fatalf("pool still offers %s, owned by %s", c.ID, c.Owner)
		}
	}
	if len(page.Items) == 0 {
		t.Fatal("the pool was not refilled")
	}
	for i, id := range ids[:20] {
		list, err := e.svc.MemberCodes(e.ctx, lcMember(i))
		if err != nil || len(list) != 1 || list[0].ID != id || list[0].Text == "" {
			t.Fatalf("member %d's codes: %+v %v", i, list, err)
		}
	}
}

// lcMember names the i-th member of a race.
func lcMember(i int) string { return fmt.Sprintf("m%03d", i) }

func lcPoolRefills(t *testing.T, e *lcEnv) {
	const pool = 40 // Low-water mark 10.
	e.campaign(t, "spring", pool)
	// The first claim finds the pool empty: a fresh code, then a refill.
	first, _, err := e.svc.OwnCode(e.ctx, "m0", invite.KindCampaign, "spring")
	if err != nil {
		t.Fatal(err)
	}
	if got := e.poolCount(t, "spring"); got != pool {
		t.Fatalf("after the first claim the pool holds %d, want %d", got, pool)
	}
	seen := map[string]bool{first.ID: true}
	for i := 1; i <= 30; i++ { // Down to 10: at the mark, no refill yet.
		c, _, err := e.svc.OwnCode(e.ctx, "m"+string(rune('a'+i)), invite.KindCampaign, "spring")
		if err != nil || seen[c.ID] {
			t.Fatalf("claim %d: %v (repeat %v)", i, err, seen[c.ID])
		}
		seen[c.ID] = true
	}
	if got := e.poolCount(t, "spring"); got != 10 {
		t.Fatalf("after 30 claims the pool holds %d, want 10", got)
	}
	if _, _, err := e.svc.OwnCode(e.ctx, "last", invite.KindCampaign, "spring"); err != nil {
		t.Fatal(err)
	}
	if got := e.poolCount(t, "spring"); got != pool {
		t.Fatalf("a claim at the low-water mark left %d, want a refill to %d", got, pool)
	}
	// The sweep tops up every running campaign's pool: a new campaign's
	// empty pool fills, a full one is left alone, an ended one too.
	e.campaign(t, "autumn", 5)
	if _, err := e.svc.SaveCampaign(e.ctx, invite.Campaign{ID: "short", Name: "Short", StartsAt: lcStart,
		EndsAt: lcStart.Add(time.Hour), PoolSize: 7}, "op"); err != nil {
		t.Fatal(err)
	}
	e.advance(2 * time.Hour)
	if n, err := e.svc.RefillPools(e.ctx, e.clock()); err != nil || n != 5 {
		t.Fatalf("RefillPools: %d, %v; want the 5 of autumn", n, err)
	}
	if a, s := e.poolCount(t, "autumn"), e.poolCount(t, "short"); a != 5 || s != 0 {
		t.Fatalf("pools: autumn %d, short %d", a, s)
	}
	if n, err := e.svc.RefillPools(e.ctx, e.clock()); err != nil || n != 0 {
		t.Fatalf("RefillPools on full pools: %d, %v", n, err)
	}
}
