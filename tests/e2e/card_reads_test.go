package e2e_test

import (
	"testing"

	"github.com/wemember/wemember/shared/store/storetest"
	"github.com/wemember/wemember/tests/backends"
)

// TestCardReads counts what one GET /member-api/me asks of the store: the
// member, strongly consistent (the session check decides on it), then,
// overlapped and eventually consistent, the loyalty rules, level and points
// summary in one batched read, the open point lots and the coupons.
func TestCardReads(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		l := e.login("carol-" + b.Name)
		e.card(l.Token)
		got := e.counted(func() { e.card(l.Token) })
		want := storetest.Counts{Gets: 1, BatchGets: 1, Queries: 2, Eventual: 3}
		if got != want {
			t.Errorf("card asked %+v (%d reads); want %+v (%d reads)", got, got.Reads(), want, want.Reads())
		}
	})
}
