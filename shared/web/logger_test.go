package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/reqlog"
	"github.com/wemember/wemember/shared/web"
)

// logLines decodes JSON log output, one object a line.
func logLines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestLinesLoggedInsideARequestCarryItsID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	h := web.Chain(func(ctx context.Context, r *web.Request) (*web.Response, error) {
		reqlog.From(ctx).Warn("inside the handler", slog.String("step", "one"))
		reqlog.From(ctx).InfoContext(ctx, "inside again")
		return web.Text(http.StatusOK, "ok"), nil
	}, web.Standard("member-api", log, 0)...)
	req := web.NewRequest(http.MethodGet, "/member-api/me", nil)
	req.Header.Set("X-Request-Id", "req-42")
	if resp := web.Serve(context.Background(), h, req); resp.Status != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.Status)
	}
	lines := logLines(t, &buf)
	if len(lines) != 3 {
		t.Fatalf("got %d log lines, want 3 (two inside, one access line):\n%s", len(lines), buf.String())
	}
	for _, l := range lines {
		if got, want := l["request_id"], "req-42"; got != want {
			t.Errorf("line %q: request_id = %v, want %v", l["msg"], got, want)
		}
		if got, want := l["function"], "member-api"; got != want {
			t.Errorf("line %q: function = %v, want %v", l["msg"], got, want)
		}
	}
}

func TestLoggerOutsideARequestIsTheDefault(t *testing.T) {
	if got := reqlog.From(context.Background()); got != slog.Default() {
		t.Errorf("Logger outside a request = %p, want slog.Default() %p", got, slog.Default())
	}
}

// TestAccessLineLevelAndDuration: a failure of the service logs at ERROR, a
// route not built yet (501) at WARN, a caller's mistake at INFO; every
// access line gives its duration in milliseconds.
func TestAccessLineLevelAndDuration(t *testing.T) {
	tests := []struct {
		kind  errs.Kind
		level string
	}{
		{errs.Internal, "ERROR"},
		{errs.Unimplemented, "WARN"},
		{errs.Invalid, "INFO"},
		{errs.Other, "INFO"}, // No error.
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&buf, nil))
		h := web.Chain(func(context.Context, *web.Request) (*web.Response, error) {
			time.Sleep(2 * time.Millisecond)
			if tt.kind == errs.Other {
				return web.Text(http.StatusOK, "ok"), nil
			}
			return nil, errs.E("op", tt.kind, "refused")
		}, web.Standard("fn", log, 0)...)
		web.Serve(context.Background(), h, web.NewRequest(http.MethodPost, "/fn", nil))
		lines := logLines(t, &buf)
		if len(lines) != 1 {
			t.Fatalf("%v: %d log lines, want 1:\n%s", tt.kind, len(lines), buf.String())
		}
		l := lines[0]
		if l["level"] != tt.level {
			t.Errorf("%v: level %v, want %s", tt.kind, l["level"], tt.level)
		}
		ms, ok := l["duration_ms"].(float64)
		if _, ns := l["duration"]; !ok || ms < 2 || ms > 10_000 || ns {
			t.Errorf("%v: duration_ms %v, duration %v; want about 2 milliseconds and no unitless duration", tt.kind, l["duration_ms"], l["duration"])
		}
	}
}
