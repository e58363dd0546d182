package auth

import (
	"crypto/subtle"

	"github.com/wemember/wemember/shared/session"
	"github.com/wemember/wemember/shared/web"
)

// IsOperator reports whether r carries the operator bearer token, compared
// in constant time. An empty configured token matches no request. Operator
// and every handler that admits operators besides other callers (the
// expiry sweep admits its schedule too) decide with it.
func IsOperator(r *web.Request, token string) bool {
	got, ok := session.Bearer(r.Header.Get("Authorization"))
	return ok && token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}
