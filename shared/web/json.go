package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"

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

// DecodeJSON decodes the request body into v, a non-nil pointer. A
// missing body, malformed JSON, trailing data, a field of the wrong type
// (named, with the type it needs), a key given twice in an object and a
// key that names a field only in other letter case ("ORDER_AMOUNT" for
// "order_amount") are errs.Invalid with a message safe for the client
// naming the key: field names are matched exactly, and never does a later
// key silently replace an earlier one. Into a zero v, values are stored as
// encoding/json stores them.
func DecodeJSON(req *Request, v any) error {
	return decode("web.DecodeJSON", req, v, &decoder{})
}

// DecodeStrict is DecodeJSON for bodies whose every field counts (rules
// and templates an operator edits, a redeem, a login, a profile update): a
// field v does not have, such as a misspelt one, is errs.Invalid naming
// the field, instead of being silently dropped.
func DecodeStrict(req *Request, v any) error {
	return decode("web.DecodeStrict", req, v, &decoder{strict: true})
}

// DecodeDocument is DecodeStrict for a document replaced whole (a PUT of
// rules), which must say every value so that a field left out is not
// silently taken as zero: a body that lacks a field of v's JSON form, or
// sets it to null, is errs.Invalid naming the field. Fields tagged
// omitempty or omitzero may be left out, and so may the top-level fields
// named in optional (those the server sets). Objects are checked
// recursively, and every element of an array or value of a map against its
// own type; a null element or value is refused as a null field is. Types
// that decode themselves (time.Time) are taken as given.
func DecodeDocument(req *Request, v any, optional ...string) error {
	return decode("web.DecodeDocument", req, v, &decoder{strict: true, whole: true, optional: optional})
}

// decode reads the body into v with d, in one pass, and words its refusal.
func decode(op string, req *Request, v any, d *decoder) error {
	if len(bytes.TrimSpace(req.Body)) == 0 {
		return errs.E(op, errs.Invalid, "request body is empty; JSON expected")
	}
	if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errs.E(op, errs.Internal, fmt.Errorf("decode into %T, not a non-nil pointer", v))
	}
	if p := d.read(req.Body, v); p != nil {
		return errs.E(op, errs.Invalid, p.msg, p.cause)
	}
	return nil
}

// jsonType says what JSON value decodes into a Go value of type t.
func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		return "a string"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "another type of value"
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
