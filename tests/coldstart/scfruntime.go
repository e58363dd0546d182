package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/rpc"
	"os"
	"strconv"
	"time"

	"github.com/tencentyun/scf-go-lib/cloudfunction/messages"
)

// SCF's Go1 runtime, as scf-go-lib's cloudfunction speaks it: the function
// listens on _LAMBDA_SERVER_PORT and serves net/rpc; the platform calls
// Function.Ping until it answers and then Function.Invoke with the event.
// Init is exec → first Ping answered; first is exec → Invoke answered.

// pollEvery is how often the port is tried while the function starts.
const pollEvery = 200 * time.Microsecond

// coldStartSCF execs the binary as SCF would and times it.
func coldStartSCF(ctx context.Context, l launch) (measurement, error) {
	dir, err := os.MkdirTemp("", "coldstart-run-")
	if err != nil {
		return measurement{}, err
	}
	defer os.RemoveAll(dir)
	port, err := freePort()
	if err != nil {
		return measurement{}, err
	}
	env := map[string]string{
		// What SCF sets for a Go1 function, and the DynamoDB keys its
		// configuration passes (infra/tencent/*/serverless.yml).
		"_LAMBDA_SERVER_PORT":   strconv.Itoa(port),
		"SCF_FUNCTIONNAME":      l.Function,
		"SCF_FUNCTIONVERSION":   "$LATEST",
		"TENCENTCLOUD_REGION":   "ap-guangzhou",
		"AWS_REGION":            "us-east-1",
		"AWS_ACCESS_KEY_ID":     "local",
		"AWS_SECRET_ACCESS_KEY": "local",
		"USER_CODE_ROOT":        dir,
		"SCF_RUNTIME":           "Go1",
	}
	p, err := startProcess(ctx, l, dir, env)
	if err != nil {
		return measurement{}, err
	}
	defer p.cancel()
	defer p.stop()

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var client *rpc.Client
	for client == nil {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			client = rpc.NewClient(c)
			break
		}
		select {
		case err := <-p.exited:
			return measurement{}, fmt.Errorf("%s exited before listening (%v):\n%s", l.Function, err, p.logs.String())
		case <-p.ctx.Done():
			return measurement{}, fmt.Errorf("%s: not listening within %s:\n%s", l.Function, l.Timeout, p.logs.String())
		case <-time.After(pollEvery):
		}
	}
	defer client.Close()
	if err := client.Call("Function.Ping", &messages.PingRequest{}, &messages.PingResponse{}); err != nil {
		return measurement{}, fmt.Errorf("%s: ping: %v\n%s", l.Function, err, p.logs.String())
	}
	m := measurement{Init: time.Since(p.start)}
	deadline := time.Now().Add(l.Timeout)
	req := &messages.InvokeRequest{
		Payload: l.Event, RequestId: "req-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		Deadline:     messages.InvokeRequest_Timestamp{Seconds: deadline.Unix(), Nanos: int64(deadline.Nanosecond())},
		FunctionName: l.Function, FunctionVersion: "$LATEST", MemoryLimitInMb: 128,
		TimeLimitInMs: int32(l.Timeout / time.Millisecond), TencentcloudRegion: "ap-guangzhou",
	}
	var res messages.InvokeResponse
	call := client.Go("Function.Invoke", req, &res, nil)
	select {
	case <-call.Done:
	case <-p.ctx.Done():
		return measurement{}, fmt.Errorf("%s: no answer within %s:\n%s", l.Function, l.Timeout, p.logs.String())
	}
	m.First = time.Since(p.start)
	switch {
	case call.Error != nil:
		return measurement{}, fmt.Errorf("%s: invoke: %v\n%s", l.Function, call.Error, p.logs.String())
	case res.Error != nil:
		m.Answer = "error " + res.Error.Type
	default:
		m.Answer = scfAnswer(res.Payload)
	}
	return m, nil
}

// scfAnswer summarises an SCF answer: the HTTP status of an API Gateway
// response, else "ok".
func scfAnswer(payload []byte) string {
	var r struct {
		StatusCode int `json:"statusCode"`
	}
	if json.Unmarshal(payload, &r) == nil && r.StatusCode != 0 {
		return strconv.Itoa(r.StatusCode)
	}
	return "ok"
}

// freePort is a loopback TCP port free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
