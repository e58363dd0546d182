//go:build scf || !lambda

package launch

import (
	"github.com/wemember/wemember/shared/scf"
	"github.com/wemember/wemember/shared/web"
)

// scfRuntime is the SCF runtime's start: this build has it (the scf tag,
// or no platform tag).
func scfRuntime() func(web.Handler) { return scf.Start }
