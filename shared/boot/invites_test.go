package boot_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/boot"
	"github.com/wemember/wemember/shared/config"
	"github.com/wemember/wemember/shared/fraud"
	"github.com/wemember/wemember/shared/funnel"
	"github.com/wemember/wemember/shared/invite"
)

// TestInvitesAreScreenedAndCounted checks that the deployment's
// redemptions go through anti-fraud and the funnel: a redemption from the
// developer tools is held (the emulator flag), and the registration counts
// in the day's funnel.
func TestInvitesAreScreenedAndCounted(t *testing.T) {
	vars := config.Dev(t.TempDir(), "http://127.0.0.1:1")
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	d, err := boot.Open(ctx, cfg, slog.New(slog.DiscardHandler), boot.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Store.Close() })
	_, text, err := d.Invites.OwnCode(ctx, "alice", invite.KindMPShare, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Invites.Redeem(ctx, invite.RedeemCmd{Code: text, Invitee: "bob", Via: "api", Registration: true,
		Client: "client-hash", Platform: "devtools", Channel: "mp-share"})
	if err != nil {
		t.Fatalf("Redeem: %v", err)
	}
	if !got.Referral.Held || !slices.Contains(got.Referral.Flags, fraud.FlagEmulator) {
		t.Errorf("redemption from devtools: held %v, flags %v; want held with %q", got.Referral.Held, got.Referral.Flags, fraud.FlagEmulator)
	}
	day := now.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	rep, err := d.Funnel.Report(ctx, day, day, funnel.ByTotal, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 1 || rep.Rows[0].Counts.Register != 1 {
		t.Errorf("funnel of %s = %+v; want one registration", day, rep.Rows)
	}
}
