package scf_test

import (
	"context"
	"testing"

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
