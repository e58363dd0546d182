package channels_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
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
	a, _, _ := svc.Resolve(ctx, "oa-qr", "123")
	if ok, _ := svc.RecordPending(ctx, "mnew", "oa-qr", "123", a); !ok {
		t.Fatal("first pending attribution not recorded")
	}
	other := channels.Attribution{Inviter: "mother"}
	if ok, _ := svc.RecordPending(ctx, "mnew", "oa-qr", "999", other); ok {
		t.Fatal("a second attribution replaced the first")
	}
	if ok, _ := svc.RecordPending(ctx, "minviter", "oa-qr", "123", a); ok {
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
