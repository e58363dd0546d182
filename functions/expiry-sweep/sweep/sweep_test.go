package sweep_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/functions/expiry-sweep/sweep"
	"github.com/wemember/wemember/functions/wiring"
	"github.com/wemember/wemember/shared/boot"
	"github.com/wemember/wemember/shared/config"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/loyalty/loyaltytest"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/web"
)

const (
	members       = 6
	lotsPerMember = 5
	couponCount   = 8
	opToken       = "operator-token-for-tests"
)

type fixture struct {
	t       *testing.T
	ctx     context.Context
	d       *boot.Deps
	clk     *loyaltytest.Clock
	coupons []string
}

// newFixture wires the services over a fresh bbolt store with the
// functions' own wiring (boot.Open) and no mini-program, and seeds
// members*lotsPerMember points lots expiring in 3 days and couponCount
// coupons valid for 10 days; then moves the clock 11 days on.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	vars := config.Dev(t.TempDir(), "")
	vars["WEMEMBER_ADMIN_TOKEN"] = opToken
	vars["WEMEMBER_MP_APPID"] = ""
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	clk := loyaltytest.NewClock(loyaltytest.Start)
	d, err := boot.Open(context.Background(), cfg, slog.New(slog.DiscardHandler), boot.WithClock(clk.Now))
	if err != nil {
		t.Fatalf("boot.Open: %v", err)
	}
	t.Cleanup(func() { d.Store.Close() })
	f := &fixture{t: t, ctx: context.Background(), d: d, clk: clk}
	if err := d.EnsureDefaults(f.ctx); err != nil {
		t.Fatalf("EnsureDefaults: %v", err)
	}
	for m := 0; m < members; m++ {
		for i := 0; i < lotsPerMember; i++ {
			_, err := d.Loyalty.Earn(f.ctx, loyalty.EarnCmd{MemberID: f.member(m), Points: int64(10 + i), Reason: "test",
				Key: fmt.Sprintf("e%d-%d", m, i), Expiry: &loyalty.ExpiryRule{Mode: loyalty.ExpireRolling, Days: 1 + i%3}})
			if err != nil {
				t.Fatalf("Earn: %v", err)
			}
		}
	}
	for i := 0; i < couponCount; i++ {
		is, err := d.Coupons.Issue(f.ctx, coupons.IssueCmd{TemplateID: "birthday", MemberID: f.member(i % members),
			Reason: "test", Key: fmt.Sprintf("c%d", i)})
		if err != nil {
			t.Fatalf("Issue: %v", err)
		}
		f.coupons = append(f.coupons, is.Instance.ID)
	}
	clk.Add(11 * 24 * time.Hour)
	return f
}

func (f *fixture) member(i int) string { return fmt.Sprintf("m%d", i) }

// handler is the function's handler with the error middleware, so errors
// become statuses as in production.
func (f *fixture) handler(opts ...sweep.Option) web.Handler {
	f.t.Helper()
	h, err := wiring.ExpirySweep(opts...)(f.d)
	if err != nil {
		f.t.Fatalf("Build: %v", err)
	}
	return web.Chain(h, web.Errors())
}

func scheduled(path string) *web.Request {
	req := web.NewRequest(http.MethodPost, path, []byte(`{"source":"aws.events"}`))
	req.Trigger = web.TriggerSchedule
	return req
}

// run calls h; an error the Errors middleware rendered is a status.
func (f *fixture) run(ctx context.Context, h web.Handler, req *web.Request) (int, sweep.Report) {
	return run(f.t, ctx, h, req)
}

func run(t *testing.T, ctx context.Context, h web.Handler, req *web.Request) (int, sweep.Report) {
	t.Helper()
	resp, err := h(ctx, req)
	if resp == nil {
		t.Fatalf("handler: no response, error %v", err)
	}
	var rep sweep.Report
	if resp.Status == http.StatusOK || resp.Status == http.StatusInternalServerError {
		if err := json.Unmarshal(resp.Body, &rep); err != nil {
			t.Fatalf("decode report %s: %v", resp.Body, err)
		}
	}
	return resp.Status, rep
}

func job(t *testing.T, rep sweep.Report, name string) sweep.JobReport {
	t.Helper()
	for _, j := range rep.Jobs {
		if j.Name == name {
			return j
		}
	}
	t.Fatalf("report has no job %s: %+v", name, rep.Jobs)
	return sweep.JobReport{}
}

// wantAllSettled checks that every lot expired exactly once and every
// coupon is expired.
func (f *fixture) wantAllSettled() {
	f.t.Helper()
	for m := 0; m < members; m++ {
		b, err := f.d.Loyalty.Balance(f.ctx, f.member(m))
		if err != nil {
			f.t.Fatalf("Balance: %v", err)
		}
		const earned = lotsPerMember*10 + lotsPerMember*(lotsPerMember-1)/2
		if b.Available != 0 || b.Expired != earned {
			f.t.Errorf("%s: got available %d expired %d, want 0 and %d", f.member(m), b.Available, b.Expired, earned)
		}
		entries, _, err := f.d.Loyalty.Ledger(f.ctx, f.member(m), "", 100)
		if err != nil {
			f.t.Fatalf("Ledger: %v", err)
		}
		n := 0
		for _, e := range entries {
			if e.Kind == loyalty.KindExpire {
				n++
			}
		}
		if n != lotsPerMember {
			f.t.Errorf("%s: got %d expire entries, want %d", f.member(m), n, lotsPerMember)
		}
	}
	for _, id := range f.coupons {
		in, err := f.d.Coupons.Get(f.ctx, id)
		if err != nil {
			f.t.Fatalf("coupon Get: %v", err)
		}
		if in.Status != coupons.Expired {
			f.t.Errorf("coupon %s: got status %s, want expired", id, in.Status)
		}
	}
}

func TestSweepExpiresDueItems(t *testing.T) {
	f := newFixture(t)
	h := f.handler()
	status, rep := f.run(f.ctx, h, scheduled("/"))
	if status != http.StatusOK || rep.More || rep.Stopped || rep.Failed {
		t.Fatalf("run: got status %d %+v, want 200, done", status, rep)
	}
	if got := job(t, rep, "points-expire"); got.Items != members*lotsPerMember || got.More {
		t.Errorf("points-expire: got %+v, want %d items", got, members*lotsPerMember)
	}
	if got := job(t, rep, "coupons-expire"); got.Items != couponCount || got.More {
		t.Errorf("coupons-expire: got %+v, want %d items", got, couponCount)
	}
	f.wantAllSettled()
	// A second run finds nothing left.
	_, rep = f.run(f.ctx, h, scheduled("/expiry-sweep"))
	for _, j := range rep.Jobs {
		if j.Items != 0 || j.More {
			t.Errorf("second run, %s: got %+v, want nothing to do", j.Name, j)
		}
	}
}

func TestSweepRoutesAndCallers(t *testing.T) {
	f := newFixture(t)
	h := f.handler()
	withToken := func(method, path, token string) *web.Request {
		req := web.NewRequest(method, path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return req
	}
	tests := []struct {
		name string
		req  *web.Request
		want int
	}{
		{"schedule at the root", scheduled("/"), http.StatusOK},
		{"schedule at the function path", scheduled("/expiry-sweep"), http.StatusOK},
		{"schedule at the named route", scheduled("/expiry-sweep/expiry-sweep"), http.StatusOK},
		{"http without a token", withToken(http.MethodPost, "/expiry-sweep", ""), http.StatusUnauthorized},
		{"http with a wrong token", withToken(http.MethodPost, "/expiry-sweep", "nope"), http.StatusUnauthorized},
		{"http with the operator token", withToken(http.MethodPost, "/expiry-sweep", opToken), http.StatusOK},
		{"unknown route", withToken(http.MethodPost, "/expiry-sweep/other", opToken), http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := run(t, f.ctx, h, tc.req); got != tc.want {
				t.Errorf("status: got %d, want %d", got, tc.want)
			}
		})
	}
	f.wantAllSettled()
}

// stepClock is a wall clock that moves one second per reading.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func TestSweepInterruptedRunContinues(t *testing.T) {
	f := newFixture(t)
	// The budget allows two job calls of 4 items: the run stops with work left.
	wall := &stepClock{t: time.Unix(0, 0)}
	_, rep := f.run(f.ctx, f.handler(sweep.WithLimit(4), sweep.WithBudget(2500*time.Millisecond), sweep.WithWallClock(wall.now)), scheduled("/"))
	if !rep.Stopped || !rep.More || rep.Failed {
		t.Fatalf("short run: got %+v, want stopped with more", rep)
	}
	first := job(t, rep, "points-expire")
	if first.Calls != 1 || first.Items != 4 || !first.More {
		t.Errorf("short run, points-expire: got %+v, want one call of 4 items and more", first)
	}
	if c := job(t, rep, "coupons-expire"); c.Calls != 0 || !c.More {
		t.Errorf("short run, coupons-expire: got %+v, want not called yet", c)
	}
	// A run whose context is already nearly out stops cleanly too.
	ctx, cancel := context.WithTimeout(f.ctx, time.Millisecond)
	defer cancel()
	time.Sleep(2 * time.Millisecond)
	status, rep := f.run(ctx, f.handler(), scheduled("/"))
	if status != http.StatusOK || !rep.More || rep.Failed {
		t.Errorf("expired-context run: got status %d %+v, want 200 with more", status, rep)
	}
	// The next run finishes the rest.
	_, rep = f.run(f.ctx, f.handler(sweep.WithLimit(4)), scheduled("/"))
	if rep.More || rep.Stopped {
		t.Fatalf("next run: got %+v, want done", rep)
	}
	total := first.Items + job(t, rep, "points-expire").Items
	if total != members*lotsPerMember {
		t.Errorf("points items over the runs: got %d, want %d", total, members*lotsPerMember)
	}
	f.wantAllSettled()
}

func TestSweepOverlappingRunsSettleOnce(t *testing.T) {
	f := newFixture(t)
	const runs = 3
	reps := make([]sweep.Report, runs)
	statuses := make([]int, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := f.handler(sweep.WithLimit(7))(f.ctx, scheduled("/"))
			if err != nil {
				t.Errorf("run %d: %v", i, err)
				return
			}
			statuses[i] = resp.Status
			if err := json.Unmarshal(resp.Body, &reps[i]); err != nil {
				t.Errorf("run %d: decode %s: %v", i, resp.Body, err)
			}
		}()
	}
	wg.Wait()
	var lots, coupon int
	for i, rep := range reps {
		if statuses[i] != http.StatusOK || rep.More {
			t.Errorf("run %d: got status %d %+v, want 200, done", i, statuses[i], rep)
		}
		lots += job(t, rep, "points-expire").Items
		coupon += job(t, rep, "coupons-expire").Items
	}
	if lots != members*lotsPerMember || coupon != couponCount {
		t.Errorf("items settled over overlapping runs: got %d lots and %d coupons, want %d and %d",
			lots, coupon, members*lotsPerMember, couponCount)
	}
	f.wantAllSettled()
}

// TestFixtureWiresAbsorbers checks the fixture runs on the functions' own
// wiring: merging two members moves the merged-away member's points to the
// survivor, as it does in a deployment.
func TestFixtureWiresAbsorbers(t *testing.T) {
	f := newFixture(t)
	arrive := func(app, openid string) member.Member {
		res, err := f.d.Members.Arrive(f.ctx, member.Arrival{Identities: []member.Identity{{Kind: member.OpenID, Scope: app, Value: openid}}})
		if err != nil {
			t.Fatalf("Arrive %s: %v", openid, err)
		}
		return res.Member
	}
	older := arrive("wxoa", "o-older") // One person, known through two apps.
	f.clk.Add(time.Minute)
	newer := arrive("wxapp", "o-newer")
	if _, err := f.d.Loyalty.Earn(f.ctx, loyalty.EarnCmd{MemberID: newer.ID, Points: 70, Reason: "test", Key: "merge-earn"}); err != nil {
		t.Fatalf("Earn: %v", err)
	}
	if _, err := f.d.Members.Merge(f.ctx, older.ID, newer.ID); err != nil {
		t.Fatalf("Merge: %v", err)
	}
	b, err := f.d.Loyalty.Balance(f.ctx, older.ID)
	if err != nil {
		t.Fatalf("Balance: %v", err)
	}
	if got, want := b.Available, int64(70); got != want {
		t.Fatalf("survivor's points after the merge: got %d, want %d (the merged-away member's)", got, want)
	}
}
