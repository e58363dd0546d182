// Package errs is wemember's one error vocabulary: every error that crosses a
// package boundary carries an operation, a Kind, a message that is safe to show
// a client, and the wrapped internal cause, which only ever reaches the log.
package errs

import "errors"

// Kind classifies an error by what the caller can do about it.
type Kind int

// The kinds. Their HTTP statuses live in one table in package web.
const (
	Other         Kind = iota // Unclassified; treated as Internal.
	Invalid                   // The input is malformed or breaks a rule.
	Unauthorized              // No valid credential was presented.
	Permission                // The caller is known but may not do this.
	NotExist                  // The thing asked for does not exist.
	Exist                     // The thing to be created already exists.
	Conflict                  // A condition on the current state did not hold.
	InProgress                // The same command is running elsewhere; retry later.
	TooLarge                  // The input is over a size limit.
	RateLimited               // The caller is over a rate limit.
	Expired                   // The thing asked for has expired or was used.
	Transient                 // A dependency failed in a way that may pass.
	Internal                  // A bug or an unexpected failure.
	Unimplemented             // The feature is not built.
	NotAllowed                // The route exists but does not take this method.
	Upstream                  // A dependency answered something unusable; retrying will not help.
)

var kindNames = [...]string{
	Other: "other", Invalid: "invalid", Unauthorized: "unauthorized",
	Permission: "permission", NotExist: "not_exist", Exist: "exist",
	Conflict: "conflict", InProgress: "in_progress", TooLarge: "too_large",
	RateLimited: "rate_limited", Expired: "expired", Transient: "transient",
	Internal: "internal", Unimplemented: "unimplemented", NotAllowed: "method_not_allowed",
	Upstream: "upstream",
}

// String names the kind as it appears in JSON error bodies and logs.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "other"
	}
	return kindNames[k]
}

// Error is the error type of every wemember package.
type Error struct {
	Op   string // The operation that failed, e.g. "store.Write".
	Kind Kind   // What sort of failure; Other if unknown (inherits from Err).
	Msg  string // A message safe to show a client; empty means "use the kind".
	Err  error  // The underlying cause; logged, never shown to a client.
}

// E builds an *Error from, in any order, a Kind, a safe message (a string),
// and a cause (an error) — except that a string in first place is the op:
// E(op, kind, msg, cause), E(op, cause), E(kind, msg).
func E(args ...any) error {
	e := &Error{}
	for i, a := range args {
		switch v := a.(type) {
		case string:
			if i == 0 {
				e.Op = v
			} else {
				e.Msg = v
			}
		case Kind:
			e.Kind = v
		case *Error:
			c := *v
			e.Err = &c
		case error:
			e.Err = v
		}
	}
	return e
}

// Error renders op, kind, message and cause for the log.
func (e *Error) Error() string {
	s := e.Op
	add := func(p string) {
		if p == "" {
			return
		}
		if s != "" {
			s += ": "
		}
		s += p
	}
	if e.Kind != Other {
		add(e.Kind.String())
	}
	add(e.Msg)
	if e.Err != nil {
		add(e.Err.Error())
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// KindOf reports the first kind other than Other found along err's chain.
func KindOf(err error) Kind {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return Other
		}
		if e.Kind != Other {
			return e.Kind
		}
		err = e.Err
	}
	return Other
}

// Is reports whether err has the given kind.
func Is(kind Kind, err error) bool { return err != nil && KindOf(err) == kind }

// SafeMessage is the outermost message along err's chain that may be shown to
// a client, or the kind's name when none was given.
func SafeMessage(err error) string {
	for e := err; e != nil; {
		var x *Error
		if !errors.As(e, &x) {
			break
		}
		if x.Msg != "" {
			return x.Msg
		}
		e = x.Err
	}
	return KindOf(err).String()
}
