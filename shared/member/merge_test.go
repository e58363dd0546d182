package member_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/store"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func newClocked(t *testing.T) (*member.Service, *clock, store.Store) {
	t.Helper()
	c := &clock{now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	s, err := bolt.Open(t.TempDir()+"/m.db", bolt.WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	box, _ := pii.New([]byte("0123456789abcdef0123456789abcdef"))
	return member.NewService(s, box, c.Now, member.NewID), c, s
}

func TestMergeWhenUnionIDJoinsTwoMembers(t *testing.T) {
	svc, c, _ := newClocked(t)
	ctx := context.Background()
	var absorbed [][2]string
	var mu sync.Mutex
	svc.AddAbsorber(member.AbsorberFunc(func(_ context.Context, from, into string) error {
		mu.Lock()
		absorbed = append(absorbed, [2]string{from, into})
		mu.Unlock()
		return nil
	}))
	// A follower of the Official Account, before the unionid was known.
	older, err := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("oa", "f1")}, Channel: member.Channel{Kind: "oa-qr", Value: "123"}})
	if err != nil {
		t.Fatal(err)
	}
	c.Add(time.Hour)
	newer, err := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{unionid("u9"), openid("mp", "m1")}, Channel: member.Channel{Kind: "mini-program"}})
	if err != nil {
		t.Fatal(err)
	}
	// The Official Account now learns the follower's unionid.
	res, err := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{unionid("u9"), openid("oa", "f1")}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Member.ID != older.Member.ID {
		t.Fatalf("survivor %s, want the older member %s", res.Member.ID, older.Member.ID)
	}
	for _, id := range []member.Identity{openid("oa", "f1"), openid("mp", "m1"), unionid("u9")} {
		m, err := svc.Resolve(ctx, id)
		if err != nil || m.ID != older.Member.ID {
			t.Errorf("Resolve(%v) = %s, %v; want %s", id, m.ID, err, older.Member.ID)
		}
	}
	gone, err := svc.Get(ctx, newer.Member.ID)
	if err != nil || gone.ID != older.Member.ID {
		t.Fatalf("Get(merged-away) = %s, %v; want the survivor", gone.ID, err)
	}
	if len(res.Member.Attributions) != 1 || res.Member.Attributions[0].Kind != "mini-program" {
		t.Fatalf("attributions = %+v; want the merged member's channel kept", res.Member.Attributions)
	}
	if len(absorbed) != 1 || absorbed[0] != [2]string{newer.Member.ID, older.Member.ID} {
		t.Fatalf("absorbers ran %v; want once from %s into %s", absorbed, newer.Member.ID, older.Member.ID)
	}
	// The second, catch-up pass runs a day later and only then.
	if n, err := svc.ResumeMerges(ctx, 10); err != nil || n != 0 {
		t.Fatalf("ResumeMerges too early = %d, %v", n, err)
	}
	c.Add(25 * time.Hour)
	if n, err := svc.ResumeMerges(ctx, 10); err != nil || n != 1 {
		t.Fatalf("ResumeMerges = %d, %v; want 1", n, err)
	}
	if n, _ := svc.ResumeMerges(ctx, 10); n != 0 || len(absorbed) != 2 {
		t.Fatalf("after both passes: resumed %d, absorbed %d times; want 0 and 2", n, len(absorbed))
	}
}

func TestMergeConcurrentlyOnce(t *testing.T) {
	svc, c, _ := newClocked(t)
	ctx := context.Background()
	a, _ := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("oa", "x")}})
	c.Add(time.Minute)
	b, _ := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", "y")}})
	var runs sync.Map
	svc.AddAbsorber(member.AbsorberFunc(func(_ context.Context, from, into string) error {
		n, _ := runs.LoadOrStore(from+">"+into, new(int))
		*(n.(*int))++
		return nil
	}))
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				svc.Merge(ctx, a.Member.ID, b.Member.ID)
			} else {
				svc.Merge(ctx, b.Member.ID, a.Member.ID)
			}
		}()
	}
	wg.Wait()
	total := 0
	runs.Range(func(k, v any) bool {
		if k != b.Member.ID+">"+a.Member.ID {
			t.Errorf("absorbed %v, want only %s>%s", k, b.Member.ID, a.Member.ID)
		}
		total += *(v.(*int))
		return true
	})
	if total != 1 {
		t.Fatalf("absorbed %d times, want 1", total)
	}
}

func TestIndependentModeKeepsAppsApart(t *testing.T) {
	svc, _, _ := newClocked(t)
	ctx := context.Background()
	r := member.DefaultRules()
	r.Version, r.Bind, r.Unsubscribe = 1, member.BindIndependent, member.UnsubscribeKeep
	if _, err := svc.SetRules(ctx, r, "ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetRules(ctx, member.Rules{Bind: "sometimes"}, "ops"); !errs.Is(errs.Invalid, err) {
		t.Fatalf("bad rules: %v, want invalid", err)
	}
	a, _ := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{unionid("u1"), openid("mp", "m")}})
	b, _ := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{unionid("u1"), openid("oa", "o")}})
	if a.Member.ID == b.Member.ID || !b.Created {
		t.Fatalf("independent mode joined apps: %s and %s", a.Member.ID, b.Member.ID)
	}
}

func TestForcedModeAsksForPhone(t *testing.T) {
	svc, _, _ := newClocked(t)
	ctx := context.Background()
	rules := member.DefaultRules()
	rules.Version, rules.Bind, rules.Unsubscribe = 1, member.BindForced, member.UnsubscribeKeep
	if _, err := svc.SetRules(ctx, rules, "ops"); err != nil {
		t.Fatal(err)
	}
	r, _ := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", "m")}})
	if !r.NeedsPhone {
		t.Fatal("forced mode did not ask for the phone")
	}
	r, _ = svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", "m")}, Phone: pii.Phone{Country: "86", Number: "13900001111"}})
	if r.NeedsPhone || r.Member.PhoneMask != "139****1111" {
		t.Fatalf("after the phone: %+v", r)
	}
}

func TestArchiveInactive(t *testing.T) {
	svc, c, _ := newClocked(t)
	ctx := context.Background()
	if _, _, err := svc.ArchiveInactive(ctx, c.Now(), 100); err != nil { // First run sets the cursor.
		t.Fatal(err)
	}
	idle, _ := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", "idle")}})
	busy, _ := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", "busy")}})
	c.Add(100 * 24 * time.Hour)
	svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", "busy")}})
	c.Add(81 * 24 * time.Hour)
	n, more, err := svc.ArchiveInactive(ctx, c.Now(), 1000)
	if err != nil || n != 1 || more {
		t.Fatalf("ArchiveInactive = %d, %v, %v; want 1 archived", n, more, err)
	}
	if m, _ := svc.Get(ctx, idle.Member.ID); m.Status != member.Archived {
		t.Fatalf("idle member status %s, want archived", m.Status)
	}
	if m, _ := svc.Get(ctx, busy.Member.ID); m.Status != member.Active {
		t.Fatalf("busy member status %s, want active", m.Status)
	}
	if n, _, _ := svc.ArchiveInactive(ctx, c.Now(), 1000); n != 0 {
		t.Fatalf("second run archived %d, want 0", n)
	}
	back, err := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", "idle")}})
	if err != nil || back.Member.ID != idle.Member.ID || back.Member.Status != member.Active {
		t.Fatalf("return of an archived member = %+v, %v; want restored", back.Member, err)
	}
}

func TestUpdateProfileNeedsConsent(t *testing.T) {
	svc, _, s := newClocked(t)
	ctx := context.Background()
	r, _ := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", "m")}})
	bday := "05-20"
	if _, err := svc.UpdateProfile(ctx, r.Member.ID, member.ProfileUpdate{Birthday: &bday}); !errs.Is(errs.Permission, err) {
		t.Fatalf("birthday without consent: %v, want permission", err)
	}
	m, err := svc.UpdateProfile(ctx, r.Member.ID, member.ProfileUpdate{Birthday: &bday, Consent: &member.Consent{Version: "v1", Channel: "mp"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := svc.Birthday(m); got != "05-20" || m.Consent.At.IsZero() {
		t.Fatalf("birthday %q consent %+v", got, m.Consent)
	}
	page, _ := s.Query(ctx, store.Query{PK: svc.BirthdayPartition("05-20")})
	if len(page.Items) != 1 || page.Items[0].SK != m.ID {
		t.Fatalf("birthday index = %+v", page.Items)
	}
	bad := "13-40"
	if _, err := svc.UpdateProfile(ctx, r.Member.ID, member.ProfileUpdate{Birthday: &bad}); !errs.Is(errs.Invalid, err) {
		t.Fatalf("bad birthday: %v", err)
	}
}

// TestArchiveAfterDaysRule archives by the operator's rule, not a fixed 180
// days, and refuses out-of-range identity rules with nothing stored.
func TestArchiveAfterDaysRule(t *testing.T) {
	svc, c, _ := newClocked(t)
	ctx := context.Background()
	if r, err := svc.Rules(ctx); err != nil || r.ArchiveAfterDays != 180 || r.Import.BatchRows != member.MaxImportRows ||
		r.Import.JobRows != member.MaxImportJobRows {
		t.Fatalf("default rules = %+v, %v; want archive after 180 days, imports of 1000 and 100000 rows", r, err)
	}
	for _, edit := range []func(r *member.Rules){
		func(r *member.Rules) { r.ArchiveAfterDays = 7 },
		func(r *member.Rules) { r.ArchiveAfterDays = 1 << 40 },
		func(r *member.Rules) { r.Import = member.ImportRules{BatchRows: 5000, JobRows: 10000} },
		func(r *member.Rules) { r.Import = member.ImportRules{BatchRows: 10, JobRows: 1 << 40} },
	} {
		bad := member.DefaultRules()
		bad.Version, bad.Bind, bad.Unsubscribe = 1, member.BindProgressive, member.UnsubscribeKeep
		edit(&bad)
		if _, err := svc.SetRules(ctx, bad, "ops"); !errs.Is(errs.Invalid, err) {
			t.Errorf("SetRules(%+v) = %v, want invalid", bad, err)
		}
	}
	if r, _ := svc.Rules(ctx); r.Unsubscribe != member.UnsubscribeUnlink {
		t.Fatalf("a refused rule was stored: %+v", r)
	}
	r := member.DefaultRules()
	r.Version, r.ArchiveAfterDays = 1, 30
	if _, err := svc.SetRules(ctx, r, "ops"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.ArchiveInactive(ctx, c.Now(), 100); err != nil {
		t.Fatal(err)
	}
	idle, _ := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", "idle")}})
	c.Add(31 * 24 * time.Hour)
	if n, _, err := svc.ArchiveInactive(ctx, c.Now(), 1000); err != nil || n != 1 {
		t.Fatalf("ArchiveInactive after 31 days with a 30-day rule = %d, %v; want 1", n, err)
	}
	if m, _ := svc.Get(ctx, idle.Member.ID); m.Status != member.Archived {
		t.Fatalf("idle member status %s, want archived", m.Status)
	}
}
