// Command lambda is the yardstick of the cold-start benchmark: the smallest
// aws-lambda-go function, answering every event with a fixed API Gateway
// response. Its INIT is what any Go function on Lambda pays.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, json.RawMessage) (map[string]any, error) {
		return map[string]any{"statusCode": 200, "body": "hello"}, nil
	})
}
