package domain_test

import (
	"testing"

	"github.com/wemember/wemember/shared/imports/importstest"
	"github.com/wemember/wemember/tests/backends"
)

// TestImportsSuite runs the import suite on DynamoDB Local (shared/imports
// runs it on bbolt, with the 100 000-row job). Here the job is 5 000 rows,
// which on DynamoDB Local already takes tens of seconds (about 340 rows/s).
func TestImportsSuite(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		importstest.RunSuite(t, b.Open, 5000)
	}, "dynamo")
}
