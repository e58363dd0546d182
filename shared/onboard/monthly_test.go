package onboard_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/onboard"
	"github.com/wemember/wemember/shared/web"
)

// TestMonthlyCouponOfAMissingTemplateIsLogged: a level whose benefit names
// a template that does not exist issues nothing, and says so in the log of
// the request (an operator has a rule to fix).
func TestMonthlyCouponOfAMissingTemplateIsLogged(t *testing.T) {
	st, err := bolt.Open(t.TempDir() + "/o.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var buf bytes.Buffer
	ctx := web.WithLogger(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)).With(slog.String("request_id", "req-3")))
	w := &onboard.Service{Coupons: coupons.New(st, coupons.Config{})}
	lv := loyalty.LevelView{Level: loyalty.Level{ID: "gold", Benefits: loyalty.Benefits{MonthlyCouponTemplate: "gold-monthly-typo"}}}
	got, err := w.MonthlyLevelCoupon(ctx, "m1", lv, time.Now())
	if got != nil || err != nil {
		t.Errorf("MonthlyLevelCoupon = %v, %v; want nothing issued and no error for the member", got, err)
	}
	log := buf.String()
	for _, want := range []string{"gold-monthly-typo", `"level_id":"gold"`, `"request_id":"req-3"`, `"level":"ERROR"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log %q lacks %s", log, want)
		}
	}
}
