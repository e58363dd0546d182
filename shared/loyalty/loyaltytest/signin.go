package loyaltytest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/store/storetest"
)

func testSignIn(t *testing.T, e *env) {
	wantPoints := []int64{5, 5, 5, 5, 5, 5, 20, 5}
	var total int64
	for i, want := range wantPoints {
		got, err := e.svc.SignIn(e.ctx, "m1")
		if err != nil {
			t.Fatalf("day %d: %v", i+1, err)
		}
		if got.Streak != i+1 || got.Points != want || got.Entry.Source.SignInDay != got.Day {
			t.Errorf("day %d: got streak %d points %d source %+v, want %d, %d", i+1, got.Streak, got.Points, got.Entry.Source, i+1, want)
		}
		total += want
		again, err := e.svc.SignIn(e.ctx, "m1")
		if err != nil || again.Entry.ID != got.Entry.ID || again.Streak != got.Streak || !again.Repeat || again.Inherited {
			t.Errorf("day %d twice: got %+v, %v; want the first result", i+1, again, err)
		}
		e.clk.Add(24 * time.Hour)
	}
	e.wantBalance("m1", total, 0, 0)
	if v := e.level("m1"); v.Growth != int64(len(wantPoints)) {
		t.Errorf("growth from sign-ins: got %d, want %d", v.Growth, len(wantPoints))
	}
	e.clk.Add(24 * time.Hour) // A day missed: the streak starts over.
	got, err := e.svc.SignIn(e.ctx, "m1")
	if err != nil || got.Streak != 1 || got.Points != 5 {
		t.Errorf("after a missed day: got %+v, %v; want streak 1, 5 points", got, err)
	}
}

// signInState is what one member's sign-ins left in the store: points,
// growth and the entries of each.
type signInState struct {
	available, growth int64
	earns, growths    int
}

func (e *env) signInState(member string) signInState {
	e.t.Helper()
	hist, _, err := e.svc.GrowthHistory(e.ctx, member, "", 100)
	if err != nil {
		e.t.Fatalf("GrowthHistory: %v", err)
	}
	return signInState{available: e.balance(member).Available, growth: e.level(member).Growth,
		earns: countKind(e.ledger(member), loyalty.KindEarn), growths: len(hist)}
}

// testSignInOneWrite: a sign-in is one write (points lot, streak, growth,
// index items and its idempotency record together) after reading the day's
// idempotency record, the streak, the points summary and the level (the
// rules are the service's kept copy); a repeated sign-in reads the record
// and writes nothing.
func testSignInOneWrite(t *testing.T, e *env) {
	f, svc := e.faulty()
	if _, err := svc.Rules(e.ctx); err != nil {
		t.Fatalf("Rules: %v", err)
	}
	before := f.Counts()
	first, err := svc.SignIn(e.ctx, "m1")
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	if got, want := f.Since(before), (storetest.Counts{Writes: 1, Mutations: 8, Gets: 4}); got != want {
		t.Errorf("first sign-in of the day: got %+v, want %+v", got, want)
	}
	before = f.Counts()
	again, err := svc.SignIn(e.ctx, "m1")
	if err != nil || !bytes.Equal(mustJSON(t, again), mustJSON(t, first)) {
		t.Errorf("repeated sign-in: got %+v, %v; want the first answer %+v", again, err, first)
	}
	if got, want := f.Since(before), (storetest.Counts{Gets: 1}); got != want {
		t.Errorf("repeated sign-in: got %+v, want %+v", got, want)
	}
	if got, want := e.signInState("m1"), (signInState{available: 5, growth: 1, earns: 1, growths: 1}); got != want {
		t.Errorf("stored: got %+v, want %+v", got, want)
	}
}

var errCrash = errs.E("test", errs.Internal, "the process died")

// testSignInCrash: when the process dies during a sign-in, what was stored
// is all of it or none of it, and signing in again completes it once.
func testSignInCrash(t *testing.T, e *env) {
	for n := 0; n <= 1; n++ { // Writes that reach the store before the crash.
		member := fmt.Sprintf("crash%d", n)
		f, svc := e.faulty()
		f.BeforeWrite = func(context.Context, []store.Mutation) error {
			if f.Writes() > n {
				return errCrash
			}
			return nil
		}
		first, err := svc.SignIn(e.ctx, member)
		got := e.signInState(member)
		none, all := signInState{}, signInState{available: 5, growth: 1, earns: 1, growths: 1}
		if got != none && got != all {
			t.Fatalf("%d writes before the crash: stored %+v; want all of the sign-in (%+v) or none", n, got, all)
		}
		if (err == nil) != (got == all) {
			t.Errorf("%d writes before the crash: answered %v with %+v stored", n, err, got)
		}
		again, err := e.svc.SignIn(e.ctx, member) // After the restart, the same day.
		if err != nil || again.Streak != 1 || again.Points != 5 || again.Growth != 1 {
			t.Errorf("sign-in after the crash: got %+v, %v; want streak 1, 5 points, 1 growth", again, err)
		}
		if got.earns == 1 && !bytes.Equal(mustJSON(t, again), mustJSON(t, first)) {
			t.Errorf("sign-in after the crash: got %+v, want the stored first answer %+v", again, first)
		}
		if got := e.signInState(member); got != all {
			t.Errorf("after signing in again: stored %+v, want %+v", got, all)
		}
	}
}

// testSignInConcurrent: simultaneous sign-ins of one member (a double tap,
// a client retry) all get the first answer, and the member is credited once.
func testSignInConcurrent(t *testing.T, e *env) {
	const members, tries = 4, 12
	for m := range members {
		member := fmt.Sprintf("tap%d", m)
		signInAtOnce(t, e.svc, member, tries)
		if got, want := e.signInState(member), (signInState{available: 5, growth: 1, earns: 1, growths: 1}); got != want {
			t.Errorf("%s stored: got %+v, want %+v", member, got, want)
		}
	}
}

// signInAtOnce signs member in n times at once through svc and checks that
// every sign-in answered the same first answer.
func signInAtOnce(t *testing.T, svc *loyalty.Service, member string, n int) {
	t.Helper()
	bodies := make([][]byte, n)
	errors := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res, err := svc.SignIn(context.Background(), member)
			bodies[i], errors[i] = mustJSON(t, res), err
		})
	}
	wg.Wait()
	for i := range n {
		if errors[i] != nil {
			t.Fatalf("%s sign-in %d: %v", member, i, errors[i])
		}
		if !bytes.Equal(bodies[i], bodies[0]) {
			t.Errorf("%s sign-in %d answered %s; want the first answer %s", member, i, bodies[i], bodies[0])
		}
	}
}

// testSignInAfterAbsorb: a merge carries the later sign-in streak over; a
// survivor whose streak shows today because the merged-away member signed in
// today is answered as a repeat with nothing credited again, and an older
// streak of the merged-away member leaves the survivor's alone.
func testSignInAfterAbsorb(t *testing.T, e *env) {
	for _, m := range []string{"new", "late"} {
		if _, err := e.svc.SignIn(e.ctx, m); err != nil {
			t.Fatalf("SignIn of %s: %v", m, err)
		}
	}
	if err := e.svc.Absorb(e.ctx, "new", "old"); err != nil {
		t.Fatalf("Absorb: %v", err)
	}
	for i := range 2 {
		got, err := e.svc.SignIn(e.ctx, "old")
		if err != nil || !got.Repeat || !got.Inherited || got.Points != 0 || got.Growth != 0 || got.Streak != 1 || got.Entry.ID != "" {
			t.Fatalf("sign-in %d of old the day new signed in: got %+v, %v; want an inherited repeat of streak 1 crediting nothing", i+1, got, err)
		}
	}
	if got, want := e.signInState("old"), (signInState{available: 5, growth: 1, earns: 0, growths: 1}); got != want {
		t.Errorf("old after its repeated sign-in: got %+v, want %+v (new's sign-in moved, nothing more)", got, want)
	}
	e.clk.Add(24 * time.Hour)
	got, err := e.svc.SignIn(e.ctx, "old")
	if err != nil || got.Repeat || got.Inherited || got.Streak != 2 || got.Points != 5 {
		t.Fatalf("old the next day: got %+v, %v; want streak 2 and 5 points", got, err)
	}
	// "late" signed in yesterday only, and "late2" on the same day as old:
	// neither streak is later than old's.
	if err := e.svc.Absorb(e.ctx, "late", "old"); err != nil {
		t.Fatalf("Absorb of late: %v", err)
	}
	if _, err := e.svc.SignIn(e.ctx, "late2"); err != nil {
		t.Fatalf("SignIn of late2: %v", err)
	}
	e.clk.Add(24 * time.Hour)
	if err := e.svc.Absorb(e.ctx, "late2", "old"); err != nil {
		t.Fatalf("Absorb of late2: %v", err)
	}
	got, err = e.svc.SignIn(e.ctx, "old")
	if err != nil || got.Repeat || got.Streak != 3 {
		t.Errorf("old after absorbing an older streak: got %+v, %v; want streak 3", got, err)
	}
}

// testSignInAcrossMerge: one person signs in once a day across a merge of
// their members. A sign-in under the survivor for the person who signed in
// under the merged-away member (between the merge and Absorb) is a repeat
// crediting nothing; a sign-in under the merged-away member once Absorb has
// begun is made under the survivor, where nothing strands it.
func testSignInAcrossMerge(t *testing.T, e *env) {
	first, err := e.svc.SignInAs(e.ctx, "x", "person-x")
	if err != nil || first.Points != 5 || first.Member != "x" {
		t.Fatalf("first sign-in = %+v, %v; want 5 points under x", first, err)
	}
	for i := range 2 {
		got, err := e.svc.SignInAs(e.ctx, "i", "person-x")
		if err != nil || !got.Repeat || !got.Inherited || got.Member != "x" {
			t.Errorf("survivor's sign-in %d for the same person: got %+v, %v; want an inherited repeat of x's", i+1, got, err)
		}
	}
	if err := e.svc.Absorb(e.ctx, "x", "i"); err != nil {
		t.Fatalf("Absorb: %v", err)
	}
	if got, want := e.signInState("i"), (signInState{available: 5, growth: 1, earns: 0, growths: 1}); got != want {
		t.Errorf("survivor: got %+v, want %+v (x's sign-in moved, nothing more)", got, want)
	}

	if err := e.svc.Absorb(e.ctx, "y", "j"); err != nil {
		t.Fatalf("Absorb: %v", err)
	}
	late, err := e.svc.SignInAs(e.ctx, "y", "person-y")
	if err != nil || late.Repeat || late.Points != 5 || late.Member != "j" {
		t.Fatalf("sign-in under the merged-away y = %+v, %v; want 5 points under the survivor j", late, err)
	}
	if got, err := e.svc.SignIn(e.ctx, "j"); err != nil || !got.Repeat || got.Points != 0 && !got.Inherited {
		t.Errorf("survivor's own sign-in after = %+v, %v; want a repeat crediting nothing", got, err)
	}
	if got, want := e.signInState("j"), (signInState{available: 5, growth: 1, earns: 1, growths: 1}); got != want {
		t.Errorf("survivor j: got %+v, want %+v", got, want)
	}
	if got := e.signInState("y"); got != (signInState{}) {
		t.Errorf("merged-away y: got %+v, want nothing stranded", got)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Errorf("encode %T: %v", v, err)
	}
	return b
}
