//go:build bolt && !dynamo

package boot

import (
	"context"

	"github.com/wemember/wemember/shared/config"
	"github.com/wemember/wemember/shared/store"
)

// openDynamo fails: this build was asked for bbolt alone (-tags bolt) and
// does not link the AWS SDK.
func openDynamo(context.Context, config.Config, string) (store.Store, error) {
	return nil, storeNotBuilt("dynamo")
}
