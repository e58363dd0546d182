package onboard_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/onboard"
	"github.com/wemember/wemember/shared/pii"
)

// TestWelcomeOnANewStore welcomes the first member of a deployment whose
// coupon templates were never installed: once, with the registration coupon.
func TestWelcomeOnANewStore(t *testing.T) {
	st, err := bolt.Open(t.TempDir() + "/o.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	box, _ := pii.New([]byte(strings.Repeat("k", 32)))
	members := member.NewService(st, box, time.Now, member.NewID)
	cs := coupons.New(st, coupons.Config{})
	w := &onboard.Service{Members: members, Coupons: cs}
	res, err := members.Arrive(ctx, member.Arrival{Identities: []member.Identity{{Kind: member.OpenID, Scope: "mp", Value: "o1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Welcome(ctx, res.Member); err != nil {
		t.Fatalf("Welcome on a new store: %v", err)
	}
	if err := w.Welcome(ctx, res.Member); err != nil { // A stale copy: still once.
		t.Fatal(err)
	}
	page, err := cs.List(ctx, coupons.ListQuery{MemberID: res.Member.ID})
	if err != nil || len(page.Items) != 1 || page.Items[0].TemplateID != "registration" {
		t.Fatalf("coupons = %+v, %v; want one registration coupon", page.Items, err)
	}
	m, _ := members.Get(ctx, res.Member.ID)
	if !m.Welcomed {
		t.Fatal("member not marked welcomed")
	}
}
