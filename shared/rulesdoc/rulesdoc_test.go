package rulesdoc_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/rulesdoc"
)

func TestCheckVersion(t *testing.T) {
	for _, tc := range []struct {
		sent  int64
		kind  errs.Kind
		words string
	}{
		{-1, errs.Invalid, "version -1 is not a version"},
		{0, errs.Invalid, "version is required"},
		{2, errs.Conflict, "version 2 is stale: the rules are at version 3"},
	} {
		err := rulesdoc.CheckVersion("op", tc.sent, 3)
		if !errs.Is(tc.kind, err) || !strings.Contains(err.Error(), tc.words) || !strings.Contains(err.Error(), "version 3") {
			t.Errorf("CheckVersion(%d, 3) = %v; want %v saying %q and the current version", tc.sent, err, tc.kind, tc.words)
		}
	}
	if err := rulesdoc.CheckVersion("op", 3, 3); err != nil {
		t.Errorf("CheckVersion(3, 3) = %v; want nil", err)
	}
}

func TestSaveErr(t *testing.T) {
	if err := rulesdoc.SaveErr("op", nil); err != nil {
		t.Errorf("SaveErr(nil) = %v; want nil", err)
	}
	lost := rulesdoc.SaveErr("op", errs.E("store.Write", errs.Conflict, "condition failed"))
	if !errs.Is(errs.Conflict, lost) || !strings.Contains(lost.Error(), "the rules changed meanwhile; reload and retry") {
		t.Errorf("SaveErr(conflict) = %v; want a conflict saying to reload", lost)
	}
	down := errs.E("store.Write", errs.Transient, errors.New("timeout"))
	if got := rulesdoc.SaveErr("op", down); !errs.Is(errs.Transient, got) || strings.Contains(got.Error(), "meanwhile") {
		t.Errorf("SaveErr(transient) = %v; want the store's error kept", got)
	}
}
