package domain_test

import (
	"testing"

	"github.com/wemember/wemember/shared/invite/invitetest"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/tests/backends"
)

// TestInviteRedeemSuite runs the redemption suite on DynamoDB Local
// (shared/invite runs it on bbolt). The hot code race there has 300
// invitees for a code capped at 100 over 16 goroutines (1,000 over 64 on
// bbolt): every round trip costs milliseconds, and three contenders per
// binding still prove the cap.
func TestInviteRedeemSuite(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		invitetest.RunSuite(t, func(t *testing.T) store.Store { return b.Open(t) },
			invitetest.Options{Race: 300, Cap: 100, Workers: 16})
	}, "dynamo")
}

// BenchmarkInviteRedeem measures a redemption with its rewards on every
// backend.
func BenchmarkInviteRedeem(b *testing.B) {
	for _, be := range backends.All() {
		b.Run(be.Name, func(b *testing.B) { invitetest.BenchRedeem(b, be.Open(b)) })
	}
}

// BenchmarkInviteHotCode measures the hot code race on every backend:
// 1,000 invitees for 100 bindings over 64 goroutines on bbolt, 300 over 16
// on DynamoDB Local (run with -benchtime=1x).
func BenchmarkInviteHotCode(b *testing.B) {
	for _, be := range backends.All() {
		o := invitetest.Options{}
		if be.Name == "dynamo" {
			o = invitetest.Options{Race: 300, Cap: 100, Workers: 16}
		}
		b.Run(be.Name, func(b *testing.B) {
			invitetest.BenchHotCode(b, func(b *testing.B) store.Store { return be.Open(b) }, o)
		})
	}
}
