package adminapi_test

import (
	"bytes"
	"context"
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

// BenchmarkImportJSON posts a member import of about 3.8 MB of JSON, which
// becomes a job: the body is decoded, checked and stored as the job's
// chunks. Advancing the job is left out (a slice of 1 ns), so the figure is
// the request's own work.
func BenchmarkImportJSON(b *testing.B) {
	st, err := bolt.Open(b.TempDir() + "/admin.db")
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	box, _ := pii.New([]byte(strings.Repeat("k", 32)))
	members := member.NewService(st, box, time.Now, member.NewID)
	h := web.Chain((&adminapi.Handler{Members: members, Imports: imports.New(st, box, members, time.Now, member.NewID),
		Now: time.Now, ImportSlice: time.Nanosecond}).Mux().Serve, web.Errors(), auth.Operator(token))
	var body bytes.Buffer
	body.WriteString(`{"rows":[`)
	for i := 0; body.Len() < 3_800_000; i++ {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"phone":"139%08d","name":"会员%d","birthday":"1990-%02d-%02d","external_id":"crm-%d"}`, i, i, i%12+1, i%28+1, i)
	}
	body.WriteString(`]}`)
	b.SetBytes(int64(body.Len()))
	b.ReportAllocs()
	for b.Loop() {
		r := web.NewRequest(http.MethodPost, "/admin-api/members/import", body.Bytes())
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+token)
		resp, err := h(context.Background(), r)
		if err != nil || resp.Status != http.StatusAccepted {
			b.Fatalf("import: %v %+v", err, resp)
		}
	}
}
