package wechat_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/wechat"
	"github.com/wemember/wemember/tests/wxsim"
)

// coldStart has n fresh token sources (n cold instances) ask for a token at
// once and returns what each got.
func coldStart(t *testing.T, e *env, n int) []string {
	t.Helper()
	got := make([]string, n)
	errc := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		src := e.tokens()
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got[i], errc[i] = src.GetAccessTokenContext(ctx)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errc {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
	}
	return got
}

func working(t *testing.T, e *env, tok string) {
	t.Helper()
	if _, code, msg := e.sim.CheckToken(tok); code != 0 {
		t.Errorf("token refused by WeChat: %d %s", code, msg)
	}
}

func TestTokenColdStartFetchesOnce(t *testing.T) {
	e := setup(t)
	got := coldStart(t, e, 20)
	for i, tok := range got {
		if tok != got[0] {
			t.Fatalf("instance %d got %q, instance 0 %q", i, tok, got[0])
		}
	}
	working(t, e, got[0])
	if n := e.sim.Calls("/cgi-bin/stable_token"); n != 1 {
		t.Errorf("stable_token calls = %d, want 1", n)
	}
	if n := e.sim.Calls("/cgi-bin/token"); n != 0 {
		t.Errorf("/cgi-bin/token calls = %d, want 0", n)
	}
	// What the store holds is that token, and the lease is gone.
	var cached struct {
		Token     string `json:"token"`
		ExpiresAt int64  `json:"expires_at"`
	}
	if _, err := store.GetJSON(context.Background(), e.st, store.K("wxtoken#"+appID, "access_token"), &cached); err != nil {
		t.Fatal(err)
	}
	if cached.Token != got[0] || cached.ExpiresAt != e.clock.now().Add(7200*time.Second).Unix() {
		t.Errorf("cached = %+v, want %q expiring in 7200s", cached, got[0])
	}
	if _, err := e.st.Get(context.Background(), store.K("wxtoken#"+appID, "lease")); !errs.Is(errs.NotExist, err) {
		t.Errorf("lease after refresh: %v, want not_exist", err)
	}
}

func TestTokenExpiredRefreshedOnce(t *testing.T) {
	e := setup(t)
	first := coldStart(t, e, 1)[0]
	e.clock.advance(7200*time.Second + time.Second) // Expired everywhere.
	got := coldStart(t, e, 20)
	for i, tok := range got {
		if tok != got[0] || tok == first {
			t.Fatalf("instance %d got %q; want one new token for all (first was %q)", i, tok, first)
		}
	}
	working(t, e, got[0])
	if n := e.sim.Calls("/cgi-bin/stable_token"); n != 2 {
		t.Errorf("stable_token calls = %d, want 2", n)
	}
}

func TestTokenNearExpiryRefreshedOnce(t *testing.T) {
	e := setup(t)
	first := coldStart(t, e, 1)[0]
	e.clock.advance(7200*time.Second - time.Minute) // Inside the 5-minute margin.
	got := coldStart(t, e, 20)
	if n := e.sim.Calls("/cgi-bin/stable_token"); n != 2 {
		t.Errorf("stable_token calls = %d, want 2", n)
	}
	for _, tok := range got {
		working(t, e, tok) // The old one still works while the new one is fetched.
	}
	now, err := e.tokens().GetAccessTokenContext(context.Background())
	if err != nil || now == first {
		t.Errorf("token after renewal = %q, %v; want a new one", now, err)
	}
	if n := e.sim.Calls("/cgi-bin/stable_token"); n != 2 {
		t.Errorf("stable_token calls after renewal = %d, want still 2", n)
	}
}

func TestTokenRefreshForcesOnlyWhenNeeded(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	src := e.tokens()
	first, err := src.GetAccessTokenContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// An API rejected first although WeChat still hands it out: only
	// force_refresh yields another.
	second, err := src.Refresh(ctx, first)
	if err != nil || second == first {
		t.Fatalf("Refresh = %q, %v; want a new token", second, err)
	}
	if forced := e.sim.Calls("/cgi-bin/stable_token"); forced != 3 {
		t.Errorf("stable_token calls = %d, want 3 (get, normal, forced)", forced)
	}
	if forced := e.sim.Calls(wxsim.EventStableForced); forced != 1 {
		t.Errorf("forced refreshes = %d, want 1", forced)
	}
	// Another instance learns of the rejection late: the cache already holds
	// a different token, so nothing is fetched.
	again, err := e.tokens().Refresh(ctx, first)
	if err != nil || again != second {
		t.Errorf("late Refresh = %q, %v; want the cached %q", again, err, second)
	}
	if n := e.sim.Calls("/cgi-bin/stable_token"); n != 3 {
		t.Errorf("stable_token calls = %d, want still 3", n)
	}
}

func TestTokenLeaseHeldByDeadInstance(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	lease := store.Put(store.K("wxtoken#"+appID, "lease"), []byte("dead")).IfAbsent().ExpiresAt(e.clock.now().Add(10 * time.Second))
	if err := e.st.Write(ctx, lease); err != nil {
		t.Fatal(err)
	}
	src := e.tokens(wechat.WithWait(5*time.Millisecond, 50*time.Millisecond))
	_, err := src.GetAccessTokenContext(ctx)
	if errs.KindOf(err) != errs.Transient {
		t.Fatalf("with a live foreign lease: %v, want transient", err)
	}
	if n := e.sim.Calls("/cgi-bin/stable_token"); n != 0 {
		t.Errorf("stable_token calls under a foreign lease = %d, want 0", n)
	}
	e.clock.advance(11 * time.Second)
	tok, err := src.GetAccessTokenContext(ctx)
	if err != nil || tok == "" {
		t.Fatalf("after the lease expired: %q, %v", tok, err)
	}
	working(t, e, tok)
}

func TestTokenMisconfiguredApp(t *testing.T) {
	e := setup(t)
	src := wechat.NewTokenSource(e.st, appID, "wrong", wechat.WithTokenClock(e.clock.now))
	_, err := src.GetAccessToken()
	if errs.KindOf(err) != errs.Internal || wechat.ErrCode(err) != 40125 {
		t.Fatalf("wrong secret: %v, want internal with errcode 40125", err)
	}
	// The failed refresh released its lease: a good source is not blocked.
	if _, err := e.tokens(wechat.WithWait(5*time.Millisecond, 50*time.Millisecond)).GetAccessToken(); err != nil {
		t.Errorf("after a failed refresh: %v", err)
	}
}
