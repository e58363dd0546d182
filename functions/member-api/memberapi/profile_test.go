package memberapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/functions/member-api/memberapi"
	"github.com/wemember/wemember/shared/auth"
	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/web"
)

// TestUpdateProfileRefusesUnknownFields: a profile update with a field the
// profile does not have (a "phone", which only the phone authorization
// sets) is refused naming it, and nothing changes.
func TestUpdateProfileRefusesUnknownFields(t *testing.T) {
	st, err := bolt.Open(t.TempDir() + "/member.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	box, _ := pii.New([]byte(strings.Repeat("k", 32)))
	members := member.NewService(st, box, time.Now, member.NewID)
	ctx := context.Background()
	res, err := members.Arrive(ctx, member.Arrival{Identities: []member.Identity{{Kind: member.OpenID, Scope: "mp", Value: "o1"}}, Nickname: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	h := &memberapi.Handler{Members: members, Now: time.Now}
	ctx = auth.WithMember(ctx, res.Member)
	for body, want := range map[string]string{
		`{"nickname":"Bob","phone":"1"}`:      `unknown field "phone"`,
		`{"nickname":"Bob","NICKNAME":"Eve"}`: `"NICKNAME"`,
	} {
		_, err := h.UpdateProfile(ctx, web.NewRequest(http.MethodPut, "/member-api/me/profile", []byte(body)))
		if !errs.Is(errs.Invalid, err) || !strings.Contains(errs.SafeMessage(err), want) {
			t.Errorf("UpdateProfile(%s) = %v; want invalid naming %s", body, err, want)
		}
	}
	if m, err := members.Get(ctx, res.Member.ID); err != nil || m.Nickname != "Ann" {
		t.Errorf("after refused updates: nickname %q, %v; want Ann", m.Nickname, err)
	}
}
