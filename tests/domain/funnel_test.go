package domain_test

import (
	"testing"

	"github.com/wemember/wemember/shared/funnel/funneltest"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/tests/backends"
)

// TestFunnelSuite runs the funnel suite on DynamoDB Local (shared/funnel
// runs it on bbolt). There 200 registrations race over 16 goroutines (1,000
// over 32 on bbolt): they land on a day's 16 shards, so even this many
// contend on every item.
func TestFunnelSuite(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		funneltest.RunSuite(t, func(t *testing.T) store.Store { return b.Open(t) }, funneltest.WithRegistrations(200, 16))
	}, "dynamo")
}
