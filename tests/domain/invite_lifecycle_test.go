package domain_test

import (
	"testing"

	"github.com/wemember/wemember/shared/invite/invitetest"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/tests/backends"
)

// TestInviteLifecycle runs the invitation code lifecycle suite on DynamoDB
// Local (shared/invite runs it on bbolt).
func TestInviteLifecycle(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		invitetest.RunLifecycle(t, func(t *testing.T) store.Store { return b.Open(t) })
	}, "dynamo")
}
