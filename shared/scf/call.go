package scf

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/web"
)

// CallRequest converts CloudBase call data (the Call envelope) to a
// web.Request with Trigger web.TriggerCall and the given caller, which may
// be nil. Malformed data is errs.Invalid with a message for the caller.
func CallRequest(raw []byte, caller *web.Caller, reqID string) (*web.Request, error) {
	const op = "scf.CallRequest"
	var c Call
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, errs.E(op, errs.Invalid, "call data must be {method, path, query, headers, body}", err)
	}
	if !strings.HasPrefix(c.Path, "/") || strings.HasPrefix(c.Path, "//") {
		return nil, errs.E(op, errs.Invalid, `call data needs a path starting with "/"`)
	}
	body, contentType, err := callBody(c.Body)
	if err != nil {
		return nil, errs.E(op, errs.Invalid, "call body is not valid", err)
	}
	method := strings.ToUpper(c.Method)
	switch {
	case method == "" && body == nil:
		method = http.MethodGet
	case method == "":
		method = http.MethodPost
	case strings.Trim(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "":
		return nil, errs.E(op, errs.Invalid, "call method must be a word such as GET or POST")
	}
	req := web.NewRequest(method, c.Path, body)
	if err := addQuery(req, c.Query); err != nil {
		return nil, errs.E(op, errs.Invalid, "call query must map names to strings or arrays of strings", err)
	}
	for k, v := range c.Headers {
		req.Header.Set(k, v)
	}
	if contentType != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Trigger = web.TriggerCall
	req.Caller = caller
	req.RequestID = reqID
	return req, nil
}

// callBody is the request body for an envelope's body value: nothing for
// absent or null, a string's text, or any other value's compact JSON.
func callBody(raw json.RawMessage) (body []byte, contentType string, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, "", nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, "", err
		}
		return []byte(s), "text/plain; charset=utf-8", nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), "application/json", nil
}

// addQuery merges an envelope's query object into req.Query. Values may be
// strings, numbers, booleans or arrays of those.
func addQuery(req *web.Request, raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	for k, v := range m {
		var list []json.RawMessage
		if bytes.HasPrefix(bytes.TrimSpace(v), []byte("[")) {
			if err := json.Unmarshal(v, &list); err != nil {
				return err
			}
		} else {
			list = []json.RawMessage{v}
		}
		for _, item := range list {
			s, err := scalar(item)
			if err != nil {
				return fmt.Errorf("query %q: %w", k, err)
			}
			req.Query.Add(k, s)
		}
	}
	return nil
}

// scalar is a JSON string's text, or a number's or boolean's literal.
func scalar(v json.RawMessage) (string, error) {
	var x any
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	if err := dec.Decode(&x); err != nil {
		return "", err
	}
	switch t := x.(type) {
	case string:
		return t, nil
	case json.Number:
		return t.String(), nil
	case bool:
		return fmt.Sprint(t), nil
	}
	return "", fmt.Errorf("value %s is not a string, number or boolean", v)
}

// serveCall runs h for a CloudBase call and always produces a CallResult.
func serveCall(ctx context.Context, h web.Handler, raw []byte, fc *functioncontext.FunctionContext, caller *web.Caller) CallResult {
	id := requestID(fc, "")
	req, err := CallRequest(raw, caller, id)
	if err != nil {
		return callResult(web.Error(err, id), id)
	}
	if fc != nil {
		req.RemoteIP = fc.Environment["WX_CLIENTIP"]
	}
	return callResult(web.Serve(ctx, h, req), req.RequestID)
}

// callResult encodes a web.Response for a CloudBase caller. The request id
// is taken from the response's X-Request-Id header when the middleware set
// one.
func callResult(r *web.Response, reqID string) CallResult {
	out := CallResult{Status: r.Status, RequestID: reqID}
	if out.Status == 0 {
		out.Status = http.StatusOK
	}
	if id := r.Header.Get("X-Request-Id"); id != "" {
		out.RequestID = id
	}
	body := bytes.TrimSpace(r.Body)
	switch {
	case len(body) == 0:
		out.Data = json.RawMessage("null")
	case json.Valid(body):
		out.Data = json.RawMessage(body)
	case utf8.Valid(r.Body):
		out.Data, _ = json.Marshal(string(r.Body)) // A string: cannot fail.
	default:
		out.Data, _ = json.Marshal(base64.StdEncoding.EncodeToString(r.Body))
		out.Base64 = true
	}
	return out
}
