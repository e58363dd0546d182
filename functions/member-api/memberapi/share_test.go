package memberapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/functions/member-api/memberapi"
	"github.com/wemember/wemember/shared/auth"
	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/funnel"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/web"
)

// TestShare: a signed-in member's share is counted under its trigger,
// channel, code id and the member as inviter and answered 202; a bad
// trigger, channel, body or code is 400 and counts nothing.
func TestShare(t *testing.T) {
	st, err := bolt.Open(t.TempDir() + "/share.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	box, _ := pii.New([]byte(strings.Repeat("k", 32)))
	members := member.NewService(st, box, time.Now, member.NewID)
	ctx := context.Background()
	res, err := members.Arrive(ctx, member.Arrival{Identities: []member.Identity{{Kind: member.OpenID, Scope: "mp", Value: "o1"}}})
	if err != nil {
		t.Fatal(err)
	}
	alice := res.Member.ID
	now := func() time.Time { return time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC) }
	f := funnel.New(st, now)
	h := &memberapi.Handler{Members: members, Now: now, Funnel: f,
		CodeID: func(_ context.Context, text string) (string, bool) { return "id-of-" + text, text == "ABCD2345" }}
	serve := web.Chain(h.Mux().Serve, web.Errors())
	share := func(body string) (*web.Response, string) {
		t.Helper()
		// The Errors middleware answers an error and still hands it on, for the log.
		resp, _ := serve(auth.WithMember(ctx, res.Member), web.NewRequest(http.MethodPost, "/member-api/share", []byte(body)))
		if resp == nil {
			t.Fatalf("POST /share %s: no answer", body)
		}
		var out struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		json.Unmarshal(resp.Body, &out)
		return resp, out.Error.Message
	}

	for _, body := range []string{
		`{"trigger":"benefits","channel":"mp-share","code":"ABCD2345"}`,
		`{"trigger":"order_complete","channel":"poster"}`,
		`{"trigger":"order_complete","channel":"poster","code":""}`,
	} {
		resp, _ := share(body)
		if resp.Status != http.StatusAccepted || strings.TrimSpace(string(resp.Body)) != `{"recorded":true}` {
			t.Errorf("POST /share %s = %d %s; want 202 {\"recorded\":true}", body, resp.Status, resp.Body)
		}
	}
	for body, want := range map[string]string{
		`{"trigger":"homepage","channel":"mp-share"}`:                                          "trigger must be one of",
		`{"trigger":"benefits","channel":"email"}`:                                             "channel must be one of",
		`{"trigger":"","channel":"mp-share"}`:                                                  "trigger and channel are required",
		`{"channel":"mp-share"}`:                                                               "lacks trigger",
		`{"trigger":"benefits","channel":"mp-share","inviter":"x"}`:                            `"inviter"`,
		`{"trigger":"benefits","channel":"mp-share","code":"NOPE"}`:                            "not a known invitation code",
		`{"trigger":"benefits","channel":"mp-share","code":"` + strings.Repeat("A", 65) + `"}`: "not a known invitation code",
	} {
		resp, msg := share(body)
		if resp.Status != http.StatusBadRequest || !strings.Contains(msg, want) {
			t.Errorf("POST /share %s = %d %s; want 400 naming %s", body, resp.Status, resp.Body, want)
		}
	}

	total, err := f.Report(ctx, "2026-12-01", "2026-12-01", funnel.ByTotal, 0)
	if err != nil || total.Rows[0].Counts != (funnel.Counts{Share: 3}) {
		t.Errorf("total = %+v, %v; want 3 shares", total.Rows, err)
	}
	byInviter, _ := f.Report(ctx, "2026-12-01", "2026-12-01", funnel.ByInviter, 0)
	if len(byInviter.Rows) != 1 || byInviter.Rows[0].Value != alice || byInviter.Rows[0].Counts.Share != 3 {
		t.Errorf("by inviter = %+v; want 3 shares by %s", byInviter.Rows, alice)
	}
	byCode, _ := f.Report(ctx, "2026-12-01", "2026-12-01", funnel.ByCode, 0)
	if len(byCode.Rows) != 1 || byCode.Rows[0].Value != "id-of-ABCD2345" || byCode.Rows[0].Counts.Share != 1 {
		t.Errorf("by code = %+v; want 1 share of the code's id", byCode.Rows)
	}
	byTrigger, _ := f.Report(ctx, "2026-12-01", "2026-12-01", funnel.ByTrigger, 0)
	if len(byTrigger.Rows) != 2 || byTrigger.Rows[0].Value != "order_complete" || byTrigger.Rows[0].Counts.Share != 2 {
		t.Errorf("by trigger = %+v; want order_complete 2, benefits 1", byTrigger.Rows)
	}

	// Without a signed-in member the share is refused.
	if _, err := h.Share(ctx, web.NewRequest(http.MethodPost, "/member-api/share", []byte(`{"trigger":"benefits","channel":"mp-share"}`))); err == nil {
		t.Error("a share without a member was accepted")
	}
	// Without CodeID the code is left out, not refused.
	h.CodeID = nil
	if resp, _ := share(`{"trigger":"benefits","channel":"mp-share","code":"NOPE"}`); resp.Status != http.StatusAccepted {
		t.Errorf("share with a code and no code lookup = %d %s; want 202", resp.Status, resp.Body)
	}
	if byCode, _ := f.Report(ctx, "2026-12-01", "2026-12-01", funnel.ByCode, 0); len(byCode.Rows) != 1 || byCode.Rows[0].Counts.Share != 1 {
		t.Errorf("by code after a share without lookup = %+v; want still 1", byCode.Rows)
	}
}
