package e2e_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/wemember/wemember/functions/admin-api/adminapi"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/tests/backends"
)

// TestEndToEndImportBodyLimit: the member import takes a file of the most
// rows a job may hold (about 3.5 MB of CSV) through the local runner, and only
// that route takes more than the 1 MiB every other route keeps.
func TestEndToEndImportBodyLimit(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		post := func(path, contentType string, body []byte) reply {
			t.Helper()
			req, err := http.NewRequest(http.MethodPost, e.http.URL+path, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+e.deps.Config.AdminToken)
			req.Header.Set("Content-Type", contentType)
			resp, err := e.http.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return reply{Status: resp.StatusCode, Body: b}
		}

		var csv bytes.Buffer
		csv.WriteString("phone,name,birthday\n")
		for i := range member.MaxImportJobRows {
			fmt.Fprintf(&csv, "139%08d,会员%d,1990-%02d-%02d\n", i, i, i%12+1, i%28+1)
		}
		t.Logf("%d rows: %d bytes of CSV", member.MaxImportJobRows, csv.Len())
		if csv.Len() <= 2<<20 {
			t.Fatalf("the file is %d bytes; the test wants one over 2 MiB", csv.Len())
		}
		if r := post("/admin-api/members/import", "text/csv", csv.Bytes()); r.Status != http.StatusAccepted ||
			!bytes.Contains(r.Body, []byte(fmt.Sprintf(`"total":%d`, member.MaxImportJobRows))) {
			t.Fatalf("import of %d rows: %d %.300s, want 202 with the job", member.MaxImportJobRows, r.Status, r.Body)
		}

		over := []byte(strings.Repeat("x", adminapi.ImportBodyLimit+1))
		if r := post("/admin-api/members/import", "text/csv", over); r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("import body over %d bytes: %d %.200s, want 413", adminapi.ImportBodyLimit, r.Status, r.Body)
		}
		big := []byte(`{"qr":"` + strings.Repeat("x", 2<<20) + `"}`)
		for _, path := range []string{"/admin-api/clerk/redeem", "/admin-api/coupons/issue"} {
			if r := post(path, "application/json", big); r.Status != http.StatusRequestEntityTooLarge {
				t.Errorf("POST %s with 2 MiB: %d %.200s, want 413", path, r.Status, r.Body)
			}
		}
	}, "bolt")
}
