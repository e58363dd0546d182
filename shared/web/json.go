package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/wemember/wemember/shared/errs"
)

// JSON answers v encoded as JSON, ending with a newline as a terminal
// expects.
func JSON(status int, v any) *Response {
	b, err := json.Marshal(v)
	if err != nil {
		return Error(errs.E("web.JSON", errs.Internal, err), "")
	}
	return &Response{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: append(b, '\n')}
}

// DecodeJSON decodes the request body into v. A missing body, malformed
// JSON, trailing data or a field of the wrong type is errs.Invalid with a
// message safe for the client.
func DecodeJSON(req *Request, v any) error {
	return decode("web.DecodeJSON", req, v, false)
}

// DecodeStrict is DecodeJSON for documents an operator edits (rules,
// templates): a field v does not have, such as a misspelt one, is
// errs.Invalid naming the field, instead of being silently dropped.
func DecodeStrict(req *Request, v any) error {
	return decode("web.DecodeStrict", req, v, true)
}

func decode(op string, req *Request, v any, strict bool) error {
	if len(bytes.TrimSpace(req.Body)) == 0 {
		return errs.E(op, errs.Invalid, "request body is empty; JSON expected")
	}
	dec := json.NewDecoder(bytes.NewReader(req.Body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok && strict {
			return errs.E(op, errs.Invalid, "request body has an unknown field "+field, err)
		}
		return errs.E(op, errs.Invalid, "request body is not valid JSON", err)
	}
	if dec.More() {
		return errs.E(op, errs.Invalid, "request body has data after the JSON value")
	}
	return nil
}

// ErrorBody is the JSON shape of every error response.
type ErrorBody struct {
	Error struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	} `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

// Error turns err into a JSON error response with the status from the kind
// table, the safe message and the headers WithHeader attached along err's
// chain; the internal cause is not included.
func Error(err error, requestID string) *Response {
	var body ErrorBody
	body.Error.Kind = errs.KindOf(err).String()
	body.Error.Message = errs.SafeMessage(err)
	body.RequestID = requestID
	b, _ := json.Marshal(body) // Strings only: cannot fail.
	h := http.Header{"Content-Type": {"application/json"}}
	for e := err; e != nil; {
		var he *headerError
		if !errors.As(e, &he) {
			break
		}
		for k, v := range he.header {
			if h.Get(k) == "" {
				h[k] = v
			}
		}
		e = he.err
	}
	return &Response{Status: Status(err), Header: h, Body: append(b, '\n')}
}

// WithHeader attaches a response header to err, for the answer Error
// renders from it: Allow on a 405, Retry-After on a 429.
func WithHeader(err error, key, value string) error {
	return &headerError{err: err, header: http.Header{http.CanonicalHeaderKey(key): {value}}}
}

// headerError is an error with headers for its response.
type headerError struct {
	err    error
	header http.Header
}

func (e *headerError) Error() string { return e.err.Error() }
func (e *headerError) Unwrap() error { return e.err }

// statusOf is the one table from error kind to HTTP status.
var statusOf = map[errs.Kind]int{
	errs.Invalid:       http.StatusBadRequest,
	errs.Unauthorized:  http.StatusUnauthorized,
	errs.Permission:    http.StatusForbidden,
	errs.NotExist:      http.StatusNotFound,
	errs.Exist:         http.StatusConflict,
	errs.Conflict:      http.StatusConflict,
	errs.InProgress:    http.StatusConflict,
	errs.TooLarge:      http.StatusRequestEntityTooLarge,
	errs.RateLimited:   http.StatusTooManyRequests,
	errs.Expired:       http.StatusGone,
	errs.Transient:     http.StatusServiceUnavailable,
	errs.Internal:      http.StatusInternalServerError,
	errs.Unimplemented: http.StatusNotImplemented,
	errs.NotAllowed:    http.StatusMethodNotAllowed,
	errs.Upstream:      http.StatusBadGateway,
}

// Status is the HTTP status for an error, by its kind.
func Status(err error) int {
	if s, ok := statusOf[errs.KindOf(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}
