package errs_test

import (
	"errors"
	"testing"

	"github.com/wemember/wemember/shared/errs"
)

func TestE(t *testing.T) {
	cause := errors.New("disk on fire")
	tests := []struct {
		name     string
		err      error
		kind     errs.Kind
		msg, str string
	}{
		{"op kind msg cause", errs.E("op", errs.Invalid, "bad code", cause), errs.Invalid, "bad code", "op: invalid: bad code: disk on fire"},
		{"kind msg", errs.E(errs.Expired, "code used"), errs.Expired, "code used", "expired: code used"},
		{"op cause", errs.E("op", cause), errs.Other, "other", "op: disk on fire"},
		{"kind inherited", errs.E("outer", errs.E("inner", errs.NotExist, "no member")), errs.NotExist, "no member", "outer: inner: not_exist: no member"},
		{"outer message wins", errs.E("outer", errs.Conflict, "busy", errs.E("inner", errs.NotExist, "no member")), errs.Conflict, "busy", "outer: conflict: busy: inner: not_exist: no member"},
		{"plain error", cause, errs.Other, "other", "disk on fire"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errs.KindOf(tt.err); got != tt.kind {
				t.Errorf("KindOf = %v, want %v", got, tt.kind)
			}
			if got := errs.SafeMessage(tt.err); got != tt.msg {
				t.Errorf("SafeMessage = %q, want %q", got, tt.msg)
			}
			if got := tt.err.Error(); got != tt.str {
				t.Errorf("Error = %q, want %q", got, tt.str)
			}
		})
	}
	if !errors.Is(errs.E("op", errs.Internal, cause), cause) {
		t.Error("the cause is not reachable with errors.Is")
	}
}
