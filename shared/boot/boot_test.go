package boot_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/boot"
	"github.com/wemember/wemember/shared/config"
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
