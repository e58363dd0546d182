package invitetest

import (
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/invite"
	"github.com/wemember/wemember/shared/store"
)

func lcShareExtends(t *testing.T, e *lcEnv) {
	c, _, err := e.svc.OwnCode(e.ctx, "m1", invite.KindRegistration, "")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		got, err := e.svc.Shared(e.ctx, "m1", c.ID)
		if want := c.ExpiresAt.Add(time.Duration(i) * 6 * time.Hour); err != nil || !got.ExpiresAt.Equal(want) {
			t.Fatalf("share %d: expires %v, %v; want %v", i, got.ExpiresAt, err, want)
		}
	}
	if stored := e.lookupID(t, c.ID); !stored.ExpiresAt.Equal(c.ExpiresAt.Add(12 * time.Hour)) {
		t.Fatalf("stored expiry %v", stored.ExpiresAt)
	}
	if _, err := e.svc.Shared(e.ctx, "m2", c.ID); !errs.Is(errs.NotExist, err) {
		t.Fatalf("someone else's share: %v", err)
	}
	// The expiry sweep follows the extension: nothing at the old expiry.
	e.advance(24*time.Hour + time.Minute)
	if n, _, err := e.svc.ExpireCodes(e.ctx, e.clock(), 100); err != nil || n != 0 {
		t.Fatalf("sweep at the old expiry: %d, %v", n, err)
	}
	e.advance(12 * time.Hour)
	if n, _, err := e.svc.ExpireCodes(e.ctx, e.clock(), 100); err != nil || n != 1 {
		t.Fatalf("sweep after the extension: %d, %v", n, err)
	}
	if _, err := e.svc.Shared(e.ctx, "m1", c.ID); !errs.Is(errs.Expired, err) {
		t.Fatalf("share of an expired code: %v", err)
	}
	// Other kinds are unchanged by a share.
	mp, _, err := e.svc.OwnCode(e.ctx, "m1", invite.KindMPShare, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.svc.Shared(e.ctx, "m1", mp.ID); err != nil || !got.ExpiresAt.IsZero() {
		t.Fatalf("mp-share shared: %+v %v", got, err)
	}
}

func lcResetArchives(t *testing.T, e *lcEnv) {
	old, oldText, err := e.svc.OwnCode(e.ctx, "m1", invite.KindEnterprise, "")
	if err != nil {
		t.Fatal(err)
	}
	e.advance(time.Hour)
	c, text, err := e.svc.Reset(e.ctx, old.ID, "op")
	if err != nil {
		t.Fatal(err)
	}
	if c.ID == old.ID || text == oldText || c.Owner != "m1" || c.Status != invite.Active || c.CreatedBy != "op" ||
		!c.ExpiresAt.Equal(lcStart.Add(time.Hour+7*24*time.Hour)) {
		t.Fatalf("new code %+v", c)
	}
	if o := e.lookup(t, oldText); o.Status != invite.Archived || o.ReplacedBy != c.ID {
		t.Fatalf("old code %+v", o)
	}
	if own, _, err := e.svc.OwnCode(e.ctx, "m1", invite.KindEnterprise, ""); err != nil || own.ID != c.ID {
		t.Fatalf("the member's code after reset: %v %v", own.ID, err)
	}
	if _, _, err := e.svc.Reset(e.ctx, old.ID, "op"); !errs.Is(errs.Invalid, err) {
		t.Fatalf("second reset of the old code: %v", err)
	}
	reg, _, _ := e.svc.OwnCode(e.ctx, "m1", invite.KindRegistration, "")
	if _, _, err := e.svc.Reset(e.ctx, reg.ID, "op"); !errs.Is(errs.Invalid, err) {
		t.Fatalf("reset of a registration code: %v", err)
	}
	// The archived code is not expired again by the sweep.
	e.advance(8 * 24 * time.Hour)
	n, _, err := e.svc.ExpireCodes(e.ctx, e.clock(), 100)
	if err != nil || n != 2 { // The new enterprise code and the registration code.
		t.Fatalf("sweep: %d, %v", n, err)
	}
	if o := e.lookup(t, oldText); o.Status != invite.Archived {
		t.Fatalf("old code after the sweep: %s", o.Status)
	}
}

// lookupID reads a code record by id, straight from the store.
func (e *lcEnv) lookupID(t *testing.T, id string) invite.Code {
	t.Helper()
	var c invite.Code
	if _, err := store.GetJSON(e.ctx, e.st, store.K("invcode#"+id, "code"), &c); err != nil {
		t.Fatalf("code %s: %v", id, err)
	}
	return c
}
