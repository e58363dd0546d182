//go:build scf && !lambda

package launch

import "github.com/wemember/wemember/shared/web"

// lambdaRuntime is nil: this build was asked for SCF alone (-tags scf)
// and does not link aws-lambda-go.
func lambdaRuntime() func(web.Handler) { return nil }
