package loyaltytest

import (
	"testing"
	"time"
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
		if err != nil || again.Entry.ID != got.Entry.ID || again.Streak != got.Streak {
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
