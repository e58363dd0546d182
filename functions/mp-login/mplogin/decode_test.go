package mplogin_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/wemember/wemember/functions/mp-login/mplogin"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/web"
)

// TestLoginRefusesUnknownFields: a login body with a field the request does
// not have (a client's "phone" for "phone_code") is refused naming it,
// before anyone is asked.
func TestLoginRefusesUnknownFields(t *testing.T) {
	h := &mplogin.Handler{}
	for body, want := range map[string]string{
		`{"phone":"1"}`:                 `unknown field "phone"`,
		`{"code":"c","CODE":"d"}`:       `"CODE"`,
		`{"code":"c","nickname":["a"]}`: `"nickname" must be a string`,
	} {
		r := web.NewRequest(http.MethodPost, "/mp-login", []byte(body))
		_, err := h.Login(context.Background(), r)
		if !errs.Is(errs.Invalid, err) || !strings.Contains(errs.SafeMessage(err), want) {
			t.Errorf("Login(%s) = %v; want invalid naming %s", body, err, want)
		}
	}
}
