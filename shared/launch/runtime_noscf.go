//go:build lambda && !scf

package launch

import "github.com/wemember/wemember/shared/web"

// scfRuntime is nil: this build was asked for Lambda alone (-tags lambda)
// and does not link scf-go-lib.
func scfRuntime() func(web.Handler) { return nil }
