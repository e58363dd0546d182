package sweep_test

import (
	"testing"

	"github.com/wemember/wemember/functions/wiring"
	"github.com/wemember/wemember/shared/boot"
	"github.com/wemember/wemember/shared/lambda"
	"github.com/wemember/wemember/shared/scf"
	"github.com/wemember/wemember/tests/eventfix"
)

// TestSweepThroughPlatformAdapters feeds the golden schedule events of both
// clouds through their real adapters and the standard middleware, as the
// platforms deliver them: the sweep runs and settles every due item.
func TestSweepThroughPlatformAdapters(t *testing.T) {
	tests := []struct {
		name, event, adapter string
	}{
		{name: "lambda EventBridge schedule", event: "eventbridge-schedule.json", adapter: "lambda"},
		{name: "scf timer", event: "scf-timer.json", adapter: "scf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.d.Config.BodyLimit = 1 << 20
			h, err := wiring.ExpirySweep()(f.d)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			full := boot.Handler("expiry-sweep", f.d, h)
			invoke := lambda.Invoke(full)
			if tc.adapter == "scf" {
				invoke = scf.Invoke(full)
			}
			raw, err := eventfix.Load(tc.event, nil)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if _, err := invoke(f.ctx, raw); err != nil {
				t.Fatalf("invoke: %v", err)
			}
			f.wantAllSettled()
		})
	}
}
