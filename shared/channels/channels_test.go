package channels_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/store/storetest"
)

func TestValid(t *testing.T) {
	for id, want := range map[string]bool{
		"123": true, "campaign:spring-2026": true, "": false, "0": false, "4294967296": false,
		strings.Repeat("a", 65): false, "a b": false, "<x>": false, "4294967295": true,
	} {
		if got := channels.Valid(id); got != want {
			t.Errorf("Valid(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestResolveAndPending(t *testing.T) {
	st, err := bolt.Open(t.TempDir() + "/c.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	svc := channels.New(st, time.Now)
	if _, err := svc.Save(ctx, channels.Scene{ID: "123", Channel: member.Channel{Kind: "poster", Value: "spring"}, Inviter: "minviter"}, "ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Save(ctx, channels.Scene{ID: "0", Channel: member.Channel{Kind: "x"}}, "ops"); !errs.Is(errs.Invalid, err) {
		t.Fatalf("Save(0) = %v, want invalid", err)
	}
	tests := []struct {
		scene   string
		ok      bool
		kind    string
		inviter string
	}{
		{"123", true, "poster", "minviter"},
		{"456", true, "oa-qr", ""},
		{"", false, "", ""},
		{"0", false, "", ""},
		{strings.Repeat("9", 70), false, "", ""},
	}
	for _, tt := range tests {
		a, ok, err := svc.Resolve(ctx, "oa-qr", tt.scene)
		if err != nil || ok != tt.ok || a.Channel.Kind != tt.kind || a.Inviter != tt.inviter {
			t.Errorf("Resolve(%q) = %+v, %v, %v; want ok=%v kind=%q inviter=%q", tt.scene, a, ok, err, tt.ok, tt.kind, tt.inviter)
		}
	}
	// record writes a pending attribution as an arrival does; it reports
	// whether it recorded.
	record := func(memberID, scene string, a channels.Attribution) bool {
		m, ok := svc.PendingMutation(memberID, "oa-qr", scene, a)
		return ok && st.Write(ctx, m) == nil
	}
	a, _, _ := svc.Resolve(ctx, "oa-qr", "123")
	if ok := record("mnew", "123", a); !ok {
		t.Fatal("first pending attribution not recorded")
	}
	other := channels.Attribution{Inviter: "mother"}
	if ok := record("mnew", "999", other); ok {
		t.Fatal("a second attribution replaced the first")
	}
	if ok := record("minviter", "123", a); ok {
		t.Fatal("a self-invitation was recorded")
	}
	p, err := svc.PendingOf(ctx, "mnew")
	if err != nil || p.Inviter != "minviter" || p.Scene != "123" {
		t.Fatalf("PendingOf = %+v, %v", p, err)
	}
	if err := svc.Absorb(ctx, "mnew", "msurvivor"); err != nil {
		t.Fatal(err)
	}
	if p, err := svc.PendingOf(ctx, "msurvivor"); err != nil || p.Inviter != "minviter" {
		t.Fatalf("after Absorb: %+v, %v", p, err)
	}
}

// TestMutationsForANewMember: a member registered in the same write has no
// follow and no pending attribution, so working them out reads nothing;
// written, they are the follow and the first touch.
func TestMutationsForANewMember(t *testing.T) {
	b, err := bolt.Open(t.TempDir() + "/c.db")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	st := &storetest.Faults{Store: b}
	svc := channels.New(st, time.Now)
	ctx := context.Background()
	before := st.Counts()
	f, err := svc.FollowMutation(ctx, "m1", "oa:app", "spring", true)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := svc.PendingMutation("m1", "oa-qr", "spring", channels.Attribution{Inviter: "m0"})
	if !ok {
		t.Fatal("an inviter's scene gave no pending attribution")
	}
	if got := st.Since(before); got != (storetest.Counts{}) {
		t.Errorf("working out a new member's follow asked the store %+v; want nothing", got)
	}
	if err := st.Write(ctx, f, p); err != nil {
		t.Fatal(err)
	}
	if got, err := svc.FollowOf(ctx, "m1", "oa:app"); err != nil || !got.Active || got.Scene != "spring" {
		t.Errorf("follow = %+v, %v", got, err)
	}
	if again, _ := svc.PendingMutation("m1", "oa-qr", "autumn", channels.Attribution{Inviter: "m9"}); !errs.Is(errs.Conflict, st.Write(ctx, again)) {
		t.Error("a second pending attribution was written over the first touch")
	}
}

// TestSaveBoundsFreeText: a scene's channel, inviter and code are copied
// into every member who arrives through it, so their free text is bounded
// as a claimed channel's is; an oversized scene is refused and not stored.
func TestSaveBoundsFreeText(t *testing.T) {
	ctx := context.Background()
	st, err := bolt.Open(t.TempDir() + "/c.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := channels.New(st, time.Now)
	utm := map[string]string{}
	for i := range member.MaxUTM + 1 {
		utm[fmt.Sprintf("k%d", i)] = "v"
	}
	long := strings.Repeat("x", 65)
	for name, sc := range map[string]channels.Scene{
		"utm":             {ID: "s1", Channel: member.Channel{Kind: "poster", UTM: utm}},
		"value":           {ID: "s2", Channel: member.Channel{Kind: "poster", Value: strings.Repeat("v", 129)}},
		"inviter":         {ID: "s3", Channel: member.Channel{Kind: "poster"}, Inviter: long},
		"code":            {ID: "s4", Channel: member.Channel{Kind: "poster"}, Code: long},
		"channel inviter": {ID: "s5", Channel: member.Channel{Kind: "poster", Inviter: long}},
	} {
		if _, err := svc.Save(ctx, sc, "ops"); !errs.Is(errs.Invalid, err) {
			t.Errorf("%s: Save = %v; want Invalid", name, err)
		}
		if a, ok, err := svc.Resolve(ctx, "oa", sc.ID); err != nil || !ok || a.Channel.Kind == "poster" {
			t.Errorf("%s: Resolve = %+v, %v, %v; want the scene not stored", name, a, ok, err)
		}
	}
}

// TestInviteScenes: an unregistered "inv_<code>" scene gives the code and
// the invite channel, without the code in it; a registered scene wins.
func TestInviteScenes(t *testing.T) {
	for scene, want := range map[string]string{"inv_K7M2Q9": "K7M2Q9", "inv_": "", "spring": "", "xinv_K7": ""} {
		if got, ok := channels.InviteCode(scene); got != want || ok != (want != "") {
			t.Errorf("InviteCode(%q) = %q, %v; want %q", scene, got, ok, want)
		}
	}
	st, err := bolt.Open(t.TempDir() + "/c.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := channels.New(st, time.Now)
	ctx := context.Background()
	a, ok, err := svc.Resolve(ctx, "oa-qr", "inv_K7M2Q9")
	if err != nil || !ok || a.Code != "K7M2Q9" || a.Channel.Kind != "oa-qr" || a.Channel.Value != channels.InviteScene {
		t.Errorf("Resolve(inv_K7M2Q9) = %+v, %v, %v; want the code through oa-qr/invite", a, ok, err)
	}
	if _, err := svc.Save(ctx, channels.Scene{ID: "inv_K7M2Q9", Channel: member.Channel{Kind: "poster"}, Code: "OTHER234"}, "ops"); err != nil {
		t.Fatal(err)
	}
	if a, _, _ := svc.Resolve(ctx, "oa-qr", "inv_K7M2Q9"); a.Code != "OTHER234" || a.Channel.Kind != "poster" {
		t.Errorf("registered inv_ scene resolved to %+v; want the registration", a)
	}
}
