package boot_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/boot"
	"github.com/wemember/wemember/shared/config"
	"github.com/wemember/wemember/shared/store/storetest"
)

// TestOpenLeavesProcessSettingsAlone opens two deployments with different
// WeChat API bases in one process: neither touches http.DefaultClient,
// which the mains configure once (boot.ConfigureProcess).
func TestOpenLeavesProcessSettingsAlone(t *testing.T) {
	timeout, transport := http.DefaultClient.Timeout, http.DefaultClient.Transport
	for _, base := range []string{"http://127.0.0.1:1", "http://127.0.0.1:2"} {
		vars := config.Dev(t.TempDir(), base)
		cfg, err := config.Load(func(k string) string { return vars[k] })
		if err != nil {
			t.Fatal(err)
		}
		d, err := boot.Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { d.Store.Close() })
	}
	if got := http.DefaultClient.Timeout; got != timeout {
		t.Errorf("http.DefaultClient.Timeout after Open: got %v, want %v (unchanged)", got, timeout)
	}
	if http.DefaultClient.Transport != transport {
		t.Error("http.DefaultClient.Transport changed by Open")
	}
}

// TestConfigureProcessBoundsCalls checks the one process-wide setting the
// mains apply: WeChat SDK calls, which go through http.DefaultClient, are
// bounded.
func TestConfigureProcessBoundsCalls(t *testing.T) {
	old := http.DefaultClient.Timeout
	t.Cleanup(func() { http.DefaultClient.Timeout = old })
	boot.ConfigureProcess(config.Config{})
	if got := http.DefaultClient.Timeout; got <= 0 || got > time.Minute {
		t.Errorf("http.DefaultClient.Timeout after ConfigureProcess: got %v, want a bound", got)
	}
}

// TestCouponTriggersKeepRules: the coupon triggers read the loyalty rules
// from the loyalty service's kept copy, so a birthday sweep over many
// members does not read the rules once per member.
func TestCouponTriggersKeepRules(t *testing.T) {
	vars := config.Dev(t.TempDir(), "http://127.0.0.1:1")
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := boot.OpenStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &storetest.Faults{Store: st}
	now := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	d, err := boot.Wire(f, cfg, slog.New(slog.DiscardHandler), boot.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	before := f.Counts()
	for i := range 100 {
		if _, due, err := d.Coupons.IssueBirthday(ctx, fmt.Sprintf("m%d", i), "09-01", now); err != nil || due {
			t.Fatalf("IssueBirthday: due %v, %v; want not due", due, err)
		}
	}
	if got := f.Since(before).Reads(); got != 0 {
		t.Errorf("reads for 100 members' birthday triggers: got %d, want 0 (the rules as kept)", got)
	}
}
