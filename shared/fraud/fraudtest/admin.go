package fraudtest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/fraud"
)

func testRulesDefaults(t *testing.T, open Opener) {
	e := newEnv(t, open)
	r, err := e.svc.Rules(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantRules := fraud.DefaultRules()
	wantRules.Version = 1
	if !reflect.DeepEqual(r, wantRules) {
		t.Errorf("Rules() = %+v, want the defaults at version 1 %+v", r, wantRules)
	}
	d := fraud.DefaultRules()
	if d.InviterDaily != 5 || d.IPHourly != 30 || d.IPFreeze() != 24*time.Hour || d.DeviceInvitees != 3 ||
		fmt.Sprint(d.EmulatorPlatforms) != "[devtools]" || d.SpikeHourly != 200 || d.DeviceWindow() != 30*24*time.Hour {
		t.Errorf("DefaultRules() = %+v", d)
	}
	if err := d.Validate(); err != nil {
		t.Errorf("DefaultRules().Validate() = %v", err)
	}
}

func testRulesValidation(t *testing.T, open Opener) {
	e := newEnv(t, open)
	for _, tc := range []struct {
		field  string
		change func(*fraud.Rules)
	}{
		{"inviter_daily", func(r *fraud.Rules) { r.InviterDaily = 0 }},
		{"inviter_daily", func(r *fraud.Rules) { r.InviterDaily = fraud.MaxInviterDaily + 1 }},
		{"ip_hourly", func(r *fraud.Rules) { r.IPHourly = -1 }},
		{"ip_freeze_minutes", func(r *fraud.Rules) { r.IPFreezeMinutes = 0 }},
		{"ip_freeze_minutes", func(r *fraud.Rules) { r.IPFreezeMinutes = fraud.MaxIPFreezeMinutes + 1 }},
		{"device_invitees", func(r *fraud.Rules) { r.DeviceInvitees = 0 }},
		{"device_window_days", func(r *fraud.Rules) { r.DeviceWindowDays = 366 }},
		{"spike_hourly", func(r *fraud.Rules) { r.SpikeHourly = 0 }},
		{"emulator_platforms", func(r *fraud.Rules) { r.EmulatorPlatforms = []string{" "} }},
		{"emulator platform", func(r *fraud.Rules) { r.EmulatorPlatforms = []string{strings.Repeat("x", 33)} }},
		{"emulator_platforms", func(r *fraud.Rules) { r.EmulatorPlatforms = make([]string, 21) }},
	} {
		r := fraud.DefaultRules()
		r.Version = 1
		tc.change(&r)
		_, err := e.svc.SetRules(e.ctx, r, "op")
		if !errs.Is(errs.Invalid, err) || !strings.Contains(errs.SafeMessage(err), tc.field) {
			t.Errorf("SetRules with a bad %s = %v; want invalid naming it", tc.field, err)
		}
	}
	r := fraud.DefaultRules()
	r.Version = 1
	_, err := e.svc.SetRules(e.ctx, r, "")
	wantKind(t, "SetRules without an operator", err, errs.Invalid)
	// No emulator platforms is a valid rule: nothing is flagged as one.
	r.EmulatorPlatforms = nil
	if _, err := e.svc.SetRules(e.ctx, r, "op"); err != nil {
		t.Errorf("SetRules without emulator platforms = %v", err)
	}
	want(t, "devtools without emulator platforms", e.assess(fraud.Attempt{Invitee: "x", Platform: "devtools"}), "", false)
}

func testRulesVersioned(t *testing.T, open Opener) {
	e := newEnv(t, open)
	r := fraud.DefaultRules()
	r.InviterDaily = 2
	_, err := e.svc.SetRules(e.ctx, r, "op")
	wantKind(t, "SetRules without a version", err, errs.Invalid)
	r.Version = 1
	got, err := e.svc.SetRules(e.ctx, r, "op")
	if err != nil || got.Version != 2 || got.UpdatedBy != "op" || !got.UpdatedAt.Equal(t0()) {
		t.Fatalf("SetRules = %+v, %v; want version 2 by op at %v", got, err, t0())
	}
	_, err = e.svc.SetRules(e.ctx, r, "op")
	wantKind(t, "SetRules on a stale version", err, errs.Conflict)
	// Another instance sees the stored rules.
	other := fraud.New(e.st, e.clk.Now)
	if r, err := other.Rules(e.ctx); err != nil || r.InviterDaily != 2 || r.Version != 2 {
		t.Errorf("another instance's Rules = %+v, %v; want inviter_daily 2 at version 2", r, err)
	}
	for i := 1; i <= 2; i++ {
		e.mustRedeem(fraud.Attempt{Inviter: "alice", Invitee: invitee(i)})
	}
	want(t, "third over a limit of 2", e.assess(fraud.Attempt{Inviter: "alice", Invitee: invitee(3)}), "", true, fraud.FlagInviterDaily)
}

func testOperatorFreeze(t *testing.T, open Opener) {
	e := newEnv(t, open)
	now := e.clk.Now()
	for _, tc := range []struct {
		name             string
		client, operator string
		until            time.Time
	}{
		{"no client", "", "op", now.Add(time.Hour)},
		{"no operator", "ip-1", "", now.Add(time.Hour)},
		{"an end in the past", "ip-1", "op", now},
		{"an end after 30 days", "ip-1", "op", now.Add(31 * 24 * time.Hour)},
	} {
		_, err := e.svc.Freeze(e.ctx, tc.client, tc.until, tc.operator)
		wantKind(t, "Freeze with "+tc.name, err, errs.Invalid)
	}
	f, err := e.svc.Freeze(e.ctx, "ip-1", now.Add(2*time.Hour), "op")
	if err != nil || f.Reason != fraud.ReasonOperator || f.By != "op" {
		t.Fatalf("Freeze = %+v, %v", f, err)
	}
	v := e.assess(fraud.Attempt{Invitee: "x", Client: "ip-1"})
	want(t, "frozen by an operator", v, fraud.ReasonIPFrozen, false)
	if !v.FrozenUntil.Equal(now.Add(2 * time.Hour)) {
		t.Errorf("frozen until %v, want %v", v.FrozenUntil, now.Add(2*time.Hour))
	}
	if err := e.svc.Unfreeze(e.ctx, "ip-1", "op"); err != nil {
		t.Fatal(err)
	}
	want(t, "unfrozen", e.assess(fraud.Attempt{Invitee: "x", Client: "ip-1"}), "", false)
	if err := e.svc.Unfreeze(e.ctx, "ip-1", "op"); err != nil {
		t.Errorf("Unfreeze of an address not frozen = %v", err)
	}
	wantKind(t, "Unfreeze without an operator", e.svc.Unfreeze(e.ctx, "ip-1", ""), errs.Invalid)
	// The whitelist's own refusals.
	_, err = e.svc.Trust(e.ctx, "", "op")
	wantKind(t, "Trust without a member", err, errs.Invalid)
	_, err = e.svc.Trust(e.ctx, "alice", "")
	wantKind(t, "Trust without an operator", err, errs.Invalid)
}

func testFreezesList(t *testing.T, open Opener) {
	e := newEnv(t, open)
	now := e.clk.Now()
	for i := range 5 {
		if _, err := e.svc.Freeze(e.ctx, fmt.Sprint("ip-", i), now.Add(time.Duration(i+1)*time.Hour), "op"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.Trust(e.ctx, "alice", "op"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Trust(e.ctx, "bob", "op"); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(90 * time.Minute) // ip-0's freeze has ended.
	var got []string
	cursor := ""
	for range 10 {
		page, next, err := e.svc.Freezes(e.ctx, cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range page {
			got = append(got, f.Client)
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	if fmt.Sprint(got) != "[ip-1 ip-2 ip-3 ip-4]" {
		t.Errorf("Freezes listed %v, want the four live ones", got)
	}
	trusted, next, err := e.svc.TrustedMembers(e.ctx, "", 10)
	if err != nil || next != "" || len(trusted) != 2 || trusted[0].Member != "alice" || trusted[1].By != "op" {
		t.Errorf("TrustedMembers = %+v, %q, %v; want alice and bob", trusted, next, err)
	}
}

func testReleaseFreezes(t *testing.T, open Opener) {
	e := newEnv(t, open)
	_, _, err := e.svc.ReleaseFreezes(e.ctx, e.clk.Now(), 0)
	wantKind(t, "ReleaseFreezes with no limit", err, errs.Invalid)
	now := e.clk.Now()
	for i := range 3 {
		if _, err := e.svc.Freeze(e.ctx, fmt.Sprint("ip-", i), now.Add(time.Duration(i+1)*time.Hour), "op"); err != nil {
			t.Fatal(err)
		}
	}
	if n, more, err := e.svc.ReleaseFreezes(e.ctx, e.clk.Now(), 10); n != 0 || more || err != nil {
		t.Errorf("ReleaseFreezes before any ended = %d, %v, %v; want nothing", n, more, err)
	}
	e.clk.Add(2 * time.Hour) // ip-0 and ip-1 have ended, ip-2 has not.
	n, more, err := e.svc.ReleaseFreezes(e.ctx, e.clk.Now(), 1)
	if n != 1 || !more || err != nil {
		t.Errorf("ReleaseFreezes(limit 1) = %d, %v, %v; want 1 and more", n, more, err)
	}
	n, _, err = e.svc.ReleaseFreezes(e.ctx, e.clk.Now(), 1)
	if n != 1 || err != nil {
		t.Errorf("ReleaseFreezes again = %d, %v; want the other ended freeze", n, err)
	}
	if n, more, err := e.svc.ReleaseFreezes(e.ctx, e.clk.Now(), 10); n != 0 || more || err != nil {
		t.Errorf("ReleaseFreezes a third time = %d, %v, %v; want nothing left", n, more, err)
	}
	if _, frozen, _ := e.svc.Frozen(e.ctx, "ip-2"); !frozen {
		t.Error("ip-2's freeze, not yet ended, was released")
	}
	// The store holds the released freezes no more, even for a clock that
	// goes back.
	e.clk.Set(now)
	for _, c := range []string{"ip-0", "ip-1"} {
		if _, frozen, _ := e.svc.Frozen(e.ctx, c); frozen {
			t.Errorf("%s is still stored after ReleaseFreezes", c)
		}
	}
	if _, frozen, _ := e.svc.Frozen(e.ctx, "ip-2"); !frozen {
		t.Error("ip-2 is not frozen")
	}
}

func testReleaseKeepsRefreeze(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.setRules(func(r *fraud.Rules) { r.IPHourly, r.IPFreezeMinutes = 1, 30 })
	e.mustRedeem(fraud.Attempt{Invitee: "a", Client: "ip-1"})
	want(t, "over the rate", e.mustRedeem(fraud.Attempt{Invitee: "b", Client: "ip-1"}), fraud.ReasonIPRate, false)
	// The freeze ends; within the hour the address is over the rate again
	// and frozen anew before the sweep runs.
	e.clk.Add(30 * time.Minute)
	v := e.mustRedeem(fraud.Attempt{Invitee: "b", Client: "ip-1"})
	want(t, "over the rate again", v, fraud.ReasonIPRate, false)
	if n, more, err := e.svc.ReleaseFreezes(e.ctx, e.clk.Now(), 10); n != 0 || more || err != nil {
		t.Errorf("ReleaseFreezes = %d, %v, %v; want the first freeze's entry spent, nothing released", n, more, err)
	}
	if f, frozen, _ := e.svc.Frozen(e.ctx, "ip-1"); !frozen || !f.Until.Equal(v.FrozenUntil) {
		t.Errorf("Frozen(ip-1) = %+v, %v; want the new freeze until %v kept", f, frozen, v.FrozenUntil)
	}
	e.clk.Set(v.FrozenUntil)
	if n, _, err := e.svc.ReleaseFreezes(e.ctx, e.clk.Now(), 10); n != 1 || err != nil {
		t.Errorf("ReleaseFreezes after the new freeze ended = %d, %v; want 1", n, err)
	}
}
