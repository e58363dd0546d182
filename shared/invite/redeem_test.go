package invite_test

import (
	"path/filepath"
	"testing"

	"github.com/wemember/wemember/shared/bolt"

	"github.com/wemember/wemember/shared/invite/invitetest"
	"github.com/wemember/wemember/shared/store"
)

// TestRedeemSuite runs the redemption suite on bbolt: 1,000 invitees race
// for a code capped at 100.
func TestRedeemSuite(t *testing.T) {
	invitetest.RunSuite(t, func(t *testing.T) store.Store { return openLifecycleBolt(t) }, invitetest.Options{})
}

// BenchmarkRedeem measures a redemption with its rewards on bbolt.
func BenchmarkRedeem(b *testing.B) { invitetest.BenchRedeem(b, openBenchBolt(b)) }

// BenchmarkHotCode measures the 1,000-way race for a code capped at 100
// on bbolt.
func BenchmarkHotCode(b *testing.B) {
	invitetest.BenchHotCode(b, openBenchBolt, invitetest.Options{})
}

func openBenchBolt(b *testing.B) store.Store {
	s, err := bolt.Open(filepath.Join(b.TempDir(), "invite.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}
