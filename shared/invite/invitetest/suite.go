package invitetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/fraud"
	fun "github.com/wemember/wemember/shared/funnel"
	"github.com/wemember/wemember/shared/invite"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/store/storetest"
)

// Opener returns a fresh, empty store for one test.
type Opener func(t *testing.T) store.Store

// Options tune the redemption suite to its store.
type Options struct {
	// Race is how many invitees redeem one hot code at once, Cap its
	// usage cap, Workers how many goroutines send them (defaults 1000,
	// 100, 64: bbolt). DynamoDB Local runs fewer: every round trip costs
	// milliseconds, and the invariant is the same.
	Race, Cap, Workers int
}

func (o Options) withDefaults() Options {
	if o.Race <= 0 {
		o.Race = 1000
	}
	if o.Cap <= 0 {
		o.Cap = 100
	}
	if o.Workers <= 0 {
		o.Workers = 64
	}
	return o
}

// RunSuite runs the redemption suite — every refusal, the bind modes, the
// rewards each granted once, the races on a hot code, a cycle, the depth
// and a campaign's first invitees, held rewards, the purchase hook and the
// reads — against the stores open returns.
func RunSuite(t *testing.T, open Opener, o Options) {
	o = o.withDefaults()
	tests := []struct {
		name string
		run  func(*testing.T, *env)
	}{
		{"Refusals", testRefusals},
		{"TypedAsPeopleType", testTypedAsPeopleType},
		{"FlaggedByTheRateCounter", testFlaggedByCounter},
		{"BindFirst", testBindFirst},
		{"ScreenedByFraudAndFunnel", testScreened},
		{"SameRedemptionEveryWay", testVia},
		{"BindRegistration", testBindRegistration},
		{"BindOverride", testBindOverride},
		{"DuplicateAnswersFirst", testDuplicate},
		{"OneWritePerRedemption", testOneWrite},
		{"RegisteredLater", testRegisteredLater},
		{"PrivilegeOnce", testPrivilege},
		{"RedPacketCapped", testRedPacket},
		{"HeldApproveReject", testHeld},
		{"PurchaseHook", testPurchase},
		{"TreeAndInvitees", testTree},
		{"HotCodeRace", func(t *testing.T, e *env) { testHotCode(t, e, o) }},
		{"HotCodeBareRace", func(t *testing.T, e *env) { testHotCodeBare(t, e, o) }},
		{"InterleavedBindings", testInterleaved},
		{"CycleRace", testCycleRace},
		{"DepthRace", testDepthRace},
		{"CampaignFirstRace", func(t *testing.T, e *env) { testCampaignRace(t, e, o) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newEnv(t, open(t)))
		})
	}
}

// env is one test's invitation service with real loyalty, coupon and
// member services over one store, which counts its writes.
type env struct {
	t      testing.TB
	ctx    context.Context
	st     *storetest.Faults
	box    *pii.Box
	svc    *invite.Service
	loy    *loyalty.Service
	cps    *coupons.Service
	mem    *member.Service
	screen *screen
	funnel *funnel
	now    atomic.Int64 // Unix seconds.
}

var start = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

// chinaTime is the zone of the funnel's days.
var chinaTime = time.FixedZone("CST", 8*3600)

func newEnv(t testing.TB, st store.Store) *env {
	t.Helper()
	box, err := pii.New([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: context.Background(), st: &storetest.Faults{Store: st}, box: box,
		screen: &screen{}, funnel: &funnel{}}
	e.now.Store(start.Unix())
	e.loy = loyalty.New(e.st, e.clock, newID)
	e.cps = coupons.New(e.st, coupons.Config{Now: e.clock})
	e.mem = member.NewService(e.st, box, e.clock, newID)
	e.svc = invite.New(e.st, box, e.mem, e.loy, e.cps, e.clock, newID,
		invite.WithFraud(e.screen), invite.WithFunnel(e.funnel))
	for _, id := range []string{"privilege", "campaign"} {
		tpl := coupons.Template{ID: id, Name: "invite " + id, Kind: coupons.AmountOff, AmountOff: 500,
			Scope: coupons.Scope{Kind: coupons.ScopeAll}, Validity: coupons.Validity{Kind: coupons.Relative, Days: 7},
			Status: coupons.Active}
		if _, err := e.cps.SaveTemplate(e.ctx, tpl, "op"); err != nil {
			t.Fatalf("SaveTemplate(%s): %v", id, err)
		}
	}
	e.rules(func(r *invite.Rules) { r.Rewards.PrivilegeCoupon = "privilege" })
	// The loyalty rules install themselves on their first read: a
	// deployment's first moment, not part of any redemption.
	if _, err := e.loy.Rules(e.ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) clock() time.Time { return time.Unix(e.now.Load(), 0).UTC() }

func (e *env) advance(d time.Duration) { e.now.Add(int64(d / time.Second)) }

func newID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// rules changes the invitation rules.
func (e *env) rules(edit func(r *invite.Rules)) {
	e.t.Helper()
	r, err := e.svc.Rules(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	edit(&r)
	if _, err := e.svc.SetRules(e.ctx, r, "op"); err != nil {
		e.t.Fatalf("SetRules: %v", err)
	}
}

// code is a member's own share code (no expiry; the kind's cap).
func (e *env) code(owner string) string {
	e.t.Helper()
	_, text, err := e.svc.OwnCode(e.ctx, owner, invite.KindMPShare, "")
	if err != nil {
		e.t.Fatalf("OwnCode(%s): %v", owner, err)
	}
	return text
}

// id is a code's id.
func (e *env) id(text string) string {
	id, ok := e.svc.CodeID(text)
	if !ok {
		e.t.Fatalf("CodeID(%q) refused", text)
	}
	return id
}

// redeem redeems a code at registration, failing the test on an error.
func (e *env) redeem(text, invitee string) invite.Redemption {
	e.t.Helper()
	got, err := e.svc.Redeem(e.ctx, invite.RedeemCmd{Code: text, Invitee: invitee, Via: "api", Registration: true})
	if err != nil {
		e.t.Fatalf("Redeem(%s by %s): %v", text, invitee, err)
	}
	return got
}

// refused asserts that err is a refusal for reason want.
func refused(t testing.TB, what string, err error, want invite.Reason) {
	t.Helper()
	got, ok := invite.ReasonOf(err)
	if !ok || got != want {
		t.Errorf("%s = %v (reason %q); want refusal %q", what, err, got, want)
	}
}

// points is a member's available points.
func (e *env) points(m string) int64 {
	e.t.Helper()
	b, err := e.loy.Balance(e.ctx, m)
	if err != nil {
		e.t.Fatalf("Balance(%s): %v", m, err)
	}
	return b.Available
}

// coupons is how many coupons of template tpl a member holds.
func (e *env) coupons(m, tpl string) int {
	e.t.Helper()
	pg, err := e.cps.List(e.ctx, coupons.ListQuery{MemberID: m, Limit: 100})
	if err != nil {
		e.t.Fatalf("List(%s): %v", m, err)
	}
	n := 0
	for _, in := range pg.Items {
		if in.TemplateID == tpl {
			n++
		}
	}
	return n
}

// referral is a member's referral, failing the test when it has none.
func (e *env) referral(m string) invite.Referral {
	e.t.Helper()
	r, err := e.svc.ReferralOf(e.ctx, m)
	if err != nil {
		e.t.Fatalf("ReferralOf(%s): %v", m, err)
	}
	return r
}

// unbound asserts that a member has no referral.
func (e *env) unbound(m string) {
	e.t.Helper()
	if r, err := e.svc.ReferralOf(e.ctx, m); !errs.Is(errs.NotExist, err) {
		e.t.Errorf("ReferralOf(%s) = %+v, %v; want none", m, r, err)
	}
}

// editCode changes a code's stored record, as an operator's reset or the
// sweep would (the suite reaches past the API only here).
func (e *env) editCode(text string, edit func(c *invite.Code)) {
	e.t.Helper()
	k := store.K("invcode#"+e.id(text), "code")
	var c invite.Code
	if _, err := store.GetJSON(e.ctx, e.st, k, &c); err != nil {
		e.t.Fatal(err)
	}
	edit(&c)
	b, _ := json.Marshal(c)
	if err := e.st.Write(e.ctx, store.Put(k, b)); err != nil {
		e.t.Fatal(err)
	}
}

// screen is anti-fraud for the suite: it refuses Device "banned", holds
// Device "emulator", and counts each Client in an hourly counter capped at
// 3 (an address over its rate is refused by the write, then frozen).
type screen struct {
	mu     sync.Mutex
	frozen map[string]bool
}

func (sc *screen) Assess(_ context.Context, a fraud.Attempt) (fraud.Verdict, error) {
	sc.mu.Lock()
	frozen := sc.frozen[a.Client]
	sc.mu.Unlock()
	if frozen {
		return fraud.Verdict{Refuse: true, Reason: fraud.ReasonIPFrozen}, nil
	}
	v := fraud.Verdict{Refuse: a.Device == "banned", Hold: a.Device == "emulator"}
	if v.Hold {
		v.Flags = []string{fraud.FlagEmulator}
	}
	if a.Client != "" {
		v.Mutations = append(v.Mutations, store.Add(store.K("fraud#client#"+a.Client, "hour#1"), 1).AtMost(3))
	}
	return v, nil
}

func (sc *screen) FreezeAfter(_ context.Context, a fraud.Attempt) (fraud.Verdict, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.frozen == nil {
		sc.frozen = map[string]bool{}
	}
	sc.frozen[a.Client] = true
	return fraud.Verdict{Refuse: true, Reason: fraud.ReasonIPRate}, nil
}

// funnel counts registrations per trigger.
type funnel struct{}

func (funnel) Mutations(ev fun.Event) ([]store.Mutation, error) {
	return []store.Mutation{store.Add(store.K("testfunnel#"+string(ev.Step), firstOr(ev.Trigger, "-")), 1)}, nil
}

// funnelCount is the suite funnel's count of registrations by trigger.
func (e *env) funnelCount(trigger string) int64 {
	e.t.Helper()
	its, err := e.st.GetMany(e.ctx, []store.Key{store.K("testfunnel#register", firstOr(trigger, "-"))}, store.Strong)
	if err != nil {
		e.t.Fatal(err)
	}
	return its[0].N
}

func firstOr(s, or string) string {
	if s == "" {
		return or
	}
	return s
}
