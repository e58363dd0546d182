package boot

import (
	"fmt"

	"github.com/wemember/wemember/shared/errs"
)

// A build links the stores its tags name: bolt, dynamo, both, or with no
// store tag both (store_*.go). A deployment on DynamoDB is built with
// -tags dynamo and links no bbolt; one on a bbolt file with -tags bolt and
// links no AWS SDK.

// storeNotBuilt is the error of opening a store of kind the binary was
// built without; it names the tag that brings it in.
func storeNotBuilt(kind string) error {
	return errs.E(errs.Invalid, fmt.Sprintf(
		"this binary was built without the %s store: build it with -tags %s, or with no store tag for every store", kind, kind))
}
