// Command scf is the yardstick of the cold-start benchmark on Tencent SCF:
// the smallest scf-go-lib function, answering every event with a fixed API
// Gateway response. Its INIT is what any Go function on SCF pays.
package main

import (
	"context"
	"encoding/json"

	"github.com/tencentyun/scf-go-lib/cloudfunction"
)

func main() {
	cloudfunction.Start(func(context.Context, json.RawMessage) (map[string]any, error) {
		return map[string]any{"statusCode": 200, "body": "hello"}, nil
	})
}
