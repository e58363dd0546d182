package couponstest

import (
	"fmt"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
)

func testTemplateSave(t *testing.T, open Opener) {
	e := newEnv(t, open)
	created := e.save(tpl("spring"))
	if created.Version != 1 || created.CreatedBy != "op-alice" || !created.CreatedAt.Equal(t0()) {
		t.Fatalf("created = v%d by %q at %v, want v1 by op-alice at %v", created.Version, created.CreatedBy, created.CreatedAt, t0())
	}
	if created.Shards != 8 {
		t.Errorf("unlimited template shards = %d, want 8 (hot by default)", created.Shards)
	}
	_, err := e.svc.SaveTemplate(e.ctx, tpl("spring"), "op-bob")
	wantKind(t, "create existing id", err, errs.Exist)

	e.clk.Add(time.Hour)
	upd := created
	upd.AmountOff = 800
	got, err := e.svc.SaveTemplate(e.ctx, upd, "op-bob")
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if got.Version != 2 || got.UpdatedBy != "op-bob" || !got.UpdatedAt.Equal(t0().Add(time.Hour)) || got.CreatedBy != "op-alice" {
		t.Errorf("updated = %+v, want v2 updated by op-bob an hour later, created by op-alice", got)
	}
	_, err = e.svc.SaveTemplate(e.ctx, upd, "op-carol") // Still version 1: stale.
	wantKind(t, "stale update", err, errs.Conflict)

	read, err := e.svc.Template(e.ctx, "spring")
	if err != nil || read.AmountOff != 800 || read.Version != 2 {
		t.Fatalf("Template = %+v, %v; want amount 800 at v2", read, err)
	}
	old, err := e.svc.TemplateVersion(e.ctx, "spring", 1)
	if err != nil || old.AmountOff != 500 || old.UpdatedBy != "op-alice" {
		t.Errorf("TemplateVersion(1) = %+v, %v; want the original 500 by op-alice", old, err)
	}
	paused, err := e.svc.SetTemplateStatus(e.ctx, "spring", coupons.Paused, "op-dave")
	if err != nil || paused.Status != coupons.Paused || paused.Version != 3 || paused.UpdatedBy != "op-dave" {
		t.Errorf("SetTemplateStatus = %+v, %v; want paused v3 by op-dave", paused, err)
	}
	_, err = e.svc.Template(e.ctx, "nope")
	wantKind(t, "unknown template", err, errs.NotExist)

	e.save(tpl("autumn"))
	var ids []string
	cursor := ""
	for {
		page, next, err := e.svc.Templates(e.ctx, cursor, 1)
		if err != nil {
			t.Fatalf("Templates: %v", err)
		}
		for _, p := range page {
			ids = append(ids, p.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(ids) != 2 || ids[0] != "autumn" || ids[1] != "spring" {
		t.Errorf("Templates ids = %v, want [autumn spring]", ids)
	}
}

func testTemplateValidation(t *testing.T, open Opener) {
	e := newEnv(t, open)
	from := t0()
	cases := []struct {
		name string
		edit func(*coupons.Template)
		msg  string
	}{
		{"bad id", func(x *coupons.Template) { x.ID = "Bad ID" }, "template id must be 1-64 lower-case letters, digits, - or _"},
		{"no name", func(x *coupons.Template) { x.Name = "" }, "template name is required (at most 200 bytes)"},
		{"negative amount", func(x *coupons.Template) { x.AmountOff = -1 }, "amount_off must be 1..100000000 fen"},
		{"zero amount", func(x *coupons.Template) { x.AmountOff = 0 }, "amount_off must be 1..100000000 fen"},
		{"huge amount", func(x *coupons.Template) { x.AmountOff = 4_600_000_000_000_000_000 }, "amount_off must be 1..100000000 fen"},
		{"huge threshold", func(x *coupons.Template) { x.Threshold = 1 << 62 }, "threshold must be 0..100000000 fen (0: none)"},
		{"huge max off", func(x *coupons.Template) { x.Kind, x.AmountOff, x.Rate, x.MaxOff = coupons.Discount, 0, 85, 1<<62 }, "max_off must be 0..100000000 fen (0: no cap)"},
		{"control in name", func(x *coupons.Template) { x.Name = "10元\x00券" }, "name must not contain control characters"},
		{"bidi in name", func(x *coupons.Template) { x.Name = "10元\u202E券" }, "name must not contain direction-override characters"},
		{"zero-width space in name", func(x *coupons.Template) { x.Name = "10元\u200B券" }, "name must not contain invisible formatting characters"},
		{"blank name", func(x *coupons.Template) { x.Name = "\u3164" }, "name must contain a visible character"},
		{"discount 0", func(x *coupons.Template) { x.Kind, x.AmountOff, x.Rate = coupons.Discount, 0, 0 }, "discount rate must be 1..99 (percent payable)"},
		{"discount 100", func(x *coupons.Template) { x.Kind, x.AmountOff, x.Rate = coupons.Discount, 0, 100 }, "discount rate must be 1..99 (percent payable)"},
		{"discount with amount", func(x *coupons.Template) { x.Kind, x.Rate = coupons.Discount, 85 }, "a discount coupon has no amount off"},
		{"unknown kind", func(x *coupons.Template) { x.Kind = "cash" }, "coupon kind must be amount_off or discount"},
		{"negative threshold", func(x *coupons.Template) { x.Threshold = -5 }, "threshold must be 0..100000000 fen (0: none)"},
		{"amount over threshold", func(x *coupons.Template) { x.Threshold = 100 }, "amount off must not exceed the threshold"},
		{"empty product scope", func(x *coupons.Template) { x.Scope = coupons.Scope{Kind: coupons.ScopeProducts} }, "a category or product scope needs 1..500 ids"},
		{"all scope with ids", func(x *coupons.Template) { x.Scope.IDs = []string{"a"} }, "scope all takes no ids"},
		{"negative stock", func(x *coupons.Template) { x.Stock = -1 }, "stock must not be negative (0 means unlimited)"},
		{"negative limit", func(x *coupons.Template) { x.PerMember = -1 }, "per-member limit must not be negative (0 means unlimited)"},
		{"window reversed", func(x *coupons.Template) {
			x.Validity = coupons.Validity{Kind: coupons.Fixed, From: from.Add(time.Hour), To: from}
		}, "a fixed validity needs from before to"},
		{"window empty", func(x *coupons.Template) {
			x.Validity = coupons.Validity{Kind: coupons.Fixed, From: from, To: from}
		}, "a fixed validity needs from before to"},
		{"zero days", func(x *coupons.Template) { x.Validity.Days = 0 }, "a relative validity needs 1..3660 days"},
		{"bad status", func(x *coupons.Template) { x.Status = "open" }, "status must be active or paused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x := tpl("bad")
			tc.edit(&x)
			_, err := e.svc.SaveTemplate(e.ctx, x, "op-alice")
			wantKind(t, "SaveTemplate", err, errs.Invalid)
			if got := errs.SafeMessage(err); got != tc.msg {
				t.Errorf("message = %q, want %q", got, tc.msg)
			}
		})
	}
	if _, err := e.svc.Template(e.ctx, "bad"); !errs.Is(errs.NotExist, err) {
		t.Errorf("a refused template was stored: %v", err)
	}
	_, err := e.svc.SaveTemplate(e.ctx, tpl("ok"), "")
	wantKind(t, "no operator", err, errs.Invalid)
}

func testShardedStockOnlyGrows(t *testing.T, open Opener) {
	e := newEnv(t, open)
	x := tpl("hot")
	x.Stock, x.Shards = 100, 4
	cur := e.save(x)
	cases := []struct {
		stock int64
		ok    bool
	}{{50, false}, {100, true}, {150, true}, {0, true}, {10, false}}
	for _, tc := range cases {
		upd := cur
		upd.Stock = tc.stock
		got, err := e.svc.SaveTemplate(e.ctx, upd, "op-alice")
		if tc.ok != (err == nil) {
			t.Fatalf("stock %d -> %d: err %v, want ok=%v", cur.Stock, tc.stock, err, tc.ok)
		}
		if err == nil {
			cur = got
		} else {
			wantKind(t, "shrink sharded stock", err, errs.Invalid)
		}
	}
	upd := cur
	upd.Shards = 2
	_, err := e.svc.SaveTemplate(e.ctx, upd, "op-alice")
	wantKind(t, "change shards", err, errs.Invalid)

	for _, tc := range []struct {
		stock  int64
		shards int
	}{{10, 1}, {15, 1}, {16, 2}, {40, 5}, {100, 8}, {1_000_000, 8}} {
		x := tpl(fmt.Sprintf("stock-%d", tc.stock))
		x.Stock = tc.stock
		if got := e.save(x); got.Shards != tc.shards {
			t.Errorf("stock %d: %d shards, want %d (8 at most, 8 units each at least)", tc.stock, got.Shards, tc.shards)
		}
	}
}

func testInstallDefaults(t *testing.T, open Opener) {
	e := newEnv(t, open)
	for range 2 {
		if err := e.svc.InstallDefaults(e.ctx); err != nil {
			t.Fatalf("InstallDefaults: %v", err)
		}
	}
	all, _, err := e.svc.Templates(e.ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"registration": true, "birthday": true, "signin-streak": true, "level-silver": true}
	if len(all) != len(want) {
		t.Fatalf("got %d templates, want %d", len(all), len(want))
	}
	for _, x := range all {
		if !want[x.ID] || x.Version != 1 || x.CreatedBy != "system" {
			t.Errorf("template %s v%d by %s, want a default at v1 by system", x.ID, x.Version, x.CreatedBy)
		}
	}
	reg, err := e.svc.Template(e.ctx, "registration")
	if err != nil {
		t.Fatal(err)
	}
	if reg.Kind != coupons.AmountOff || reg.AmountOff != 1000 || reg.Threshold != 0 ||
		reg.Validity.Kind != coupons.Relative || reg.Validity.Days != 30 || reg.PerMember != 1 {
		t.Errorf("registration = %+v, want 1000 fen off, no threshold, 30 days, once per member", reg)
	}
	// An operator's change survives a restart.
	reg.AmountOff = 1500
	if _, err := e.svc.SaveTemplate(e.ctx, reg, "op-alice"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.InstallDefaults(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.Template(e.ctx, "registration"); got.AmountOff != 1500 {
		t.Errorf("after restart amount = %d, want the operator's 1500", got.AmountOff)
	}
}
