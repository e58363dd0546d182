package domain_test

import (
	"testing"

	"github.com/wemember/wemember/shared/imports/importstest"
	"github.com/wemember/wemember/tests/backends"
)

// TestImportsSuite runs the import suite on every backend. The 100 000-row
// job runs on bbolt in shared/imports; here the job is 5 000 rows, which on
// DynamoDB Local already takes tens of seconds (about 340 rows/s).
func TestImportsSuite(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		importstest.RunSuite(t, b.Open, 5000)
	})
}
