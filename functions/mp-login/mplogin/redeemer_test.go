package mplogin

import "github.com/wemember/wemember/shared/invite"

// The invitation service is the login's Redeemer, with the registered hook.
var (
	_ Redeemer  = (*invite.Service)(nil)
	_ registrar = (*invite.Service)(nil)
)
