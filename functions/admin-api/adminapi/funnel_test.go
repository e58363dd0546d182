package adminapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/functions/admin-api/adminapi"
	"github.com/wemember/wemember/shared/auth"
	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/funnel"
	"github.com/wemember/wemember/shared/web"
)

// TestFunnelReport: the report answers the stored counts, rates and mean
// times per channel over a range, the total without by, 400 for a bad
// range or dimension, and 401 without the operator token.
func TestFunnelReport(t *testing.T) {
	st, err := bolt.Open(t.TempDir() + "/funnel.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	day1 := time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC) // Noon in Shanghai.
	f := funnel.New(st, func() time.Time { return day1 })
	ctx := context.Background()
	for _, e := range []funnel.Event{
		{Step: funnel.StepShare, Channel: "mp-share", Trigger: "benefits", Inviter: "alice", Subject: "alice"},
		{Step: funnel.StepShare, Channel: "mp-share", Trigger: "benefits", Inviter: "alice", Subject: "alice"},
		{Step: funnel.StepOpen, Channel: "mp-share", Inviter: "alice", Subject: "bob", Elapsed: 30 * time.Second},
		{Step: funnel.StepRegister, Channel: "mp-share", Inviter: "alice", Subject: "bob", Elapsed: 90 * time.Second,
			At: day1.AddDate(0, 0, 1)},
		{Step: funnel.StepOpen, Channel: "oa-qr", Subject: "carol", At: day1.AddDate(0, 0, 2)}, // Past the range.
	} {
		if err := f.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	h := web.Chain((&adminapi.Handler{Funnel: f, Now: time.Now}).Mux().Serve, web.Errors(), auth.Operator(token))

	resp, _ := call(t, h, http.MethodGet, "/admin-api/reports/funnel?from=2026-12-01&to=2026-12-02&by=channel", "", "", true)
	var rep funnel.Report
	if err := json.Unmarshal(resp.Body, &rep); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("GET funnel by channel = %d %s", resp.Status, resp.Body)
	}
	want := funnel.Row{Value: "mp-share", Counts: funnel.Counts{Share: 2, Open: 1, Register: 1},
		Rates:       funnel.Rates{OpenPerShare: 0.5, RegisterPerOpen: 1, RegisterPerShare: 0.5},
		MeanSeconds: funnel.MeanTimes{Open: 30, Register: 90}}
	if rep.From != "2026-12-01" || rep.To != "2026-12-02" || rep.By != funnel.ByChannel || len(rep.Rows) != 1 || rep.Rows[0] != want {
		t.Errorf("funnel by channel = %+v; want one row %+v", rep, want)
	}
	for _, raw := range []string{`"open_per_share":0.5`, `"mean_seconds":{"open":30,"register":90,"first_order":0}`, `"first_order":0`} {
		if !strings.Contains(string(resp.Body), raw) {
			t.Errorf("answer %s lacks %s", resp.Body, raw)
		}
	}

	resp, body := call(t, h, http.MethodGet, "/admin-api/reports/funnel?from=2026-12-01&to=2026-12-03", "", "", true)
	if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), `"counts":{"share":2,"open":2,"register":1,"first_order":0}`) {
		t.Errorf("funnel total = %d %v; want 2 shares, 2 opens, 1 registration", resp.Status, body)
	}

	for query, want := range map[string]string{
		"from=2026-12-02&to=2026-12-01":            "before",
		"from=2026-08-01&to=2026-12-01":            "at most 92 days",
		"from=2026-12-01":                          "YYYY-MM-DD",
		"from=2026-12-01&to=2026-12-01&by=phone":   "by must be",
		"from=2026-12-01&to=2026-12-01&limit=many": "limit",
		"from=2026-12-01&to=2026-12-01&limit=5000": "limit",
	} {
		resp, body := call(t, h, http.MethodGet, "/admin-api/reports/funnel?"+query, "", "", true)
		msg, _ := body["error"].(map[string]any)["message"].(string)
		if resp.Status != http.StatusBadRequest || !strings.Contains(msg, want) {
			t.Errorf("GET funnel?%s = %d %s; want 400 naming %q", query, resp.Status, resp.Body, want)
		}
	}
	if resp, _ := call(t, h, http.MethodGet, "/admin-api/reports/funnel?from=2026-12-01&to=2026-12-01", "", "", false); resp.Status != http.StatusUnauthorized {
		t.Errorf("GET funnel without the operator token = %d, want 401", resp.Status)
	}
}
