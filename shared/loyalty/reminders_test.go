package loyalty_test

import (
	"context"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/loyalty"
)

// TestExpiringWithinRefusesABadCursor: a cursor whose day is not a calendar
// day is refused, not read as the end of the list.
func TestExpiringWithinRefusesABadCursor(t *testing.T) {
	now := time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
	svc := loyalty.New(openBolt(t), func() time.Time { return now }, func() string { return "id" })
	for _, cursor := range []string{"2026ab1x|x", "20261399|x", "2026031|x"} {
		got, next, err := svc.ExpiringWithin(context.Background(), now, 72*time.Hour, cursor, 10)
		if !errs.Is(errs.Invalid, err) {
			t.Errorf("ExpiringWithin(cursor %q) = %v, %q, %v; want errs.Invalid", cursor, got, next, err)
		}
	}
}
