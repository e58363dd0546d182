package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

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
