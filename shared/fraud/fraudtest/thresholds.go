package fraudtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/fraud"
	"github.com/wemember/wemember/shared/store"
)

func testAttemptValidation(t *testing.T, open Opener) {
	e := newEnv(t, open)
	long := string(make([]byte, fraud.MaxRef+1))
	for _, tc := range []struct {
		name string
		a    fraud.Attempt
	}{
		{"no invitee", fraud.Attempt{Inviter: "a"}},
		{"zero byte in client", fraud.Attempt{Invitee: "b", Client: "c\x00"}},
		{"long device", fraud.Attempt{Invitee: "b", Device: long}},
		{"line break in inviter", fraud.Attempt{Invitee: "b", Inviter: "a\nb"}},
		{"bad platform", fraud.Attempt{Invitee: "b", Platform: "\xff"}},
	} {
		_, err := e.svc.Assess(e.ctx, tc.a)
		wantKind(t, tc.name, err, errs.Invalid)
	}
	_, err := e.svc.FreezeAfter(e.ctx, fraud.Attempt{Invitee: "b"})
	wantKind(t, "FreezeAfter without a client", err, errs.Invalid)
}

func testInviterDailyEdge(t *testing.T, open Opener) {
	e := newEnv(t, open)
	for i := 1; i <= 5; i++ {
		v := e.mustRedeem(fraud.Attempt{Inviter: "alice", Invitee: invitee(i)})
		want(t, fmt.Sprintf("invite %d", i), v, "", false)
	}
	for i := 6; i <= 7; i++ {
		v := e.mustRedeem(fraud.Attempt{Inviter: "alice", Invitee: invitee(i)})
		want(t, fmt.Sprintf("invite %d", i), v, "", true, fraud.FlagInviterDaily)
	}
	// Another inviter has a limit of its own.
	want(t, "bob's first", e.mustRedeem(fraud.Attempt{Inviter: "bob", Invitee: invitee(8)}), "", false)
	// An operator's code has no inviter and no limit.
	for i := 9; i <= 15; i++ {
		want(t, "operator code", e.mustRedeem(fraud.Attempt{Invitee: invitee(i)}), "", false)
	}
	// A lower limit applies at once to the inviter's count so far.
	e.setRules(func(r *fraud.Rules) { r.InviterDaily = 1 })
	want(t, "bob over a limit of 1", e.assess(fraud.Attempt{Inviter: "bob", Invitee: invitee(16)}), "", true, fraud.FlagInviterDaily)
}

func testInviterDayIsChinaDay(t *testing.T, open Opener) {
	e := newEnv(t, open)
	// 23:00 in Shanghai on 10 March is 15:00 UTC.
	e.clk.Set(time.Date(2031, 3, 10, 15, 0, 0, 0, time.UTC))
	for i := 1; i <= 5; i++ {
		e.mustRedeem(fraud.Attempt{Inviter: "alice", Invitee: invitee(i)})
	}
	want(t, "6th at 23:00", e.assess(fraud.Attempt{Inviter: "alice", Invitee: invitee(6)}), "", true, fraud.FlagInviterDaily)
	// 16:00 UTC is midnight in Shanghai, a new day, though the UTC day is the same.
	e.clk.Set(time.Date(2031, 3, 10, 16, 0, 0, 0, time.UTC))
	want(t, "6th after Shanghai midnight", e.mustRedeem(fraud.Attempt{Inviter: "alice", Invitee: invitee(6)}), "", false)
	// An attempt's own time decides, not the service's clock.
	late := time.Date(2031, 3, 10, 15, 59, 59, 0, time.UTC)
	want(t, "an attempt timed the day before", e.assess(fraud.Attempt{Inviter: "alice", Invitee: invitee(7), At: late}),
		"", true, fraud.FlagInviterDaily)
}

func testCountsOnlyInWrite(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.setRules(func(r *fraud.Rules) { r.SpikeHourly = 3 })
	a := func(i int) fraud.Attempt {
		return fraud.Attempt{Inviter: "alice", Invitee: invitee(i), Client: "ip-1", Device: "dev-1"}
	}
	// Redemptions that write without the verdict's mutations (refused by
	// the code's own checks, say) count nothing.
	for i := 1; i <= 40; i++ {
		v := e.assess(a(i))
		want(t, fmt.Sprintf("unwritten %d", i), v, "", false)
		if err := e.st.Write(e.ctx, store.Put(store.K("test#refused", invitee(i)), nil)); err != nil {
			t.Fatal(err)
		}
	}
	if alerts, _, err := e.svc.Alerts(e.ctx, "", 10); err != nil || len(alerts) != 0 {
		t.Errorf("Alerts = %v, %v; want none: nothing was counted", alerts, err)
	}
	// Written with the redemption, they count: the sixth invite is over
	// the inviter's limit, the fourth invitee over the device's, and the
	// fourth redemption over the spike threshold records an alert.
	for i := 1; i <= 5; i++ {
		v := e.assess(a(i))
		if err := e.st.Write(e.ctx, append([]store.Mutation{store.Put(store.K("test#bound", invitee(i)), nil)}, v.Mutations...)...); err != nil {
			t.Fatal(err)
		}
	}
	want(t, "sixth after five written", e.assess(a(6)), "", true,
		fraud.FlagInviterDaily, fraud.FlagSharedDevice)
	alerts, _, err := e.svc.Alerts(e.ctx, "", 10)
	if err != nil || len(alerts) != 1 || alerts[0].Count != 4 {
		t.Errorf("Alerts = %+v, %v; want one, written by the fourth redemption", alerts, err)
	}
}

func testIPRateEdge(t *testing.T, open Opener) {
	e := newEnv(t, open)
	for i := 1; i <= 30; i++ {
		v := e.mustRedeem(fraud.Attempt{Invitee: invitee(i), Client: "ip-1"})
		want(t, fmt.Sprintf("redemption %d", i), v, "", false)
	}
	at := e.clk.Now()
	v := e.mustRedeem(fraud.Attempt{Invitee: invitee(31), Client: "ip-1"})
	want(t, "31st", v, fraud.ReasonIPRate, false)
	until := at.Add(24 * time.Hour).UTC().Truncate(time.Second)
	if !v.FrozenUntil.Equal(until) {
		t.Errorf("31st: frozen until %v, want %v", v.FrozenUntil, until)
	}
	f, frozen, err := e.svc.Frozen(e.ctx, "ip-1")
	if err != nil || !frozen || f.Reason != fraud.ReasonIPRate || !f.Until.Equal(until) {
		t.Errorf("Frozen(ip-1) = %+v, %v, %v; want an ip_rate freeze until %v", f, frozen, err, until)
	}
	// Another address is not affected.
	want(t, "another address", e.mustRedeem(fraud.Attempt{Invitee: invitee(32), Client: "ip-2"}), "", false)
	// The next hour the count is new, but the address is frozen for a day.
	e.clk.Add(time.Hour)
	v = e.mustRedeem(fraud.Attempt{Invitee: invitee(33), Client: "ip-1"})
	want(t, "an hour later", v, fraud.ReasonIPFrozen, false)
	if !v.FrozenUntil.Equal(until) {
		t.Errorf("an hour later: frozen until %v, want %v", v.FrozenUntil, until)
	}
	e.clk.Set(until.Add(-time.Second))
	want(t, "a second before the end", e.mustRedeem(fraud.Attempt{Invitee: invitee(33), Client: "ip-1"}), fraud.ReasonIPFrozen, false)
	e.clk.Set(until)
	want(t, "at the end", e.mustRedeem(fraud.Attempt{Invitee: invitee(33), Client: "ip-1"}), "", false)
	if _, frozen, _ := e.svc.Frozen(e.ctx, "ip-1"); frozen {
		t.Error("Frozen(ip-1) after the freeze ended = true")
	}
	// A shorter freeze is a rule.
	e.setRules(func(r *fraud.Rules) { r.IPHourly, r.IPFreezeMinutes = 1, 10 })
	want(t, "over a rate of 1", e.mustRedeem(fraud.Attempt{Invitee: invitee(34), Client: "ip-1"}), fraud.ReasonIPRate, false)
	e.clk.Add(10 * time.Minute)
	want(t, "after 10 minutes", e.mustRedeem(fraud.Attempt{Invitee: invitee(34), Client: "ip-1"}), fraud.ReasonIPRate, false)
}

func testDeviceFlag(t *testing.T, open Opener) {
	e := newEnv(t, open)
	dev := func(i int) fraud.Attempt {
		return fraud.Attempt{Inviter: fmt.Sprint("inviter-", i), Invitee: invitee(i), Device: "dev-1"}
	}
	for i := 1; i <= 3; i++ {
		want(t, fmt.Sprintf("invitee %d", i), e.mustRedeem(dev(i)), "", false)
	}
	// The same invitee again (a rebinding) is not another invitee.
	again := e.assess(dev(1))
	want(t, "invitee 1 again", again, "", false)
	for _, m := range again.Mutations {
		if m.Key.PK == "fraud#device#dev-1" {
			t.Errorf("invitee 1 again counts the device: %v", m.Key)
		}
	}
	want(t, "invitee 4", e.mustRedeem(dev(4)), "", false, fraud.FlagSharedDevice)
	want(t, "another device", e.mustRedeem(fraud.Attempt{Invitee: invitee(5), Device: "dev-2"}), "", false)
	want(t, "no device", e.mustRedeem(fraud.Attempt{Invitee: invitee(6)}), "", false)
	// The device forgets its invitees after the window.
	e.clk.Add(30*24*time.Hour + time.Second)
	want(t, "after the window", e.mustRedeem(dev(7)), "", false)
}

func testEmulatorFlag(t *testing.T, open Opener) {
	e := newEnv(t, open)
	for i, tc := range []struct {
		platform string
		flagged  bool
	}{{"devtools", true}, {"DevTools", true}, {"ios", false}, {"android", false}, {"", false}, {"emu", false}} {
		v := e.assess(fraud.Attempt{Invitee: invitee(i), Platform: tc.platform})
		if tc.flagged {
			want(t, tc.platform, v, "", false, fraud.FlagEmulator)
		} else {
			want(t, tc.platform, v, "", false)
		}
	}
	e.setRules(func(r *fraud.Rules) { r.EmulatorPlatforms = []string{"emu"} })
	want(t, "emu by rule", e.assess(fraud.Attempt{Invitee: "x", Platform: "emu"}), "", false, fraud.FlagEmulator)
	want(t, "devtools off the rule", e.assess(fraud.Attempt{Invitee: "x", Platform: "devtools"}), "", false)
}

func testWhitelist(t *testing.T, open Opener) {
	e := newEnv(t, open)
	if _, err := e.svc.Trust(e.ctx, "alice", "op"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 10; i++ {
		v := e.mustRedeem(fraud.Attempt{Inviter: "alice", Invitee: invitee(i), Device: "dev-1"})
		want(t, fmt.Sprintf("trusted invite %d", i), v, "", false)
	}
	// The whitelist lifts the inviter's limits, not the address's rate or
	// the emulator signal.
	want(t, "trusted from an emulator", e.assess(fraud.Attempt{Inviter: "alice", Invitee: "x", Platform: "devtools"}),
		"", false, fraud.FlagEmulator)
	e.setRules(func(r *fraud.Rules) { r.IPHourly = 1 })
	e.mustRedeem(fraud.Attempt{Inviter: "alice", Invitee: invitee(11), Client: "ip-1"})
	want(t, "trusted over the rate", e.mustRedeem(fraud.Attempt{Inviter: "alice", Invitee: invitee(12), Client: "ip-1"}),
		fraud.ReasonIPRate, false)
	// The trusted invites counted: off the whitelist, alice is over the limit.
	if err := e.svc.Untrust(e.ctx, "alice", "op"); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.svc.Trusted(e.ctx, "alice"); ok || err != nil {
		t.Errorf("Trusted(alice) after Untrust = %v, %v; want false", ok, err)
	}
	want(t, "untrusted", e.assess(fraud.Attempt{Inviter: "alice", Invitee: invitee(13), Device: "dev-1"}),
		"", true, fraud.FlagInviterDaily, fraud.FlagSharedDevice)
}
