package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/wemember/wemember/shared/web"
)

// loginBody is the shape of mp-login's request.
type loginBody struct {
	Code      string `json:"code"`
	PhoneCode string `json:"phone_code"`
	Channel   *struct {
		Kind  string            `json:"kind"`
		Value string            `json:"value,omitempty"`
		UTM   map[string]string `json:"utm,omitempty"`
	} `json:"channel"`
	Scene    string `json:"scene"`
	Nickname string `json:"nickname"`
	Avatar   string `json:"avatar"`
}

// importBody is the shape of admin-api's member import.
type importBody struct {
	Rows []struct {
		Phone      string `json:"phone"`
		Name       string `json:"name"`
		Birthday   string `json:"birthday,omitempty"`
		ExternalID string `json:"external_id,omitempty"`
	} `json:"rows"`
	Batch string `json:"batch,omitempty"`
}

var loginJSON = []byte(`{"code":"0a1B2c3D4e5F6g7H8i9J","phone_code":"e31968a7f94cc5ee25fafc2aef2773f0","channel":{"kind":"qr","value":"store-12","utm":{"source":"poster"}},"scene":"","nickname":"小明","avatar":"https://thirdwx.qlogo.cn/mmopen/vi_32/abc/132"}`)

// importJSON is a member import of about 3.8 MB.
var importJSON = func() []byte {
	var b bytes.Buffer
	b.WriteString(`{"rows":[`)
	for i := 0; b.Len() < 3_800_000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"phone":"139%08d","name":"会员%d","birthday":"1990-%02d-%02d","external_id":"crm-%d"}`, i, i, i%12+1, i%28+1, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}()

func BenchmarkDecodeLogin(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(loginJSON)))
	for b.Loop() {
		var v loginBody
		if err := web.DecodeStrict(web.NewRequest("POST", "/", loginJSON), &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeImport(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(importJSON)))
	for b.Loop() {
		var v importBody
		if err := web.DecodeStrict(web.NewRequest("POST", "/", importJSON), &v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStandard runs a request through the middleware every function
// runs under, to a handler that answers at once.
func BenchmarkStandard(b *testing.B) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	h := web.Chain(func(context.Context, *web.Request) (*web.Response, error) {
		return web.JSON(http.StatusOK, map[string]bool{"ok": true}), nil
	}, web.Standard("member-api", log, 0)...)
	b.ReportAllocs()
	for b.Loop() {
		r := web.NewRequest("POST", "/member-api/sign-in", loginJSON)
		if resp := web.Serve(context.Background(), h, r); resp.Status != http.StatusOK {
			b.Fatal(resp.Status)
		}
	}
}
