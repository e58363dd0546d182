package domain_test

import (
	"testing"

	"github.com/wemember/wemember/shared/shortlink/shortlinktest"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/tests/backends"
)

// TestShortlinkSuite runs the short-link suite on DynamoDB Local
// (shared/shortlink runs it on bbolt), with 16 racers for one share.
func TestShortlinkSuite(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		shortlinktest.RunSuite(t, func(t *testing.T) store.Store { return b.Open(t) }, shortlinktest.WithRacers(16))
	}, "dynamo")
}
