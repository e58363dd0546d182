package scf_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/tencentyun/scf-go-lib/events"

	"github.com/wemember/wemember/shared/scf"
	"github.com/wemember/wemember/shared/web"
	"github.com/wemember/wemember/tests/eventfix"
)

func BenchmarkInvoke(b *testing.B) {
	for _, file := range []string{"scf-apigw.json", "cloudbase-call.json"} {
		b.Run(file, func(b *testing.B) {
			raw, err := eventfix.Load(file, nil)
			if err != nil {
				b.Fatal(err)
			}
			ctx := scfContext("r1", map[string]string{"WX_OPENID": "o1"})
			if file == "scf-apigw.json" {
				ctx = context.Background()
			}
			invoke := scf.Invoke(func(context.Context, *web.Request) (*web.Response, error) { return okJSON(), nil })
			b.ReportAllocs()
			for b.Loop() {
				if _, err := invoke(ctx, raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkInvokeLarge invokes with an API gateway event carrying a member
// import of about 3.8 MB, as text and as base64.
func BenchmarkInvokeLarge(b *testing.B) {
	raw, err := eventfix.Load("scf-apigw.json", nil)
	if err != nil {
		b.Fatal(err)
	}
	var body bytes.Buffer
	body.WriteString(`{"rows":[`)
	for i := 0; body.Len() < 3_800_000; i++ {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"phone":"139%08d","name":"会员%d","birthday":"1990-%02d-%02d"}`, i, i, i%12+1, i%28+1)
	}
	body.WriteString(`]}`)
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
			ev["body"], ev["isBase64Encoded"] = body.String(), false
			if encoded {
				ev["body"], ev["isBase64Encoded"] = base64.StdEncoding.EncodeToString(body.Bytes()), true
			}
			large, _ := json.Marshal(ev)
			invoke := scf.Invoke(func(_ context.Context, r *web.Request) (*web.Response, error) {
				if len(r.Body) != body.Len() {
					return nil, fmt.Errorf("body of %d bytes, want %d", len(r.Body), body.Len())
				}
				return okJSON(), nil
			})
			b.SetBytes(int64(len(large)))
			b.ReportAllocs()
			for b.Loop() {
				out, err := invoke(context.Background(), large)
				if resp, ok := out.(events.APIGatewayResponse); err != nil || !ok || resp.StatusCode != 200 {
					b.Fatal(out, err)
				}
			}
		})
	}
}
