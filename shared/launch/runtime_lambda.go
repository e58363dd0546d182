//go:build lambda || !scf

package launch

import (
	"github.com/wemember/wemember/shared/lambda"
	"github.com/wemember/wemember/shared/web"
)

// lambdaRuntime is the Lambda runtime's start: this build has it (the
// lambda tag, or no platform tag).
func lambdaRuntime() func(web.Handler) { return lambda.Start }
