package invite_test

import (
	"testing"

	"github.com/wemember/wemember/shared/invite/invitetest"
	"github.com/wemember/wemember/shared/store"
)

// TestRedeemSuite runs the redemption suite on bbolt: 1,000 invitees race
// for a code capped at 100.
func TestRedeemSuite(t *testing.T) {
	invitetest.RunSuite(t, func(t *testing.T) store.Store { return openLifecycleBolt(t) }, invitetest.Options{})
}
