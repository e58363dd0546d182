//go:build dynamo || !bolt

package boot

import (
	"context"
	"errors"
	"testing"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/wemember/wemember/shared/errs"
)

func vars(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestDynamoConfig: the client is configured from the variables Lambda
// sets, session token included; DynamoDB Local gets placeholders.
func TestDynamoConfig(t *testing.T) {
	lambdaEnv := map[string]string{"AWS_REGION": "ap-southeast-1", "AWS_DEFAULT_REGION": "us-west-2",
		"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token"}
	tests := []struct {
		name                      string
		env                       map[string]string
		endpoint                  string
		region, id, secret, token string
	}{
		{"Lambda", lambdaEnv, "", "ap-southeast-1", "AKID", "secret", "token"},
		{"default region", map[string]string{"AWS_DEFAULT_REGION": "us-west-2", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"}, "", "us-west-2", "AKID", "secret", ""},
		{"DynamoDB Local", nil, "http://127.0.0.1:18000", "us-east-1", "local", "local", ""},
		{"DynamoDB Local with credentials", lambdaEnv, "http://127.0.0.1:18000", "ap-southeast-1", "AKID", "secret", "token"},
	}
	for _, tt := range tests {
		c, err := dynamoConfig(vars(tt.env), tt.endpoint)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		creds, err := c.Credentials.Retrieve(context.Background())
		if err != nil {
			t.Fatalf("%s: credentials: %v", tt.name, err)
		}
		if c.Region != tt.region || creds.AccessKeyID != tt.id || creds.SecretAccessKey != tt.secret || creds.SessionToken != tt.token {
			t.Errorf("%s: region %q, credentials %q %q %q; want %q, %q %q %q", tt.name, c.Region,
				creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, tt.region, tt.id, tt.secret, tt.token)
		}
		if got := c.BaseEndpoint; (got == nil) != (tt.endpoint == "") || got != nil && *got != tt.endpoint {
			t.Errorf("%s: BaseEndpoint %v, want %q", tt.name, got, tt.endpoint)
		}
	}
	for _, env := range []map[string]string{
		{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"},
		{"AWS_REGION": "ap-southeast-1"},
	} {
		if _, err := dynamoConfig(vars(env), ""); !errs.Is(errs.Invalid, err) {
			t.Errorf("dynamoConfig(%v) = %v, want Invalid", env, err)
		}
	}
}

// TestDynamoRetryerHasNoQuota: a burst of throttled calls keeps getting
// retries. The SDK's default quota (500 tokens, 5 a retry) refuses the
// 101st retry of a process.
func TestDynamoRetryerHasNoQuota(t *testing.T) {
	c, err := dynamoConfig(vars(nil), "http://127.0.0.1:18000")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Retryer()
	if got := r.MaxAttempts(); got != dynamoAttempts {
		t.Errorf("MaxAttempts = %d, want %d", got, dynamoAttempts)
	}
	throttled := errors.New("ProvisionedThroughputExceededException")
	for i := range 1000 {
		if _, err := r.GetRetryToken(context.Background(), throttled); err != nil {
			t.Fatalf("retry %d refused: %v", i+1, err)
		}
	}
	if d, err := r.RetryDelay(10, throttled); err != nil || d > dynamoMaxBackoff {
		t.Errorf("RetryDelay(10) = %v, %v; want at most %v", d, err, dynamoMaxBackoff)
	}
}

// BenchmarkDynamoClient: building the client from the Lambda variables,
// against the SDK's full configuration loading it replaces (shared config
// files, credential chain), as every cold start does once.
func BenchmarkDynamoClient(b *testing.B) {
	env := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token"}
	for k, v := range env {
		b.Setenv(k, v)
	}
	b.Setenv("AWS_CONFIG_FILE", b.TempDir()+"/none")
	b.Setenv("AWS_SHARED_CREDENTIALS_FILE", b.TempDir()+"/none")
	b.Run("aws.Config", func(b *testing.B) {
		for b.Loop() {
			c, err := dynamoConfig(vars(env), "")
			if err != nil {
				b.Fatal(err)
			}
			dynamodb.NewFromConfig(c)
		}
	})
	b.Run("LoadDefaultConfig", func(b *testing.B) {
		for b.Loop() {
			c, err := awsconfig.LoadDefaultConfig(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			dynamodb.NewFromConfig(c)
		}
	})
}
