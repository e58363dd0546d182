package dynamo_test

import (
	"context"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/wemember/wemember/shared/dynamo"
	"github.com/wemember/wemember/shared/store"
)

// A function's main wires the adapter from a client it built itself; in the
// cloud that is dynamodb.NewFromConfig of config.LoadDefaultConfig. Here:
// DynamoDB Local with dummy credentials.
func ExampleNew() {
	ctx := context.Background()
	client := dynamodb.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String("http://127.0.0.1:8000"),
	})
	if err := dynamo.CreateTable(ctx, client, "wemember"); err != nil {
		log.Print(err)
		return
	}
	var s store.Store = dynamo.New(client, "wemember")

	// Register a member and its unionid index entry together, once.
	member := store.K("member#m1", "profile")
	index := store.K("unionid#u1", "member")
	err := s.Write(ctx,
		store.PutJSON(member, map[string]string{"name": "Ada"}).IfAbsent(),
		store.Put(index, []byte("m1")).IfAbsent())
	if k, ok := store.FailedKey(err); ok {
		log.Printf("%s already exists", k)
	}
}
