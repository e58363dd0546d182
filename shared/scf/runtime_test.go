package scf_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/rpc"
	"strings"
	"testing"
	"time"

	"github.com/tencentyun/scf-go-lib/cloudfunction/messages"
	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/wemember/wemember/shared/scf"
)

type refusal struct{}

func (*refusal) Error() string { return "refused" }

// TestServe speaks to Serve as the SCF platform does, through net/rpc: a
// Ping, then Invokes whose answer, error or panic come back as
// scf-go-lib's runtime would send them, with the function context built
// from the request.
func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go scf.Serve(ln, func(ctx context.Context, raw json.RawMessage) (any, error) {
		fc, _ := functioncontext.FromContext(ctx)
		switch string(raw) {
		case `"fail"`:
			return nil, &refusal{}
		case `"panic"`:
			panic("boom")
		}
		dl, _ := ctx.Deadline()
		return map[string]any{"echo": raw, "request": fc.RequestID, "openid": fc.Environment["WX_OPENID"],
			"deadline": dl.Unix()}, nil
	})
	client, err := rpc.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := client.Call("Function.Ping", &messages.PingRequest{}, &messages.PingResponse{}); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	deadline := time.Now().Add(time.Minute).Truncate(time.Second)
	invoke := func(payload string) messages.InvokeResponse {
		t.Helper()
		var res messages.InvokeResponse
		req := &messages.InvokeRequest{Payload: []byte(payload), RequestId: "req-1",
			Deadline:    messages.InvokeRequest_Timestamp{Seconds: deadline.Unix()},
			Environment: `{"WX_OPENID":"o-1"}`}
		if err := client.Call("Function.Invoke", req, &res); err != nil {
			t.Fatalf("Invoke %s: %v", payload, err)
		}
		return res
	}
	res := invoke(`{"a":1}`)
	var got struct {
		Echo     json.RawMessage `json:"echo"`
		Request  string          `json:"request"`
		OpenID   string          `json:"openid"`
		Deadline int64           `json:"deadline"`
	}
	if res.Error != nil || json.Unmarshal(res.Payload, &got) != nil {
		t.Fatalf("Invoke = %s, %+v; want a JSON answer", res.Payload, res.Error)
	}
	if string(got.Echo) != `{"a":1}` || got.Request != "req-1" || got.OpenID != "o-1" || got.Deadline != deadline.Unix() {
		t.Errorf("handler saw %+v; want the payload, req-1, o-1 and deadline %d", got, deadline.Unix())
	}
	if res := invoke(`"fail"`); res.Error == nil || res.Error.Type != "refusal" || res.Error.Message != "refused" || res.Error.ShouldExit {
		t.Errorf("error answer = %+v, want refusal/refused", res.Error)
	}
	if res := invoke(`"panic"`); res.Error == nil || !res.Error.ShouldExit || !strings.HasPrefix(res.Error.Message, "boom") {
		t.Errorf("panic answer = %+v, want boom and ShouldExit", res.Error)
	}
	if err := client.Call("Function.Other", &messages.PingRequest{}, &messages.PingResponse{}); err == nil || errors.Is(err, rpc.ErrShutdown) {
		t.Errorf("unknown method: %v, want an rpc error and the connection kept", err)
	}
	if err := client.Call("Function.Ping", &messages.PingRequest{}, &messages.PingResponse{}); err != nil {
		t.Errorf("Ping after an unknown method: %v", err)
	}
}
