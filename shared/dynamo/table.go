package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/wemember/wemember/shared/errs"
)

// CreateTable creates the store's table (on-demand billing, key pk/sk) if it
// does not exist, waits until it is active, and turns on TTL on the ttl
// attribute. It is idempotent: run it on every deployment or test start.
// ctx bounds the wait.
func CreateTable(ctx context.Context, client Client, table string) error {
	const op = "dynamo.CreateTable"
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   &table,
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrSK), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return backendError(op, fmt.Errorf("create table %s: %w", table, err))
	}
	for {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
		if err != nil {
			return backendError(op, fmt.Errorf("describe table %s: %w", table, err))
		}
		if out.Table != nil && out.Table.TableStatus == types.TableStatusActive {
			break
		}
		select {
		case <-ctx.Done():
			return errs.E(op, errs.Transient, fmt.Errorf("table %s not active: %w", table, ctx.Err()))
		case <-time.After(200 * time.Millisecond):
		}
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: &table,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(attrTTL),
			Enabled:       aws.Bool(true),
		},
	})
	var api smithy.APIError
	if err != nil && !(errors.As(err, &api) && strings.Contains(strings.ToLower(api.ErrorMessage()), "already enabled")) {
		return backendError(op, fmt.Errorf("enable TTL on %s: %w", table, err))
	}
	return nil
}
