package e2e_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/store/storetest"
	"github.com/wemember/wemember/tests/backends"
)

// TestSignInCounts pins what a sign-in asks of the store, on every backend:
// the first sign-in of a day is one atomic write — on a streak day with the
// streak coupon in it — and a repeat that day writes nothing and answers
// the first answer, coupon included.
//
// The reads of a first sign-in: the member (auth), the day's idempotency
// record, the streak, the points summary and the level; the loyalty rules
// come from the process's copy. On the streak day the copy is a day old, so
// the rules are read once, and the coupon adds its idempotency record and
// its template. A repeat reads the member and the idempotency record.
func TestSignInCounts(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		r, err := e.deps.Loyalty.Rules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r.Coupons.StreakDays = 2
		if _, err := e.deps.Loyalty.SetRules(ctx, r, "op:test"); err != nil {
			t.Fatal(err)
		}
		type answer struct {
			Streak          int  `json:"streak"`
			AlreadySignedIn bool `json:"already_signed_in"`
			Coupon          *struct {
				ID string `json:"id"`
			} `json:"coupon"`
		}
		signIn := func(token string) (answer, storetest.Counts) {
			t.Helper()
			var got reply
			c := e.counted(func() { got = e.do("POST", "/member-api/sign-in", token, nil) })
			if got.Status != http.StatusOK {
				t.Fatalf("sign-in: %d %s", got.Status, got.Body)
			}
			var a answer
			got.decode(t, &a)
			return a, c
		}
		want := func(what string, got, want storetest.Counts) {
			t.Helper()
			if got != want {
				t.Errorf("%s: got %+v, want %+v", what, got, want)
			}
		}

		name := "counts-" + b.Name
		l := e.login(name)
		first, c := signIn(l.Token)
		want("first sign-in of the day", c, storetest.Counts{Writes: 1, Mutations: 8, Gets: 5})
		again, c := signIn(l.Token)
		want("repeat sign-in", c, storetest.Counts{Gets: 2})
		if first.Streak != 1 || first.AlreadySignedIn || !again.AlreadySignedIn || again.Streak != 1 {
			t.Errorf("day 1: %+v then %+v; want streak 1, then a repeat of it", first, again)
		}

		e.clock.Advance(24 * time.Hour)
		l = e.login(name)
		first, c = signIn(l.Token)
		want("first sign-in of a streak day", c, storetest.Counts{Writes: 1, Mutations: 14, Gets: 8})
		again, c = signIn(l.Token)
		want("repeat sign-in of a streak day", c, storetest.Counts{Gets: 2})
		if first.Streak != 2 || first.Coupon == nil || !again.AlreadySignedIn || again.Coupon == nil || again.Coupon.ID != first.Coupon.ID {
			t.Errorf("streak day: %+v then %+v; want streak 2 with the streak coupon, then the same answer", first, again)
		}
		if got := e.coupons(l.MemberID); got != 2 {
			t.Errorf("coupons: got %d, want 2 (registration, streak)", got)
		}
	})
}
