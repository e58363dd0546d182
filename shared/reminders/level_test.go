package reminders_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/reminders"
	"github.com/wemember/wemember/shared/store"
)

// setLevel gives a member a paid gold level until until (over earned silver).
func (e *env) setLevel(id string, until time.Time, key string) {
	e.t.Helper()
	if _, err := e.points.AddGrowth(e.ctx, loyalty.GrowthCmd{MemberID: id, Growth: 1200, Key: "g#" + id}); err != nil {
		e.t.Fatalf("AddGrowth: %v", err)
	}
	_, err := e.points.SetLevel(e.ctx, loyalty.SetLevelCmd{MemberID: id, Level: "gold", Until: until, Operator: "op", Key: key})
	if err != nil {
		e.t.Fatalf("SetLevel: %v", err)
	}
}

func levelSent(openid string, at time.Time) sent {
	return sent{OpenID: openid, Template: "expiry-reminder", Page: "pages/level/index",
		Data: map[string]string{"thing1": "会员等级即将到期", "number2": "1",
			"time3": at.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04")}}
}

func TestLevelReminders(t *testing.T) {
	now := cstAt(2026, 3, 10, 9)
	e := newEnv(t, now)
	alice, bob, carol := e.member("o-alice", ""), e.member("o-bob", ""), e.member("", "")
	aliceEnd := now.AddDate(0, 0, 2)
	e.setLevel(alice, aliceEnd, "a1")             // Ends in 2 days: reminded.
	e.setLevel(bob, now.AddDate(0, 0, 10), "b1")  // In 10 days: not yet.
	e.setLevel(carol, now.AddDate(0, 0, 1), "c1") // No mini-program openid.
	got, err := e.remind(now, 100)
	if want := (reminders.Result{Items: 1, Skipped: 1}); err != nil || got != want {
		t.Errorf("Reminders = %+v, %v; want %+v", got, err, want)
	}
	if got, want := e.send.took(), []sent{levelSent("o-alice", aliceEnd)}; !reflect.DeepEqual(got, want) {
		t.Errorf("sent\n %+v\nwant\n %+v", got, want)
	}
	var rec struct {
		MemberID string `json:"member_id"`
		Outcome  string `json:"outcome"`
	}
	key := store.K("remind#level#"+alice+"#20260312", "remind")
	if _, err := store.GetJSON(e.ctx, e.st, key, &rec); err != nil || rec.MemberID != alice || rec.Outcome != reminders.OutcomeSent {
		t.Errorf("record %v: got %+v, %v; want alice, sent", key, rec, err)
	}

	// The next day: nothing new for the same end.
	if got, err := e.remind(now.Add(24*time.Hour), 100); err != nil || got.Items != 0 {
		t.Errorf("next day = %+v, %v; want nothing sent", got, err)
	}
	if s := e.send.took(); len(s) != 0 {
		t.Errorf("next day sent again: %+v", s)
	}

	// The level is extended to another day: that end is a new reminder.
	moved := now.AddDate(0, 0, 4)
	_, err = e.points.SetLevel(e.ctx, loyalty.SetLevelCmd{MemberID: alice, Level: "gold", Until: moved, Operator: "op", Key: "a2"})
	if err != nil {
		t.Fatalf("SetLevel: %v", err)
	}
	later := now.Add(48 * time.Hour)
	if got, err := e.remind(later, 100); err != nil || got.Items != 1 {
		t.Errorf("after the move = %+v, %v; want 1 sent", got, err)
	}
	if got, want := e.send.took(), []sent{levelSent("o-alice", moved)}; !reflect.DeepEqual(got, want) {
		t.Errorf("after the move sent\n %+v\nwant\n %+v", got, want)
	}
}

func TestLevelRemindersOff(t *testing.T) {
	now := cstAt(2026, 3, 10, 9)
	e := newEnv(t, now)
	e.setLevel(e.member("o-alice", ""), now.AddDate(0, 0, 2), "a1")
	e.earn(e.member("o-bob", ""), 10, 1)
	jobs := reminders.New(e.st, e.members, e.coupons, e.points, nil, e.send, reminders.Config{MiniProgramAppID: mpApp, TemplateID: "expiry-reminder"})
	got, err := jobs.Reminders(e.ctx, now, 100)
	if want := (reminders.Result{Items: 1}); err != nil || got != want {
		t.Errorf("Reminders without levels = %+v, %v; want %+v", got, err, want)
	}
	if s := e.send.took(); len(s) != 1 || s[0].Page != "pages/points/index" {
		t.Errorf("sent %+v, want only bob's points reminder", s)
	}
}
