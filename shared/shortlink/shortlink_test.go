package shortlink_test

import (
	"path/filepath"
	"testing"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/shortlink/shortlinktest"
	"github.com/wemember/wemember/shared/store"
)

// TestSuite runs the short-link suite on bbolt (tests/domain runs it on
// DynamoDB Local).
func TestSuite(t *testing.T) {
	shortlinktest.RunSuite(t, func(t *testing.T) store.Store {
		s, err := bolt.Open(filepath.Join(t.TempDir(), "shortlink.db"))
		if err != nil {
			t.Fatalf("bolt.Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
