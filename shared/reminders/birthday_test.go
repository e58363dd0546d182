package reminders_test

import (
	"context"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/reminders"
	"github.com/wemember/wemember/shared/store"
)

func (e *env) birthday(now time.Time, limit int) reminders.Result {
	e.t.Helper()
	e.clk.Set(now)
	r, err := e.jobs.Birthday(e.ctx, now, limit)
	if err != nil {
		e.t.Fatalf("Birthday(%v): %v", now, err)
	}
	return r
}

func TestBirthdayWindow(t *testing.T) {
	now := cstAt(2026, 3, 10, 9) // Lead 3 days: birthdays 03-10 … 03-13 are due.
	e := newEnv(t, now)
	cases := []struct {
		birthday string
		want     int // Birthday coupons after the run.
	}{
		{"03-09", 0}, // Passed yesterday.
		{"03-10", 1}, // Today.
		{"03-13", 1}, // Three days ahead.
		{"03-14", 0}, // Four days ahead: tomorrow's run.
		{"12-31", 0},
	}
	ids := make([]string, len(cases))
	for i, tc := range cases {
		ids[i] = e.member("o-"+tc.birthday, tc.birthday)
	}
	if err := e.st.Write(e.ctx, store.Put(store.K(e.members.BirthdayPartition("03-11"), "m-gone"), nil)); err != nil {
		t.Fatal(err)
	}
	if got, want := e.birthday(now, 100), (reminders.Result{Items: 2, Skipped: 1}); got != want {
		t.Errorf("first run = %+v, want %+v", got, want)
	}
	for i, tc := range cases {
		if got := e.birthdayCoupons(ids[i]); got != tc.want {
			t.Errorf("birthday %s: %d coupons, want %d", tc.birthday, got, tc.want)
		}
	}
	if got := e.birthday(now.Add(time.Hour), 100); got != (reminders.Result{}) {
		t.Errorf("second run the same day = %+v, want nothing (scans done)", got)
	}
	// Tomorrow 03-14 comes into range; 03-13 is read again but not issued twice.
	if got, want := e.birthday(now.Add(24*time.Hour), 100), (reminders.Result{Items: 2, Skipped: 1}); got != want {
		t.Errorf("next day = %+v, want %+v", got, want)
	}
	for i, want := range []int{0, 1, 1, 1, 0} {
		if got := e.birthdayCoupons(ids[i]); got != want {
			t.Errorf("next day, birthday %s: %d coupons, want %d", cases[i].birthday, got, want)
		}
	}
}

func TestBirthdayLeapDay(t *testing.T) {
	cases := []struct {
		name string
		now  time.Time
		want int
	}{
		{"non-leap year, 4 days before 28 Feb", cstAt(2027, 2, 24, 9), 0},
		{"non-leap year, 3 days before 28 Feb", cstAt(2027, 2, 25, 9), 1},
		{"non-leap year, on 28 Feb", cstAt(2027, 2, 28, 9), 1},
		{"leap year, 3 days before 28 Feb", cstAt(2028, 2, 25, 9), 0},
		{"leap year, 3 days before 29 Feb", cstAt(2028, 2, 26, 9), 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.now)
			id := e.member("o-leap", "02-29")
			e.birthday(tc.now, 100)
			if got := e.birthdayCoupons(id); got != tc.want {
				t.Errorf("%d coupons, want %d", got, tc.want)
			}
		})
	}
}

func TestBirthdayResumes(t *testing.T) {
	now := cstAt(2026, 12, 30, 9) // The window crosses the year: 12-30 … 01-02.
	e := newEnv(t, now)
	var ids []string
	for _, bd := range []string{"12-30", "12-31", "12-31", "01-01", "01-02", "01-02", "01-02"} {
		ids = append(ids, e.member("", bd))
	}
	var total reminders.Result
	runs := 0
	for {
		r := e.birthday(now, 2)
		runs++
		if r.Items > 2 {
			t.Fatalf("run %d handled %d, over the limit of 2", runs, r.Items)
		}
		total.Items += r.Items
		if !r.More {
			break
		}
		if runs > 10 {
			t.Fatal("Birthday never finishes")
		}
	}
	if total.Items != len(ids) || runs != 4 {
		t.Errorf("issued %d in %d runs, want %d in 4", total.Items, runs, len(ids))
	}
	for i, id := range ids {
		if got := e.birthdayCoupons(id); got != 1 {
			t.Errorf("member %d: %d birthday coupons, want 1", i, got)
		}
	}
}

func TestBirthdayConcurrentAndStopped(t *testing.T) {
	now := cstAt(2026, 6, 1, 9)
	e := newEnv(t, now)
	var ids []string
	for range 6 {
		ids = append(ids, e.member("", "06-02"))
	}
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	r, err := e.jobs.Birthday(ctx, now, 100)
	if err != nil || !r.More || r.Items != 0 {
		t.Errorf("cancelled run = %+v, %v; want More and nothing done", r, err)
	}
	done := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := e.jobs.Birthday(e.ctx, now, 100)
			done <- err
		}()
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Errorf("concurrent run: %v", err)
		}
	}
	for i, id := range ids {
		if got := e.birthdayCoupons(id); got != 1 {
			t.Errorf("member %d: %d birthday coupons, want 1", i, got)
		}
	}
	_, err = e.jobs.Birthday(e.ctx, now, 0)
	if !errs.Is(errs.Invalid, err) {
		t.Errorf("limit 0: %v, want errs.Invalid", err)
	}
}

func TestBirthdayMerged(t *testing.T) {
	now := cstAt(2026, 3, 10, 9)
	cases := []struct {
		name             string
		survivorBirthday string
		wantSurvivor     int
	}{
		{"survivor without a birthday gets the merged-away one's", "", 1},
		{"survivor with its own birthday waits for it", "08-01", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, now)
			older := e.member("", tc.survivorBirthday) // Known through the Official Account only: one person with newer.
			e.clk.Set(now.Add(time.Minute))
			newer := e.member("o-newer", "03-11")
			if _, err := e.members.Merge(e.ctx, newer, older); err != nil {
				t.Fatalf("Merge: %v", err)
			}
			if got, want := e.birthday(now.Add(time.Hour), 100).Items, tc.wantSurvivor; got != want {
				t.Errorf("issued %d, want %d", got, want)
			}
			if got := e.birthdayCoupons(older); got != tc.wantSurvivor {
				t.Errorf("survivor has %d birthday coupons, want %d", got, tc.wantSurvivor)
			}
			if got := e.birthdayCoupons(newer); got != 0 {
				t.Errorf("merged-away member has %d birthday coupons, want 0", got)
			}
		})
	}
}
