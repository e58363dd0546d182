//go:build dynamo || !bolt

package boot

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/wemember/wemember/shared/config"
	"github.com/wemember/wemember/shared/dynamo"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// The DynamoDB client's retries: a command's reads and its one atomic write
// are retried on throttling, 5xx and connection errors, with exponential
// backoff and jitter, within a request's time.
const (
	dynamoAttempts   = 5
	dynamoMaxBackoff = 2 * time.Second
)

// openDynamo opens the DynamoDB store on table.
func openDynamo(_ context.Context, cfg config.Config, table string) (store.Store, error) {
	awsCfg, err := dynamoConfig(os.Getenv, cfg.DynamoEndpoint)
	if err != nil {
		return nil, errs.E("boot.openDynamo", err)
	}
	return dynamo.New(dynamodb.NewFromConfig(awsCfg), table), nil
}

// dynamoConfig is the AWS configuration of the DynamoDB client, read from
// the variables the Lambda service sets (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION) rather than
// through the SDK's whole credential chain (shared files, SSO, IMDS…),
// which a function never uses and whose loading is part of every cold
// start. With an endpoint override (DynamoDB Local), missing credentials
// and region are placeholders, which DynamoDB Local accepts.
//
// The retryer is the standard one without its client-side retry quota: the
// quota is one token bucket per process, and a burst of throttled writes
// would drain it and fail the requests after it without a single retry.
func dynamoConfig(getenv func(string) string, endpoint string) (aws.Config, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if endpoint != "" {
		if id == "" {
			id, secret = "local", "local"
		}
		if region == "" {
			region = "us-east-1"
		}
	}
	switch {
	case region == "":
		return aws.Config{}, errs.E(errs.Invalid, "DynamoDB needs AWS_REGION")
	case id == "" || secret == "":
		return aws.Config{}, errs.E(errs.Invalid, "DynamoDB needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	c := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN")),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = dynamoAttempts
				o.MaxBackoff = dynamoMaxBackoff
				o.RateLimiter = ratelimit.None
			})
		},
	}
	if endpoint != "" {
		c.BaseEndpoint = aws.String(endpoint)
	}
	return c, nil
}
