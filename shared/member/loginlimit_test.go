package member_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/store"
)

// TestLoginLimitRule checks the login limit of the identity rules: 100
// logins per client IP per 10 minutes until an operator changes it, also
// for rules stored before the limit existed; values out of bounds are
// refused.
func TestLoginLimitRule(t *testing.T) {
	svc, st := newService(t)
	ctx := context.Background()
	want := member.LoginLimit{Calls: 100, WindowSeconds: 600}
	if got := member.DefaultRules().LoginLimit; got != want {
		t.Errorf("default login limit = %+v, want %+v", got, want)
	}
	// Rules stored before the login limit existed.
	if err := st.Write(ctx, store.Put(store.K("rules#member", "current"), []byte(`{"bind":"forced","unsubscribe":"keep"}`))); err != nil {
		t.Fatal(err)
	}
	r, err := svc.Rules(ctx)
	if err != nil || r.Bind != member.BindForced || r.LoginLimit != want {
		t.Errorf("rules stored without a login limit = %+v, %v; want forced, %+v", r, err, want)
	}
	if got := r.LoginLimit.Window(); got != 10*time.Minute {
		t.Errorf("Window() = %v, want 10m", got)
	}
	// Set without one: refused, not the default; set with one: kept.
	set := r
	set.LoginLimit = member.LoginLimit{}
	if _, err = svc.SetRules(ctx, set, "ops"); !errs.Is(errs.Invalid, err) || !strings.HasPrefix(errs.SafeMessage(err), "login_limit.calls") {
		t.Errorf("SetRules without a login limit = %v; want invalid naming login_limit.calls", err)
	}
	custom := member.LoginLimit{Calls: 20, WindowSeconds: 60}
	set.LoginLimit = custom
	if r, err = svc.SetRules(ctx, set, "ops"); err != nil || r.LoginLimit != custom {
		t.Errorf("SetRules with %+v = %+v, %v", custom, r, err)
	}
	for _, bad := range []member.LoginLimit{
		{Calls: -1, WindowSeconds: 60},
		{Calls: 10, WindowSeconds: -5},
		{Calls: 1_000_001, WindowSeconds: 60},
		{Calls: 10, WindowSeconds: 86401},
		{Calls: 10}, // A window is needed once the limit is set.
	} {
		set := r
		set.LoginLimit = bad
		_, err := svc.SetRules(ctx, set, "ops")
		if !errs.Is(errs.Invalid, err) || !strings.HasPrefix(errs.SafeMessage(err), "login_limit.") {
			t.Errorf("SetRules with login limit %+v = %v; want invalid naming the login_limit field", bad, err)
		}
	}
	if r, err := svc.Rules(ctx); err != nil || r.LoginLimit != custom {
		t.Errorf("rules after refusals = %+v, %v; want %+v kept", r, err, custom)
	}
}
