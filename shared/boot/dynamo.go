package boot

import (
	"context"

	"github.com/wemember/wemember/shared/config"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

func openDynamo(ctx context.Context, cfg config.Config, table string) (store.Store, error) {
	return nil, errs.E("boot.openDynamo", errs.Unimplemented, "dynamo store not wired yet")
}
