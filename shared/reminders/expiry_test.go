package reminders_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/reminders"
)

// earn gives a member points that expire after days.
func (e *env) earn(id string, points int64, days int) {
	e.t.Helper()
	_, err := e.points.Earn(e.ctx, loyalty.EarnCmd{MemberID: id, Points: points, Reason: "test",
		Source: loyalty.Source{EventID: "test"}, Key: fmt.Sprintf("earn#%s#%d#%d", id, points, days),
		Expiry: &loyalty.ExpiryRule{Mode: loyalty.ExpireRolling, Days: days}})
	if err != nil {
		e.t.Fatalf("Earn: %v", err)
	}
}

// coupon issues a member a coupon of a template valid for days.
func (e *env) coupon(tplID, id string, days int) coupons.Instance {
	e.t.Helper()
	if _, err := e.coupons.Template(e.ctx, tplID); errs.Is(errs.NotExist, err) {
		_, err := e.coupons.SaveTemplate(e.ctx, coupons.Template{ID: tplID, Name: "满减券", Kind: coupons.AmountOff,
			AmountOff: 500, Scope: coupons.Scope{Kind: coupons.ScopeAll},
			Validity: coupons.Validity{Kind: coupons.Relative, Days: days}, Status: coupons.Active}, "op")
		if err != nil {
			e.t.Fatalf("SaveTemplate: %v", err)
		}
	}
	got, err := e.coupons.Issue(e.ctx, coupons.IssueCmd{TemplateID: tplID, MemberID: id, Reason: "test", Key: tplID + "#" + id})
	if err != nil {
		e.t.Fatalf("Issue: %v", err)
	}
	return got.Instance
}

func (e *env) remind(now time.Time, limit int) (reminders.Result, error) {
	e.clk.Set(now)
	return e.jobs.Reminders(e.ctx, now, limit)
}

func TestReminders(t *testing.T) {
	now := cstAt(2026, 3, 10, 9)
	e := newEnv(t, now)
	alice, bob, carol := e.member("o-alice", ""), e.member("o-bob", ""), e.member("", "")
	e.earn(alice, 120, 2) // Expires in 2 days: reminded.
	e.earn(alice, 50, 10) // In 10 days: not yet.
	e.earn(bob, 30, 1)    // Bob has not subscribed.
	e.earn(carol, 40, 1)  // Carol has no mini-program openid.
	c := e.coupon("short", alice, 2)
	e.coupon("long", alice, 30)
	e.send.failNext("o-bob", errs.E("wechat.SendSubscribe", errs.Permission, "user has not subscribed"))

	got, err := e.remind(now, 100)
	if want := (reminders.Result{Items: 2, Skipped: 2}); err != nil || got != want {
		t.Errorf("Reminders = %+v, %v; want %+v", got, err, want)
	}
	lotAt := now.AddDate(0, 0, 2).In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04")
	cAt := c.ValidTo.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04")
	want := []sent{
		{OpenID: "o-alice", Template: "expiry-reminder", Page: "pages/coupons/index",
			Data: map[string]string{"thing1": "满减券 即将过期", "number2": "1", "time3": cAt}},
		{OpenID: "o-alice", Template: "expiry-reminder", Page: "pages/points/index",
			Data: map[string]string{"thing1": "积分即将过期", "number2": "120", "time3": lotAt}},
	}
	if got := e.send.took(); !reflect.DeepEqual(got, want) {
		t.Errorf("sent\n %+v\nwant\n %+v", got, want)
	}

	// Later the same day, and the next day while the items are still in
	// the window: nobody hears twice, not even bob after subscribing.
	for _, at := range []time.Time{now.Add(2 * time.Hour), now.Add(24 * time.Hour)} {
		got, err := e.remind(at, 100)
		if err != nil || got.Items != 0 {
			t.Errorf("run at %v = %+v, %v; want nothing sent", at, got, err)
		}
		if s := e.send.took(); len(s) != 0 {
			t.Errorf("run at %v sent again: %+v", at, s)
		}
	}
}

func TestRemindersSendFailures(t *testing.T) {
	now := cstAt(2026, 3, 10, 9)
	cases := []struct {
		name      string
		fail      error
		wantErr   errs.Kind
		resendNow bool // A later run sends it (nothing was sent).
		result    reminders.Result
	}{
		{"timeout keeps the record", errs.E(errs.Transient, "timeout"), errs.Transient, false, reminders.Result{}},
		{"quota clears the record", errs.E(errs.RateLimited, "quota"), errs.RateLimited, true, reminders.Result{}},
		{"unknown template clears the record", errs.E(errs.Internal, "40037"), errs.Internal, true, reminders.Result{}},
		{"refused openid is recorded", errs.E(errs.Invalid, "40003"), errs.Other, false, reminders.Result{Failed: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, now)
			dave := e.member("o-dave", "")
			e.earn(dave, 10, 1)
			e.send.failNext("o-dave", tc.fail)
			got, err := e.remind(now, 100)
			if tc.wantErr != errs.Other {
				if !errs.Is(tc.wantErr, err) {
					t.Errorf("first run error %v, want kind %v", err, tc.wantErr)
				}
			} else if err != nil {
				t.Errorf("first run: %v", err)
			}
			if got != tc.result {
				t.Errorf("first run = %+v, want %+v", got, tc.result)
			}
			got, err = e.remind(now.Add(time.Minute), 100)
			if err != nil {
				t.Fatalf("second run: %v", err)
			}
			if n := len(e.send.took()); (n == 1) != tc.resendNow || got.Items != n {
				t.Errorf("second run sent %d (%+v), want a resend: %v", n, got, tc.resendNow)
			}
		})
	}
}

func TestRemindersResume(t *testing.T) {
	now := cstAt(2026, 3, 10, 9)
	e := newEnv(t, now)
	for i := range 5 {
		m := e.member(fmt.Sprintf("o-%d", i), "")
		e.earn(m, int64(10+i), 1)
		e.coupon("short", m, 1)
	}
	total, runs := 0, 0
	for ; runs < 20; runs++ {
		got, err := e.remind(now, 3)
		if err != nil {
			t.Fatalf("run %d: %v", runs, err)
		}
		if got.Items+got.Skipped > 3 {
			t.Errorf("run %d handled %+v, over the limit of 3", runs, got)
		}
		total += got.Items
		if !got.More {
			break
		}
	}
	if s := e.send.took(); total != 10 || len(s) != 10 {
		t.Errorf("sent %d (%d messages) over %d runs, want 10", total, len(s), runs+1)
	}
	if _, err := e.jobs.Reminders(e.ctx, now, 0); !errs.Is(errs.Invalid, err) {
		t.Errorf("limit 0: %v, want errs.Invalid", err)
	}
	bare := reminders.New(e.st, e.members, e.coupons, nil, nil, nil, reminders.Config{})
	if _, err := bare.Reminders(e.ctx, now, 10); !errs.Is(errs.Invalid, err) {
		t.Errorf("jobs without a sender: %v, want errs.Invalid", err)
	}
}
