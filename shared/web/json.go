package web

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/wemember/wemember/shared/errs"
)

// JSON answers v encoded as JSON.
func JSON(status int, v any) *Response {
	b, err := json.Marshal(v)
	if err != nil {
		return Error(errs.E("web.JSON", errs.Internal, err), "")
	}
	return &Response{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: b}
}

// DecodeJSON decodes the request body into v. A missing body, malformed
// JSON, trailing data or a field of the wrong type is errs.Invalid with a
// message safe for the client.
func DecodeJSON(req *Request, v any) error {
	const op = "web.DecodeJSON"
	if len(bytes.TrimSpace(req.Body)) == 0 {
		return errs.E(op, errs.Invalid, "request body is empty; JSON expected")
	}
	dec := json.NewDecoder(bytes.NewReader(req.Body))
	if err := dec.Decode(v); err != nil {
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
// table and the safe message; the internal cause is not included.
func Error(err error, requestID string) *Response {
	var body ErrorBody
	body.Error.Kind = errs.KindOf(err).String()
	body.Error.Message = errs.SafeMessage(err)
	body.RequestID = requestID
	b, _ := json.Marshal(body) // Strings only: cannot fail.
	return &Response{Status: Status(err), Header: http.Header{"Content-Type": {"application/json"}}, Body: b}
}

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
}

// Status is the HTTP status for an error, by its kind.
func Status(err error) int {
	if s, ok := statusOf[errs.KindOf(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}
