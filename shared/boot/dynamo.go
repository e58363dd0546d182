package boot

import (
	"context"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/wemember/wemember/shared/config"
	"github.com/wemember/wemember/shared/dynamo"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// openDynamo opens the DynamoDB store on table. With an endpoint override
// (DynamoDB Local) and no credentials in the environment, it uses static
// placeholder credentials, which DynamoDB Local accepts.
func openDynamo(ctx context.Context, cfg config.Config, table string) (store.Store, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if cfg.DynamoEndpoint != "" {
		if os.Getenv("AWS_ACCESS_KEY_ID") == "" {
			opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
		}
		if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
			opts = append(opts, awsconfig.WithRegion("us-east-1"))
		}
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, errs.E("boot.openDynamo", errs.Internal, err)
	}
	client := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		if cfg.DynamoEndpoint != "" {
			o.BaseEndpoint = aws.String(cfg.DynamoEndpoint)
		}
	})
	return dynamo.New(client, table), nil
}
