package invite_test

import (
	"path/filepath"
	"testing"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/invite/invitetest"
	"github.com/wemember/wemember/shared/store"
)

func openLifecycleBolt(t *testing.T) store.Store {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "invite.db"))
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestLifecycle runs the code lifecycle suite on bbolt.
func TestLifecycle(t *testing.T) { invitetest.RunLifecycle(t, openLifecycleBolt) }
