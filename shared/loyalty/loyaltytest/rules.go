package loyaltytest

import (
	"testing"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/loyalty"
)

func testRulesDefaults(t *testing.T, e *env) {
	r, err := e.svc.Rules(e.ctx)
	if err != nil {
		t.Fatalf("Rules: %v", err)
	}
	if r.Version != 1 || !r.InstalledAt.Equal(Start) || r.UpdatedBy == "" {
		t.Errorf("got version %d installed %v by %q, want 1 at %v by someone", r.Version, r.InstalledAt, r.UpdatedBy, Start)
	}
	lv := r.Levels
	type row struct {
		id            string
		growth, spend int64
		review        int
	}
	want := []row{{"normal", 0, 0, 0}, {"silver", 1000, 10000, 12}, {"gold", 5000, 50000, 3}}
	if len(lv.Table) != len(want) {
		t.Fatalf("got %d levels, want %d", len(lv.Table), len(want))
	}
	for i, w := range want {
		l := lv.Table[i]
		if got := (row{l.ID, l.MinGrowth, l.MinSpendFen, l.ReviewMonths}); got != w {
			t.Errorf("level %d: got %+v, want %+v", i, got, w)
		}
	}
	benefits := []loyalty.Benefits{
		{DiscountPercent: 100},
		{DiscountPercent: 95, PriorityService: true, MonthlyCouponTemplate: "level-silver"},       // 95折, dedicated service, monthly 满减.
		{DiscountPercent: 88, FreeDelivery: true, PriorityService: true, NewProductPreview: true}, // 88折, free delivery, new products first, and silver's dedicated service.
	}
	for i, w := range benefits {
		if got := lv.Table[i].Benefits; got != w {
			t.Errorf("level %s benefits: got %+v, want %+v", lv.Table[i].ID, got, w)
		}
	}
	if c := r.Coupons; c.StreakDays != 7 || c.BirthdayLeadDays != 3 || c.Streak != "signin-streak" ||
		c.Welcome != "registration" || c.Birthday != "birthday" || r.Reminders.AheadDays != 3 {
		t.Errorf("got coupon triggers %+v reminders %+v, want 7-day streak, 3-day birthday lead and reminders", c, r.Reminders)
	}
	if lv.Basis != loyalty.BasisGrowth || lv.Downgrade != loyalty.DowngradeAfterDays || lv.GraceDays != 30 {
		t.Errorf("got basis %s downgrade %s grace %d, want growth after_days 30", lv.Basis, lv.Downgrade, lv.GraceDays)
	}
	p := r.Points
	if r.Growth.PerYuan != 1 || p.PerYuan != 1 || p.Review != 10 || p.Share != 20 || p.SignIn.Table[0] != 5 ||
		p.Offset.PointsPerYuan != 100 {
		t.Errorf("got growth %+v points %+v, want SPEC defaults", r.Growth, p)
	}
	if got := r.SignInPoints(7); got <= r.SignInPoints(1) {
		t.Errorf("streak day 7 gives %d, want a bonus over day 1 (%d)", got, r.SignInPoints(1))
	}
	// A second install keeps what is there.
	again, err := e.svc.InstallDefaults(e.ctx)
	if err != nil || again.Version != 1 {
		t.Errorf("second install: got version %d, err %v; want 1, nil", again.Version, err)
	}
}

func testRulesValidation(t *testing.T, e *env) {
	cases := []struct {
		name string
		edit func(r *loyalty.Rules)
	}{
		{"overlapping growth", func(r *loyalty.Rules) { r.Levels.Table[2].MinGrowth = 1000 }},
		{"descending spend", func(r *loyalty.Rules) {
			r.Levels.Basis = loyalty.BasisSpend
			r.Levels.Table[1].MinSpendFen = 60000
		}},
		{"no streak days", func(r *loyalty.Rules) { r.Coupons.StreakDays = -1 }},
		{"birthday lead of a year", func(r *loyalty.Rules) { r.Coupons.BirthdayLeadDays = 365 }},
		{"no welcome coupon", func(r *loyalty.Rules) { r.Coupons.Welcome = "" }},
		{"reminder a year ahead", func(r *loyalty.Rules) { r.Reminders.AheadDays = 365 }},
		{"reminder no day ahead", func(r *loyalty.Rules) { r.Reminders.AheadDays = 0 }},
		{"lowest not zero", func(r *loyalty.Rules) { r.Levels.Table[0].MinGrowth = 1 }},
		{"negative growth per yuan", func(r *loyalty.Rules) { r.Growth.PerYuan = -1 }},
		{"negative share points", func(r *loyalty.Rules) { r.Points.Share = -5 }},
		{"negative sign-in day", func(r *loyalty.Rules) { r.Points.SignIn.Table[2] = -1 }},
		{"duplicate level id", func(r *loyalty.Rules) { r.Levels.Table[2].ID = "silver" }},
		{"unknown expiry mode", func(r *loyalty.Rules) { r.Points.Expiry.Mode = "sometimes" }},
		{"rolling without days", func(r *loyalty.Rules) { r.Points.Expiry = loyalty.ExpiryRule{Mode: loyalty.ExpireRolling} }},
		{"negative grace", func(r *loyalty.Rules) { r.Levels.GraceDays = -1 }},
		{"zero offset rate", func(r *loyalty.Rules) { r.Points.Offset.PointsPerYuan = 0 }},
		{"empty table", func(r *loyalty.Rules) { r.Levels.Table = nil }},
		{"blank level name", func(r *loyalty.Rules) { r.Levels.Table[1].Name = "\u3164" }},
		{"zero-width space in level name", func(r *loyalty.Rules) { r.Levels.Table[1].Name = "白\u200B银" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := e.svc.Rules(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			r.Levels.Table = append([]loyalty.Level(nil), r.Levels.Table...)
			r.Points.SignIn.Table = append([]int64(nil), r.Points.SignIn.Table...)
			c.edit(&r)
			_, err = e.svc.SetRules(e.ctx, r, "op:alice")
			wantKind(t, c.name, err, errs.Invalid)
			if cur, _ := e.svc.Rules(e.ctx); cur.Version != 1 {
				t.Errorf("rules version after refused change: got %d, want 1", cur.Version)
			}
		})
	}
}

func testRulesVersioning(t *testing.T, e *env) {
	r, _ := e.svc.Rules(e.ctx)
	stale := r
	r.Points.Share = 30
	e.clk.Add(days(1))
	got, err := e.svc.SetRules(e.ctx, r, "op:alice")
	if err != nil {
		t.Fatalf("SetRules: %v", err)
	}
	if got.Version != 2 || got.UpdatedBy != "op:alice" || !got.UpdatedAt.Equal(Start.Add(days(1))) {
		t.Errorf("got version %d by %q at %v, want 2 by op:alice at %v", got.Version, got.UpdatedBy, got.UpdatedAt, Start.Add(days(1)))
	}
	cur, _ := e.svc.Rules(e.ctx)
	if cur.Points.Share != 30 || cur.Version != 2 {
		t.Errorf("stored: got share %d version %d, want 30, 2", cur.Points.Share, cur.Version)
	}
	_, err = e.svc.SetRules(e.ctx, stale, "op:bob")
	wantKind(t, "stale SetRules", err, errs.Conflict)
	_, err = e.svc.SetRules(e.ctx, cur, "")
	wantKind(t, "SetRules without operator", err, errs.Invalid)
	hist, next, err := e.svc.RulesHistory(e.ctx, "", 10)
	if err != nil || next != "" {
		t.Fatalf("RulesHistory: %v, next %q", err, next)
	}
	if len(hist) != 2 || hist[0].Version != 2 || hist[0].By != "op:alice" || hist[0].Rules.Points.Share != 30 ||
		hist[1].Version != 1 || hist[1].Rules.Points.Share != 20 {
		t.Errorf("history: got %+v, want v2 by op:alice (share 30) then v1 (share 20)", hist)
	}
}

// testRulesKept: a service reads the rules once per loyalty.RulesTTL, not
// per use; a change made through it is in force for it at once, and one
// made through another service (another instance) within RulesTTL. A
// change through an instance whose copy is stale still needs only the
// stored version.
func testRulesKept(t *testing.T, e *env) {
	f, svc := e.faulty()
	for range 3 {
		if _, err := svc.Rules(e.ctx); err != nil {
			t.Fatalf("Rules: %v", err)
		}
	}
	if got := f.Counts().Gets; got != 1 {
		t.Errorf("reads for the rules asked 3 times: got %d, want 1", got)
	}

	r, _ := svc.Rules(e.ctx)
	r.Points.Share = 30
	if _, err := svc.SetRules(e.ctx, r, "op:alice"); err != nil {
		t.Fatalf("SetRules: %v", err)
	}
	before := f.Counts()
	if got, _ := svc.Rules(e.ctx); got.Points.Share != 30 || got.Version != 2 {
		t.Errorf("own change: got share %d version %d, want 30, 2 at once", got.Points.Share, got.Version)
	}
	if got := f.Since(before).Gets; got != 0 {
		t.Errorf("reads for the rules after the own change: got %d, want 0", got)
	}

	bob := loyalty.New(e.st, e.clk.Now, e.ids) // Another instance.
	other, _ := bob.Rules(e.ctx)
	other.Points.Share = 40
	if _, err := bob.SetRules(e.ctx, other, "op:bob"); err != nil {
		t.Fatalf("SetRules through another instance: %v", err)
	}
	e.clk.Add(loyalty.RulesTTL - 1)
	if got, _ := svc.Rules(e.ctx); got.Points.Share != 30 {
		t.Errorf("within the TTL: got share %d, want the kept 30", got.Points.Share)
	}
	e.clk.Add(1)
	if got, _ := svc.Rules(e.ctx); got.Points.Share != 40 || got.Version != 3 {
		t.Errorf("after the TTL: got share %d version %d, want the other's 40, 3", got.Points.Share, got.Version)
	}

	other, _ = bob.Rules(e.ctx)
	other.Points.Share = 50
	if _, err := bob.SetRules(e.ctx, other, "op:bob"); err != nil {
		t.Fatalf("SetRules through another instance: %v", err)
	}
	stale, _ := svc.Rules(e.ctx)
	stale.Points.Share = 60
	_, err := svc.SetRules(e.ctx, stale, "op:alice")
	wantKind(t, "change from a stale copy", err, errs.Conflict)
	reloaded, _ := svc.Rules(e.ctx) // As the refusal says: reload and retry.
	reloaded.Points.Share = 60
	if got, err := svc.SetRules(e.ctx, reloaded, "op:alice"); err != nil || got.Version != 5 {
		t.Errorf("change after a reload: got version %d, %v; want 5", got.Version, err)
	}
	mine, _ := svc.Rules(e.ctx)
	mine.Points.SignIn.Table[0] = 99 // A caller changing its copy changes nobody else's.
	if again, _ := svc.Rules(e.ctx); again.Points.SignIn.Table[0] == 99 {
		t.Errorf("a caller's change to its copy of the rules reached the kept copy")
	}
}

func testEarnSpendLedger(t *testing.T, e *env) {
	en := e.earn("m1", 100, "pay:1", nil, 0)
	if en.Kind != loyalty.KindEarn || en.Points != 100 || en.LotID == "" || en.After.Available != 100 {
		t.Errorf("earn entry: got %+v", en)
	}
	e.clk.Add(1)
	sp, err := e.spend("m1", 30, "spend:1")
	if err != nil {
		t.Fatalf("Spend: %v", err)
	}
	if sp.Points != -30 || len(sp.Lots) != 1 || sp.Lots[0] != (loyalty.LotUse{LotID: en.LotID, Points: 30}) || sp.After.Available != 70 {
		t.Errorf("spend entry: got %+v", sp)
	}
	e.wantBalance("m1", 70, 0, 0)
	led := e.ledger("m1")
	if len(led) != 2 || led[0].ID != sp.ID || led[1].ID != en.ID || led[0].Source.OrderID != "spend:1" {
		t.Errorf("ledger: got %+v, want spend then earn with sources", led)
	}
	for _, bad := range []loyalty.EarnCmd{
		{MemberID: "m1", Points: 0, Key: "k"},
		{MemberID: "m1", Points: -5, Key: "k"},
		{MemberID: "", Points: 5, Key: "k"},
		{MemberID: "m1", Points: 5, Key: ""},
		{MemberID: "m1", Points: 5, Key: "k", PendingDays: -1},
	} {
		_, err := e.svc.Earn(e.ctx, bad)
		wantKind(t, "bad earn", err, errs.Invalid)
	}
	e.wantBalance("m1", 70, 0, 0)
	if b := e.balance("nobody"); b != (loyalty.Balance{}) {
		t.Errorf("unknown member: got %+v, want zero", b)
	}
}

func testIdempotentKey(t *testing.T, e *env) {
	first := e.earn("m1", 50, "pay:tx1", nil, 0)
	e.clk.Add(1)
	again := e.earn("m1", 50, "pay:tx1", nil, 0)
	if again.ID != first.ID || !again.At.Equal(first.At) {
		t.Errorf("duplicate earn: got entry %s at %v, want first %s at %v", again.ID, again.At, first.ID, first.At)
	}
	s1, err1 := e.spend("m1", 20, "sp:1")
	s2, err2 := e.spend("m1", 20, "sp:1")
	if err1 != nil || err2 != nil || s1.ID != s2.ID {
		t.Errorf("duplicate spend: got %v/%v, ids %s/%s", err1, err2, s1.ID, s2.ID)
	}
	e.wantBalance("m1", 30, 0, 0)
	if n := len(e.ledger("m1")); n != 2 {
		t.Errorf("ledger entries: got %d, want 2", n)
	}
}

func testKeyReused(t *testing.T, e *env) {
	e.earn("m1", 50, "k1", nil, 0)
	_, err := e.svc.Earn(e.ctx, loyalty.EarnCmd{MemberID: "m1", Points: 60, Key: "k1"})
	wantKind(t, "same key, other points", err, errs.Exist)
	_, err = e.spend("m1", 50, "k1")
	wantKind(t, "same key, spend", err, errs.Exist)
	_, err = e.svc.Earn(e.ctx, loyalty.EarnCmd{MemberID: "m2", Points: 50, Key: "k1"})
	wantKind(t, "same key, other member", err, errs.Exist)
	e.wantBalance("m1", 50, 0, 0)
	e.wantBalance("m2", 0, 0, 0)
}
