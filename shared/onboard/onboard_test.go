package onboard_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/onboard"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/store/storetest"
)

// fixture is an onboarding over a bbolt store that counts every call.
type fixture struct {
	st      *storetest.Faults
	members *member.Service
	ch      *channels.Service
	cs      *coupons.Service
	ob      *onboard.Service
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	b, err := bolt.Open(t.TempDir() + "/o.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	st := &storetest.Faults{Store: b}
	box, _ := pii.New([]byte(strings.Repeat("k", 32)))
	members := member.NewService(st, box, time.Now, member.NewID)
	ch := channels.New(st, time.Now)
	cs := coupons.New(st, coupons.Config{})
	return fixture{st: st, members: members, ch: ch, cs: cs,
		ob: &onboard.Service{Store: st, Members: members, Channels: ch, Coupons: cs}}
}

func openid(v string) member.Identity {
	return member.Identity{Kind: member.OpenID, Scope: "mp", Value: v}
}

// coupons lists a member's coupons.
func (fx fixture) coupons(t *testing.T, memberID string) []coupons.Instance {
	t.Helper()
	page, err := fx.cs.List(context.Background(), coupons.ListQuery{MemberID: memberID})
	if err != nil {
		t.Fatal(err)
	}
	return page.Items
}

// TestWelcomeOnANewStore welcomes the first member of a deployment whose
// coupon templates were never installed: once, with the registration coupon.
func TestWelcomeOnANewStore(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	res, err := fx.ob.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("o1")}})
	if err != nil {
		t.Fatalf("Arrive on a new store: %v", err)
	}
	if !res.Created || !res.Welcomes || !res.Member.Welcomed {
		t.Errorf("result = %+v; want a new member, welcomed", res)
	}
	again, err := fx.ob.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("o1")}})
	if err != nil || again.Member.ID != res.Member.ID || again.Welcomes {
		t.Fatalf("second arrival = %+v, %v; want the same member, not welcomed again", again, err)
	}
	if got := fx.coupons(t, res.Member.ID); len(got) != 1 || got[0].TemplateID != "registration" {
		t.Fatalf("coupons = %+v; want one registration coupon", got)
	}
	m, _ := fx.members.Get(ctx, res.Member.ID)
	if !m.Welcomed {
		t.Fatal("member not marked welcomed")
	}
}

// TestArrivalIsOneWrite: a new member's registration, identities, welcome
// coupon, attribution and follow are one atomic write; a known member's
// follow another; a returning member with nothing to change writes nothing.
func TestArrivalIsOneWrite(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	if err := fx.cs.InstallDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	inviter, err := fx.members.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("inviter")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fx.ch.Save(ctx, channels.Scene{ID: "spring", Channel: member.Channel{Kind: "oa-qr", Value: "spring"},
		Inviter: inviter.Member.ID}, "ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.members.Rules(ctx); err != nil { // Read once: cached after.
		t.Fatal(err)
	}
	entry := onboard.Entry{Identities: []member.Identity{openid("f1"), {Kind: member.UnionID, Value: "u1"}},
		Source: "oa-qr", Scene: "spring", Via: "oa:app"}

	before := fx.st.Counts()
	m, err := fx.ob.Follow(ctx, entry)
	if err != nil {
		t.Fatal(err)
	}
	got := fx.st.Since(before)
	// Reads: the scene, two identities, the coupon template.
	if want := (storetest.Counts{Writes: 1, Mutations: 12, Gets: 4}); got != want {
		t.Errorf("new member's follow asked the store %+v; want %+v", got, want)
	}
	if p, err := fx.ch.PendingOf(ctx, m.ID); err != nil || p.Inviter != inviter.Member.ID {
		t.Errorf("pending = %+v, %v; want inviter %s", p, err, inviter.Member.ID)
	}
	if f, err := fx.ch.FollowOf(ctx, m.ID, "oa:app"); err != nil || !f.Active || f.Scene != "spring" {
		t.Errorf("follow = %+v, %v; want active through spring", f, err)
	}
	if n := len(fx.coupons(t, m.ID)); n != 1 || !m.Welcomed || m.Channel.Value != "spring" {
		t.Errorf("member %+v with %d coupons; want welcomed through spring, 1 coupon", m, n)
	}

	// The same follower again: the follow's time, nothing else.
	before = fx.st.Counts()
	if _, err := fx.ob.Follow(ctx, entry); err != nil {
		t.Fatal(err)
	}
	// Reads: the scene, two identities, the profile, the follow, the pending.
	if got, want := fx.st.Since(before), (storetest.Counts{Writes: 1, Mutations: 1, Gets: 6}); got != want {
		t.Errorf("known member's follow asked the store %+v; want %+v", got, want)
	}
	before = fx.st.Counts()
	if _, err := fx.ob.Arrive(ctx, member.Arrival{Identities: entry.Identities}); err != nil {
		t.Fatal(err)
	}
	if got, want := fx.st.Since(before), (storetest.Counts{Gets: 3}); got != want {
		t.Errorf("returning member's arrival asked the store %+v; want %+v", got, want)
	}
}

// rider is a command's own mutation riding in the arrival's write.
type rider struct {
	key     store.Key
	lost    bool
	written bool
}

func (r *rider) Mutations() []store.Mutation {
	return []store.Mutation{store.Put(r.key, []byte(`{}`)).IfAbsent()}
}

func (r *rider) Lost(k store.Key) (bool, error) {
	if k != r.key {
		return false, nil
	}
	r.lost = true
	return true, errs.E(errs.Conflict, "duplicate")
}

func (r *rider) Written() { r.written = true }

// TestFailedWriteLeavesNothing: an arrival whose write fails leaves no
// member, identity, coupon, follow or rider's record behind; the retry
// then has one effect of each.
func TestFailedWriteLeavesNothing(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	if err := fx.cs.InstallDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	disk := errors.New("disk unplugged")
	fx.st.BeforeWrite = func(context.Context, []store.Mutation) error {
		return errs.E("store.Write", errs.Transient, disk)
	}
	r := &rider{key: store.K("push#1", "idem")}
	entry := onboard.Entry{Identities: []member.Identity{openid("crash")}, Source: "oa-qr", Scene: "crash", Via: "oa:app"}
	if _, err := fx.ob.Follow(ctx, entry, r); !errors.Is(err, disk) {
		t.Fatalf("Follow on a failing store = %v; want the store's error", err)
	}
	fx.st.BeforeWrite = nil
	if r.written {
		t.Error("the rider was told of a write that failed")
	}
	if _, err := fx.members.Resolve(ctx, openid("crash")); !errs.Is(errs.NotExist, err) {
		t.Errorf("a failed arrival left a member: %v", err)
	}
	if _, err := fx.st.Get(ctx, r.key); !errs.Is(errs.NotExist, err) {
		t.Errorf("a failed arrival left the rider's record: %v", err)
	}
	if n, err := fx.cs.Taken(ctx, "registration"); err != nil || n != 0 {
		t.Errorf("registration coupons taken = %d, %v; want 0", n, err)
	}

	m, err := fx.ob.Follow(ctx, entry, r)
	if err != nil || !r.written {
		t.Fatalf("retry = %v (written %v)", err, r.written)
	}
	if n := len(fx.coupons(t, m.ID)); n != 1 {
		t.Errorf("after the retry %d coupons, want 1", n)
	}
	if _, err := fx.ob.Follow(ctx, entry, r); err == nil || !r.lost {
		t.Errorf("a duplicate's record: %v (lost %v); want the rider's error", err, r.lost)
	}
}

// TestConcurrentArrivalsOfOnePerson: copies of one new follower's push at
// once make one member with one coupon and one pending attribution, and
// every copy answers that member.
func TestConcurrentArrivalsOfOnePerson(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	if err := fx.cs.InstallDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.ch.Save(ctx, channels.Scene{ID: "burst", Channel: member.Channel{Kind: "oa-qr"}, Inviter: "m-inviter"}, "ops"); err != nil {
		t.Fatal(err)
	}
	entry := onboard.Entry{Identities: []member.Identity{openid("burst"), {Kind: member.UnionID, Value: "u-burst"}},
		Source: "oa-qr", Scene: "burst", Via: "oa:app"}
	const copies = 8
	ids := make([]string, copies)
	var wg sync.WaitGroup
	for i := range copies {
		wg.Go(func() {
			m, err := fx.ob.Follow(ctx, entry)
			if err != nil {
				t.Errorf("copy %d: %v", i, err)
			}
			ids[i] = m.ID
		})
	}
	wg.Wait()
	for i, id := range ids {
		if id != ids[0] {
			t.Errorf("copy %d answered member %s, copy 0 %s", i, id, ids[0])
		}
	}
	if n := len(fx.coupons(t, ids[0])); n != 1 {
		t.Errorf("%d coupons, want 1", n)
	}
	if n, _ := fx.cs.Taken(ctx, "registration"); n != 1 {
		t.Errorf("registration coupons taken = %d, want 1", n)
	}
	if p, err := fx.ch.PendingOf(ctx, ids[0]); err != nil || p.Inviter != "m-inviter" {
		t.Errorf("pending = %+v, %v", p, err)
	}
}
