package adminapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/functions/admin-api/adminapi"
	"github.com/wemember/wemember/shared/auth"
	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/imports"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/web"
)

const token = "test-operator-token"

func newHandler(t *testing.T) web.Handler {
	t.Helper()
	st, err := bolt.Open(t.TempDir() + "/admin.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	box, _ := pii.New([]byte(strings.Repeat("k", 32)))
	members := member.NewService(st, box, time.Now, member.NewID)
	h := &adminapi.Handler{Members: members, Imports: imports.New(st, box, members, time.Now, member.NewID),
		Now: time.Now, ImportSlice: 50 * time.Millisecond}
	return web.Chain(h.Mux().Serve, web.Errors(), auth.Operator(token))
}

func call(t *testing.T, h web.Handler, method, path, contentType, body string, auth bool) (*web.Response, map[string]any) {
	t.Helper()
	r := web.NewRequest(method, path, []byte(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if auth {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	resp, _ := h(context.Background(), r)
	var out map[string]any
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		t.Fatalf("%s %s: body %q is not JSON", method, path, resp.Body)
	}
	return resp, out
}

func csvRows(n int, header bool) string {
	var b strings.Builder
	if header {
		b.WriteString("name,phone\n")
	}
	for i := range n {
		fmt.Fprintf(&b, "张%d,139%08d\n", i, i)
	}
	return b.String()
}

func TestImportSync(t *testing.T) {
	h := newHandler(t)
	body := `{"rows":[{"phone":"13900000001","name":"李雷"},{"phone":"13900000002","name":"韩梅梅"},{"phone":"123","name":"坏号"}]}`
	resp, out := call(t, h, http.MethodPost, "/admin-api/members/import", "application/json", body, true)
	if resp.Status != http.StatusOK || out["created"] != 2.0 || out["existing"] != 0.0 {
		t.Fatalf("sync import = %d %v; want 200 with 2 created", resp.Status, out)
	}
	inv := out["invalid"].([]any)
	if len(inv) != 1 || inv[0].(map[string]any)["row"] != 3.0 || strings.Contains(string(resp.Body), "13900000001") {
		t.Errorf("invalid = %v; want row 3 only, and no phone echoed", inv)
	}
	// A named batch answers a retry with the first answer.
	named := `{"batch":"crm-2026-03","rows":[{"phone":"13900000003","name":"王五"}]}`
	for i := range 2 {
		resp, out = call(t, h, http.MethodPost, "/admin-api/members/import", "", named, true)
		if resp.Status != http.StatusOK || out["created"] != 1.0 || out["batch"] != "crm-2026-03" {
			t.Errorf("named batch call %d = %d %v; want 1 created", i, resp.Status, out)
		}
	}
	resp, out = call(t, h, http.MethodPost, "/admin-api/members/import", "text/csv", csvRows(3, false), true)
	if resp.Status != http.StatusOK || out["created"] != 0.0 || len(out["invalid"].([]any)) != 3 {
		t.Errorf("headerless CSV in the wrong column order = %d %v; want 3 invalid rows", resp.Status, out)
	}
	resp, out = call(t, h, http.MethodPost, "/admin-api/members/import", "text/csv", "phone,name\n13900000004,赵六\n", true)
	if resp.Status != http.StatusOK || out["created"] != 1.0 {
		t.Errorf("CSV with header = %d %v; want 1 created", resp.Status, out)
	}
}

func TestImportRefusals(t *testing.T) {
	h := newHandler(t)
	tests := []struct {
		name, method, path, ct, body string
		auth                         bool
		want                         int
	}{
		{"no token", http.MethodPost, "/admin-api/members/import", "", `{"rows":[]}`, false, http.StatusUnauthorized},
		{"no rows", http.MethodPost, "/admin-api/members/import", "", `{"rows":[]}`, true, http.StatusBadRequest},
		{"bad JSON", http.MethodPost, "/admin-api/members/import", "", `{"rows":`, true, http.StatusBadRequest},
		{"bad CSV", http.MethodPost, "/admin-api/members/import", "text/csv", "a,\"b\nc", true, http.StatusBadRequest},
		{"bad batch", http.MethodPost, "/admin-api/members/import", "", `{"batch":"a b","rows":[{"phone":"13900000001","name":"x"}]}`, true, http.StatusBadRequest},
		{"too many rows", http.MethodPost, "/admin-api/members/import", "text/csv", csvRows(imports.MaxRows+1, true), true, http.StatusRequestEntityTooLarge},
		{"no id", http.MethodGet, "/admin-api/imports", "", "", true, http.StatusBadRequest},
		{"unknown id", http.MethodGet, "/admin-api/imports?id=nope", "", "", true, http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, out := call(t, h, tc.method, tc.path, tc.ct, tc.body, tc.auth)
			if resp.Status != tc.want {
				t.Errorf("status = %d (%v), want %d", resp.Status, out, tc.want)
			}
		})
	}
}

func TestImportJob(t *testing.T) {
	h := newHandler(t)
	const n = 2500
	resp, out := call(t, h, http.MethodPost, "/admin-api/members/import", "text/csv; charset=utf-8", "\ufeff"+csvRows(n, true), true)
	if resp.Status != http.StatusAccepted || out["total"] != float64(n) || out["id"] == "" {
		t.Fatalf("large import = %d %v; want 202 with a job of %d rows", resp.Status, out, n)
	}
	poll := resp.Header.Get("Location")
	if poll != out["poll"] || !strings.HasPrefix(poll, "/admin-api/imports?id=") {
		t.Fatalf("Location %q, poll %v; want the progress route", poll, out["poll"])
	}
	last := -1.0
	for polls := 0; out["status"] != "done"; polls++ {
		if polls > 1000 {
			t.Fatalf("job not done after 1000 polls: %v", out)
		}
		resp, out = call(t, h, http.MethodGet, poll, "", "", true)
		if resp.Status != http.StatusOK || out["processed"].(float64) < last {
			t.Fatalf("poll = %d %v after processed %v", resp.Status, out, last)
		}
		last = out["processed"].(float64)
	}
	if out["created"] != float64(n) || out["processed"] != float64(n) || out["poll"] != nil {
		t.Errorf("done job = %v; want %d created and nothing more to poll", out, n)
	}
}

// TestImportLimitsRule sizes imports by the member rules an operator sets:
// over batch_rows becomes a job, over job_rows is refused.
func TestImportLimitsRule(t *testing.T) {
	h := newHandler(t)
	resp, out := call(t, h, http.MethodPut, "/admin-api/rules/members", "application/json",
		`{"version":1,"bind":"progressive","unsubscribe":"unlink","archive_after_days":180,"import":{"batch_rows":2,"job_rows":5},"login_limit":{"calls":100,"window_seconds":600}}`, true)
	if resp.Status != http.StatusOK {
		t.Fatalf("PUT member rules = %d %v", resp.Status, out)
	}
	if resp, out = call(t, h, http.MethodPost, "/admin-api/members/import", "text/csv", csvRows(3, true), true); resp.Status != http.StatusAccepted {
		t.Errorf("3 rows over a batch of 2 = %d %v; want 202, a job", resp.Status, out)
	}
	if resp, out = call(t, h, http.MethodPost, "/admin-api/members/import", "text/csv", csvRows(6, true), true); resp.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("6 rows over a job of 5 = %d %v; want 413", resp.Status, out)
	}
	resp, out = call(t, h, http.MethodPut, "/admin-api/rules/members", "application/json",
		`{"version":2,"bind":"progressive","unsubscribe":"unlink","archive_after_days":180,"import":{"batch_rows":2,"job_rows":9000000000},"login_limit":{"calls":100,"window_seconds":600}}`, true)
	if msg, _ := out["error"].(map[string]any)["message"].(string); resp.Status != http.StatusBadRequest || !strings.Contains(msg, "import.job_rows") {
		t.Errorf("PUT job_rows of 9e9 = %d %v; want 400 naming import.job_rows", resp.Status, out)
	}
}

// TestImportBirthdayFormats: a birthday comes as MM-DD or YYYY-MM-DD, in a
// JSON batch and in CSV alike; the month-day is what is kept, and a date
// that does not exist is an invalid row.
func TestImportBirthdayFormats(t *testing.T) {
	st, err := bolt.Open(t.TempDir() + "/admin.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	box, _ := pii.New([]byte(strings.Repeat("k", 32)))
	members := member.NewService(st, box, time.Now, member.NewID)
	ah := &adminapi.Handler{Members: members, Imports: imports.New(st, box, members, time.Now, member.NewID), Now: time.Now}
	h := web.Chain(ah.Mux().Serve, web.Errors(), auth.Operator(token))

	batch := `{"rows":[{"phone":"13900000001","name":"甲","birthday":"1990-05-04"},` +
		`{"phone":"13900000002","name":"乙","birthday":"05-04"},` +
		`{"phone":"13900000003","name":"丙","birthday":"1990-02-29"},` +
		`{"phone":"13900000004","name":"丁","birthday":"1990-5-4"}]}`
	csvBody := "phone,name,birthday\n13900000005,戊,1990-05-04\n13900000006,己,05-04\n13900000007,庚,2000-02-29\n"
	for _, tc := range []struct {
		name, ct, body string
		kept           []string // Per row, the birthday kept; "" for an invalid row.
	}{
		{"batch", "application/json", batch, []string{"05-04", "05-04", "", ""}},
		{"csv", "text/csv", csvBody, []string{"05-04", "05-04", "02-29"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := call(t, h, http.MethodPost, "/admin-api/members/import", tc.ct, tc.body, true)
			var res member.ImportResult
			if err := json.Unmarshal(resp.Body, &res); err != nil || resp.Status != http.StatusOK {
				t.Fatalf("import = %d %s", resp.Status, resp.Body)
			}
			for i, want := range tc.kept {
				id := res.MemberIDs[i]
				if want == "" {
					if id != "" {
						t.Errorf("row %d imported as %s, want refused (%s)", i+1, id, resp.Body)
					}
					continue
				}
				if id == "" {
					t.Errorf("row %d refused: %s", i+1, resp.Body)
					continue
				}
				rec, err := members.ImportRecordOf(context.Background(), id)
				if err != nil {
					t.Fatalf("import record of row %d: %v", i+1, err)
				}
				if got, _ := box.Open(rec.BirthdaySeal); got != want {
					t.Errorf("row %d birthday kept = %q, want %q", i+1, got, want)
				}
			}
		})
	}
}

// TestImportInvisibleCharacters: imported names and external ids with
// invisible characters, or names with nothing visible, are invalid rows
// naming the field, in a JSON batch and in CSV alike.
func TestImportInvisibleCharacters(t *testing.T) {
	h := newHandler(t)
	rows := []struct{ name, externalID, reason string }{
		{"李\u200B雷", "", "name must not contain invisible formatting characters"},
		{"\u3164", "", "name must contain a visible character"}, // Hangul filler: a blank letter.
		{"韩\u00AD梅梅", "", "name must not contain invisible formatting characters"},
		{"王\uFFFD", "", "name must not contain replacement characters (U+FFFD)"},
		{"赵六", "crm\uFEFF1", "external id must not contain invisible formatting characters"},
		{"钱七", "crm\U000E00412", "external id must not contain invisible formatting characters"},
		{"孙八", "crm-3", ""},
	}
	var batch []map[string]string
	var csvBody strings.Builder
	csvBody.WriteString("phone,name,external_id\n")
	for i, r := range rows {
		batch = append(batch, map[string]string{"phone": fmt.Sprintf("139%08d", i), "name": r.name, "external_id": r.externalID})
		fmt.Fprintf(&csvBody, "139%08d,%s,%s\n", 100+i, r.name, r.externalID)
	}
	jsonBody, _ := json.Marshal(map[string]any{"rows": batch})
	for _, tc := range []struct{ name, ct, body string }{
		{"batch", "application/json", string(jsonBody)},
		{"csv", "text/csv", csvBody.String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := call(t, h, http.MethodPost, "/admin-api/members/import", tc.ct, tc.body, true)
			var res member.ImportResult
			if err := json.Unmarshal(resp.Body, &res); err != nil || resp.Status != http.StatusOK {
				t.Fatalf("import = %d %s", resp.Status, resp.Body)
			}
			reasons := map[int]string{}
			for _, inv := range res.Invalid {
				reasons[inv.Row] = inv.Reason
			}
			for i, r := range rows {
				if got := reasons[i+1]; got != r.reason {
					t.Errorf("row %d (%q, %q) reason = %q, want %q", i+1, r.name, r.externalID, got, r.reason)
				}
				if imported := res.MemberIDs[i] != ""; imported != (r.reason == "") {
					t.Errorf("row %d imported = %v, want %v", i+1, imported, r.reason == "")
				}
			}
		})
	}
}
