//go:build bolt || !dynamo

package boot

import (
	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/store"
)

// openBolt opens the bbolt file at path.
func openBolt(path string) (store.Store, error) { return bolt.Open(path) }
