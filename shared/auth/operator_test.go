package auth_test

import (
	"net/http"
	"testing"

	"github.com/wemember/wemember/shared/auth"
	"github.com/wemember/wemember/shared/web"
)

func TestIsOperator(t *testing.T) {
	for _, c := range []struct {
		name, header, token string
		want                bool
	}{
		{"the token", "Bearer op-secret", "op-secret", true},
		{"scheme in any case", "bearer op-secret", "op-secret", true},
		{"a wrong token", "Bearer op-secre", "op-secret", false},
		{"no header", "", "op-secret", false},
		{"another scheme", "Basic op-secret", "op-secret", false},
		{"no token configured", "Bearer ", "", false},
		{"no token configured, any presented", "Bearer x", "", false},
	} {
		r := &web.Request{Header: http.Header{}}
		if c.header != "" {
			r.Header.Set("Authorization", c.header)
		}
		if got := auth.IsOperator(r, c.token); got != c.want {
			t.Errorf("%s: IsOperator = %v, want %v", c.name, got, c.want)
		}
	}
}
