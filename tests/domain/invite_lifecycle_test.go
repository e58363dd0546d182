package domain_test

import (
	"testing"

	"github.com/wemember/wemember/shared/invite/invitetest"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/tests/backends"
)

// TestInviteLifecycle runs the invitation code lifecycle suite on DynamoDB
// Local (shared/invite runs it on bbolt). There the pool race has 100
// members for 50 codes over 16 goroutines (200 at once on bbolt): DynamoDB
// Local times out transactions that wait long for a lock, and two members
// per code still prove that none is given twice.
func TestInviteLifecycle(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		invitetest.RunLifecycle(t, func(t *testing.T) store.Store { return b.Open(t) }, invitetest.WithPoolRace(100, 16))
	}, "dynamo")
}
