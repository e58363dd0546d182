package runner_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/functions/local/runner"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/web"
)

func TestTickLogsWhyTheSweepFailed(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	run := func(ctx context.Context, req *web.Request) (*web.Response, error) {
		calls++
		req.RequestID = "req-9" // As the RequestID middleware does.
		cancel()                // One scheduled run is enough.
		if req.Trigger != web.TriggerSchedule {
			t.Errorf("trigger = %q, want %q", req.Trigger, web.TriggerSchedule)
		}
		err := errs.E("sweep.Run", errs.Transient, "store unavailable")
		return web.Error(err, "req-9"), err
	}
	runner.Tick(ctx, run, time.Millisecond, log)
	if calls != 1 {
		t.Fatalf("sweep ran %d times, want 1", calls)
	}
	line := buf.String()
	for _, want := range []string{"scheduled sweep failed", "store unavailable", `"status":503`, `"request_id":"req-9"`} {
		if !strings.Contains(line, want) {
			t.Errorf("log %q lacks %s", line, want)
		}
	}
}
