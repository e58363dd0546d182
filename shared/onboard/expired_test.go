package onboard_test

import (
	"context"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/member"
)

// TestExpiredWelcomeTemplate: a registration coupon template whose validity
// has ended (a fixed window in the past: a campaign that ran out) does not
// stop anyone from registering, as a paused or sold-out one does not; the
// member arrives without the coupon.
func TestExpiredWelcomeTemplate(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	if err := fx.cs.InstallDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	tp, err := fx.cs.Template(ctx, "registration")
	if err != nil {
		t.Fatal(err)
	}
	tp.Validity = coupons.Validity{Kind: coupons.Fixed,
		From: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2020, 2, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := fx.cs.SaveTemplate(ctx, tp, "op"); err != nil {
		t.Fatalf("SaveTemplate: %v", err)
	}
	res, err := fx.ob.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("o-expired")}})
	if err != nil {
		t.Fatalf("Arrive with an expired welcome template: %v; want the member registered without the coupon", err)
	}
	if !res.Created {
		t.Fatalf("result = %+v; want a new member", res)
	}
}
