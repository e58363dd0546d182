//go:build dynamo && !bolt

package boot

import "github.com/wemember/wemember/shared/store"

// openBolt fails: this build was asked for DynamoDB alone (-tags dynamo)
// and does not link bbolt.
func openBolt(string) (store.Store, error) { return nil, storeNotBuilt("bolt") }
