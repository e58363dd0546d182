package scf

import (
	"bufio"
	"context"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"reflect"
	"runtime/debug"
	"sync"
	"time"

	"github.com/tencentyun/scf-go-lib/cloudfunction/messages"
	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/wemember/wemember/shared/web"
)

// SCF's Go1 runtime interface, as scf-go-lib's cloudfunction serves it: the
// function listens on _LAMBDA_SERVER_PORT and answers net/rpc calls in gob,
// Function.Ping until the platform sees it is up, then Function.Invoke with
// each event. This package speaks that wire protocol itself, with
// encoding/gob alone: cloudfunction's net/rpc server links html/template
// and calls methods by reflection, which keeps every exported method of
// the program in the binary and makes it a third larger, slower to load at
// every cold start.

// rpcHeader is net/rpc's request header; rpcReply its response header.
type (
	rpcHeader struct {
		ServiceMethod string
		Seq           uint64
	}
	rpcReply struct {
		ServiceMethod string
		Seq           uint64
		Error         string
	}
)

// Start hands h to the SCF runtime; it does not return. It exits the
// process with status 1 if it cannot listen.
func Start(h web.Handler) {
	ln, err := net.Listen("tcp", "0.0.0.0:"+os.Getenv("_LAMBDA_SERVER_PORT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "scf: listen:", err)
		os.Exit(1)
	}
	err = Serve(ln, Invoke(h))
	fmt.Fprintln(os.Stderr, "scf: serve:", err)
	os.Exit(1)
}

// Serve answers the runtime's calls on ln with invoke until ln fails.
func Serve(ln net.Listener, invoke func(context.Context, json.RawMessage) (any, error)) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go serveConn(c, invoke)
	}
}

// serveConn answers one connection's calls, each invocation in its own
// goroutine as net/rpc does, until the connection ends.
func serveConn(c net.Conn, invoke func(context.Context, json.RawMessage) (any, error)) {
	defer c.Close()
	dec := gob.NewDecoder(bufio.NewReader(c))
	w := bufio.NewWriter(c)
	enc := gob.NewEncoder(w)
	var mu sync.Mutex
	reply := func(h rpcHeader, rpcErr string, body any) {
		mu.Lock()
		defer mu.Unlock()
		if enc.Encode(rpcReply{ServiceMethod: h.ServiceMethod, Seq: h.Seq, Error: rpcErr}) == nil && enc.Encode(body) == nil {
			w.Flush()
		}
	}
	for {
		var h rpcHeader
		if err := dec.Decode(&h); err != nil {
			return
		}
		switch h.ServiceMethod {
		case "Function.Ping":
			var req messages.PingRequest
			if dec.Decode(&req) != nil {
				return
			}
			reply(h, "", &messages.PingResponse{})
		case "Function.Invoke":
			var req messages.InvokeRequest
			if dec.Decode(&req) != nil {
				return
			}
			go func() { reply(h, "", invokeOnce(&req, invoke)) }()
		default:
			if dec.DecodeValue(reflect.Value{}) != nil { // Discards the body.
				return
			}
			reply(h, "rpc: can't find method "+h.ServiceMethod, struct{}{})
		}
	}
}

// invokeOnce runs one invocation as cloudfunction.Function.Invoke does: a
// context with the invocation's deadline and function context, the
// handler's result as JSON, its error or panic as the response's error.
// Unlike scf-go-lib it does not copy the invocation's environment into the
// process's: the handler reads it from the function context only.
func invokeOnce(req *messages.InvokeRequest, invoke func(context.Context, json.RawMessage) (any, error)) (res *messages.InvokeResponse) {
	res = &messages.InvokeResponse{}
	defer func() {
		if v := recover(); v != nil {
			res.Error = &messages.InvokeResponse_Error{Message: fmt.Sprint(v) + "\n" + string(debug.Stack()),
				Type: typeName(v), ShouldExit: true}
		}
	}()
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(req.Deadline.Seconds, req.Deadline.Nanos))
	defer cancel()
	fc := &functioncontext.FunctionContext{
		RequestID: req.RequestId, InvokedFunctionUnique: req.InvokedFunctionUnique, Namespace: req.Namespace,
		FunctionName: req.FunctionName, FunctionVersion: req.FunctionVersion, MemoryLimitInMb: req.MemoryLimitInMb,
		TimeLimitInMs: req.TimeLimitInMs, TencentcloudRegion: req.TencentcloudRegion,
		TencentcloudAppID: req.TencentcloudAppID, TencentcloudUin: req.TencentcloudUin, FunctionTrace: req.FunctionTrace,
	}
	fail := func(err error) *messages.InvokeResponse {
		res.Error = &messages.InvokeResponse_Error{Message: err.Error(), Type: typeName(err)}
		return res
	}
	if len(req.ClientContext) > 0 {
		if err := json.Unmarshal(req.ClientContext, &fc.ClientContext); err != nil {
			return fail(err)
		}
	}
	if req.Environment != "" {
		if err := json.Unmarshal([]byte(req.Environment), &fc.Environment); err != nil {
			return fail(err)
		}
	}
	out, err := invoke(functioncontext.NewContext(ctx, fc), req.Payload)
	if err != nil {
		return fail(err)
	}
	if res.Payload, err = json.Marshal(out); err != nil {
		return fail(err)
	}
	return res
}

// typeName is the name of v's type, through one pointer: the error type
// the platform shows.
func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}
