package lambda_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	awslambda "github.com/aws/aws-lambda-go/lambda"

	"github.com/wemember/wemember/shared/lambda"
	"github.com/wemember/wemember/shared/web"
	"github.com/wemember/wemember/tests/eventfix"
)

// TestThroughTheRuntimeWrapper runs Invoke inside aws-lambda-go's own
// handler wrapper (what lambda.Start uses), bytes in and bytes out, as the
// runtime delivers an event.
func TestThroughTheRuntimeWrapper(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"lambda-http-v2.json", `{"statusCode":200,"headers":{"Content-Type":"application/json"},"multiValueHeaders":null,"body":"{\"ok\":true}","cookies":null}`},
		{"lambda-function-url.json", `{"statusCode":200,"headers":{"Content-Type":"application/json"},"body":"{\"ok\":true}","isBase64Encoded":false,"cookies":null}`},
		{"eventbridge-schedule.json", `{"status":200,"body":"{\"ok\":true}"}`},
	}
	h := awslambda.NewHandler(lambda.Invoke((&recorder{resp: okJSON()}).serve))
	for _, tt := range tests {
		raw, err := eventfix.Load(tt.file, nil)
		if err != nil {
			t.Fatal(err)
		}
		out, err := h.Invoke(context.Background(), raw)
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if string(out) != tt.want {
			t.Errorf("%s: runtime payload = %s, want %s", tt.file, out, tt.want)
		}
	}
}

func BenchmarkInvokeHTTP(b *testing.B) {
	raw, err := eventfix.Load("lambda-http-v2.json", nil)
	if err != nil {
		b.Fatal(err)
	}
	invoke := lambda.Invoke(func(context.Context, *web.Request) (*web.Response, error) { return okJSON(), nil })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := invoke(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}

// Example shows a function's main on Lambda: build the handler, start.
func Example() {
	mux := web.NewMux("/member-api")
	mux.Handle("GET", "/me", func(ctx context.Context, req *web.Request) (*web.Response, error) {
		return web.JSON(200, map[string]string{"path": req.Path}), nil
	})
	invoke := lambda.Invoke(mux.Serve) // In main: lambda.Start(mux.Serve).
	ev := json.RawMessage(`{"version":"2.0","rawPath":"/member-api/me","requestContext":{"http":{"method":"GET","sourceIp":"192.0.2.1"},"requestId":"r1"}}`)
	out, _ := invoke(context.Background(), ev)
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	// Output: {"statusCode":200,"headers":{"Content-Type":"application/json"},"multiValueHeaders":null,"body":"{\"path\":\"/member-api/me\"}\n","cookies":null}
}

// BenchmarkInvokeHTTPLarge invokes with an event carrying a member import
// of about 3.8 MB, as text and as base64.
func BenchmarkInvokeHTTPLarge(b *testing.B) {
	raw, err := eventfix.Load("lambda-http-v2.json", nil)
	if err != nil {
		b.Fatal(err)
	}
	body := importBody(3_800_000)
	for _, encoded := range []bool{false, true} {
		name := "text"
		if encoded {
			name = "base64"
		}
		b.Run(name, func(b *testing.B) {
			var ev map[string]any
			if err := json.Unmarshal(raw, &ev); err != nil {
				b.Fatal(err)
			}
			ev["body"], ev["isBase64Encoded"] = string(body), false
			if encoded {
				ev["body"], ev["isBase64Encoded"] = base64.StdEncoding.EncodeToString(body), true
			}
			large, _ := json.Marshal(ev)
			invoke := lambda.Invoke(func(_ context.Context, r *web.Request) (*web.Response, error) {
				if len(r.Body) != len(body) {
					return nil, fmt.Errorf("body of %d bytes, want %d", len(r.Body), len(body))
				}
				return okJSON(), nil
			})
			ctx := context.Background()
			b.SetBytes(int64(len(large)))
			b.ReportAllocs()
			for b.Loop() {
				out, err := invoke(ctx, large)
				if resp, ok := out.(events.APIGatewayV2HTTPResponse); err != nil || !ok || resp.StatusCode != 200 {
					b.Fatal(out, err)
				}
			}
		})
	}
}

// importBody is a JSON member import of about n bytes.
func importBody(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"rows":[`)
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"phone":"139%08d","name":"会员%d","birthday":"1990-%02d-%02d"}`, i, i, i%12+1, i%28+1)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}
