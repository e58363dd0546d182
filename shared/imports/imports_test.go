package imports_test

import (
	"testing"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/imports/importstest"
	"github.com/wemember/wemember/shared/store"
)

func openBolt(t testing.TB) store.Store {
	s, err := bolt.Open(t.TempDir() + "/imports.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSuite runs the import suite on bbolt with the full 100 000-row job
// (1 000 rows with -short).
func TestSuite(t *testing.T) {
	rows := 0
	if testing.Short() {
		rows = 1000
	}
	importstest.RunSuite(t, openBolt, rows)
}
