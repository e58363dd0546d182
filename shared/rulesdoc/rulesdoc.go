// Package rulesdoc holds what the versioned rules documents (the loyalty
// rules, the identity rules) share when an operator saves one: the version
// the edit was made on must be the current one, and a save that loses a race
// says so the same way.
package rulesdoc

import (
	"fmt"

	"github.com/wemember/wemember/shared/errs"
)

// CheckVersion refuses an edit made on version sent when the rules are at
// version current: errs.Invalid when sent is missing (0) or negative,
// errs.Conflict when it is stale (someone changed the rules meanwhile), each
// saying the current version. It is nil when sent is current.
func CheckVersion(op string, sent, current int64) error {
	switch {
	case sent < 0:
		return errs.E(op, errs.Invalid, fmt.Sprintf(
			"version %d is not a version: send the version of the rules you edited (the rules are at version %d)", sent, current))
	case sent == 0:
		return errs.E(op, errs.Invalid, fmt.Sprintf(
			"version is required: send the version of the rules you edited (the rules are at version %d)", current))
	case sent != current:
		return errs.E(op, errs.Conflict, fmt.Sprintf(
			"version %d is stale: the rules are at version %d; reload and retry", sent, current))
	}
	return nil
}

// SaveErr is the error of a save whose write failed with err: errs.Conflict
// saying to reload when another save won the race, err under op otherwise,
// nil when err is nil.
func SaveErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errs.Is(errs.Conflict, err):
		return errs.E(op, errs.Conflict, "the rules changed meanwhile; reload and retry", err)
	}
	return errs.E(op, err)
}
