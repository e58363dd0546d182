package e2e_test

import (
	"net/http"
	"testing"

	"github.com/wemember/wemember/shared/store/storetest"
	"github.com/wemember/wemember/tests/backends"
)

// TestDisplayReads counts what the member's display pages ask of the
// store. Each reads the member strongly consistent (the session check
// decides on it) and then only what it shows, eventually consistent. The
// card overlaps its reads: the loyalty rules, level and points summary in
// one batched read, the open point lots and the coupons.
func TestDisplayReads(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		l := e.login("carol-" + b.Name)
		e.card(l.Token)
		tests := []struct {
			path string
			want storetest.Counts
		}{
			{"/member-api/me", storetest.Counts{Gets: 1, BatchGets: 1, Queries: 2, Eventual: 3}},
			{"/member-api/points", storetest.Counts{Gets: 1, Queries: 1, Eventual: 1}},
			{"/member-api/coupons", storetest.Counts{Gets: 1, Queries: 1, Eventual: 1}},
		}
		for _, tc := range tests {
			var r reply
			got := e.counted(func() { r = e.do("GET", tc.path, l.Token, nil) })
			if r.Status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", tc.path, r.Status, r.Body)
			}
			if got != tc.want {
				t.Errorf("GET %s asked %+v (%d reads); want %+v (%d reads)", tc.path, got, got.Reads(), tc.want, tc.want.Reads())
			}
		}
	})
}
