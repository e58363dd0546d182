package importstest

import (
	"strings"
	"sync"
	"testing"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
)

func testSyncThousand(t *testing.T, open Opener) {
	e := newEnv(t, open)
	in := rows(0, member.MaxImportRows)
	in[7].Birthday, in[7].ExternalID = "02-29", "crm-7"
	res, err := e.members.Import(e.ctx, in)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if res.Created != 1000 || res.Existing != 0 || len(res.Invalid) != 0 || len(res.MemberIDs) != 1000 {
		t.Fatalf("first import: created %d existing %d invalid %v ids %d; want 1000 created", res.Created, res.Existing, res.Invalid, len(res.MemberIDs))
	}
	seen := map[string]bool{}
	for i, id := range res.MemberIDs {
		if id == "" || seen[id] {
			t.Fatalf("row %d member id %q: want distinct ids", i+1, id)
		}
		seen[id] = true
	}
	m, err := e.byPhone(phone(7))
	if err != nil {
		t.Fatalf("resolve imported phone: %v", err)
	}
	if m.ID != res.MemberIDs[7] || !m.Imported || (m.Channel.Kind != "import" || m.Channel.Value != res.Batch) || m.Status != member.Active {
		t.Errorf("imported member = %+v; want id %s, imported, channel import/%s", m, res.MemberIDs[7], res.Batch)
	}
	if got := e.open(m.PhoneSeal); got != "+86"+phone(7) {
		t.Errorf("sealed phone opens to %q, want %q (E.164)", got, "+86"+phone(7))
	}
	if got := e.open(m.NameSeal); got != "张7" {
		t.Errorf("sealed name opens to %q, want 张7", got)
	}
	if m.PhoneMask != pii.MaskPhone(phone(7)) || strings.Contains(m.PhoneSeal, phone(7)) {
		t.Errorf("phone mask %q / seal %q: want masked and sealed", m.PhoneMask, m.PhoneSeal)
	}
	rec, err := e.members.ImportRecordOf(e.ctx, m.ID)
	if err != nil || rec.ExternalID != "crm-7" || e.open(rec.BirthdaySeal) != "02-29" || rec.Batch != res.Batch {
		t.Errorf("import record = %+v, %v; want crm-7, birthday 02-29, batch %s", rec, err, res.Batch)
	}
	if _, err := e.members.ImportRecordOf(e.ctx, res.MemberIDs[8]); !errs.Is(errs.NotExist, err) {
		t.Errorf("import record of a plain row: %v, want NotExist", err)
	}

	again, err := e.members.Import(e.ctx, in)
	if err != nil {
		t.Fatalf("second Import: %v", err)
	}
	if again.Created != 0 || again.Existing != 1000 || len(again.Invalid) != 0 {
		t.Errorf("second import: created %d existing %d invalid %d; want 0/1000/0", again.Created, again.Existing, len(again.Invalid))
	}
	for i := range again.MemberIDs {
		if again.MemberIDs[i] != res.MemberIDs[i] {
			t.Fatalf("second import row %d → %s, first → %s", i+1, again.MemberIDs[i], res.MemberIDs[i])
		}
	}
	// Re-running the same batch gives the first answer.
	rerun, err := e.members.ImportBatch(e.ctx, res.Batch, in)
	if err != nil || rerun.Created != 1000 || rerun.Existing != 0 {
		t.Errorf("rerun of batch %s: created %d existing %d, %v; want the first answer 1000/0", res.Batch, rerun.Created, rerun.Existing, err)
	}
	_, err = e.members.Import(e.ctx, rows(0, member.MaxImportRows+1))
	wantKind(t, "1001 rows", err, errs.Invalid)
	_, err = e.members.Import(e.ctx, nil)
	wantKind(t, "no rows", err, errs.Invalid)
}

func testSyncInvalidRows(t *testing.T, open Opener) {
	e := newEnv(t, open)
	long := strings.Repeat("名", member.MaxImportName+1)
	tests := []struct {
		row    member.ImportRow
		reason string // "" for a valid row.
	}{
		{member.ImportRow{Phone: "+86 139-0000-0001", Name: " 李雷 "}, ""},
		{member.ImportRow{Phone: "", Name: "无号"}, "phone is missing"},
		{member.ImportRow{Phone: "02112345678", Name: "座机"}, "phone is not a mainland mobile number"},
		{member.ImportRow{Phone: "1390000x002", Name: "字母"}, "phone is not a mainland mobile number"},
		{member.ImportRow{Phone: phone(3), Name: "  "}, "name is missing"},
		{member.ImportRow{Phone: phone(4), Name: long}, "name is longer than 64 characters"},
		{member.ImportRow{Phone: phone(5), Name: "a\x00b"}, "name must not contain control characters"},
		{member.ImportRow{Phone: phone(6), Name: "生日", Birthday: "02-30"}, "birthday is not a valid date (MM-DD or YYYY-MM-DD)"},
		{member.ImportRow{Phone: phone(7), Name: "生日", Birthday: "13-01"}, "birthday is not a valid date (MM-DD or YYYY-MM-DD)"},
		{member.ImportRow{Phone: phone(8), Name: "生日", Birthday: "1-5"}, "birthday is not a valid date (MM-DD or YYYY-MM-DD)"},
		{member.ImportRow{Phone: phone(9), Name: "外部", ExternalID: strings.Repeat("x", 65)}, "external id is longer than 64 characters"},
		{member.ImportRow{Phone: "13900000001", Name: "重复"}, "phone repeats row 1"},
		{member.ImportRow{Phone: phone(10), Name: "韩梅梅", Birthday: "12-31"}, ""},
	}
	in := make([]member.ImportRow, len(tests))
	for i, tc := range tests {
		in[i] = tc.row
	}
	res, err := e.members.Import(e.ctx, in)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if res.Created != 2 || res.Existing != 0 {
		t.Errorf("created %d existing %d, want 2 and 0", res.Created, res.Existing)
	}
	got := map[int]member.InvalidRow{}
	for _, x := range res.Invalid {
		got[x.Row] = x
	}
	for i, tc := range tests {
		x, bad := got[i+1]
		if tc.reason == "" {
			if bad || res.MemberIDs[i] == "" {
				t.Errorf("row %d refused (%+v), want imported", i+1, x)
			}
			continue
		}
		if !bad || x.Reason != tc.reason || res.MemberIDs[i] != "" {
			t.Errorf("row %d: invalid %+v (listed %v), id %q; want reason %q", i+1, x, bad, res.MemberIDs[i], tc.reason)
		}
		if raw := strings.NewReplacer(" ", "", "-", "", "+86", "").Replace(tc.row.Phone); len(raw) >= 7 && strings.Contains(x.Phone, raw) {
			t.Errorf("row %d echoes the phone %q in full", i+1, x.Phone)
		}
		if n, err := pii.NormalizePhone(tc.row.Phone); err == nil && i != 11 {
			if _, err := e.byPhone(n); !errs.Is(errs.NotExist, err) {
				t.Errorf("row %d (%s): phone resolves (%v), want nothing stored", i+1, tc.reason, err)
			}
		}
	}
	if x := got[3]; x.Phone != "021****5678" {
		t.Errorf("masked landline = %q, want 021****5678", x.Phone)
	}
	m, err := e.byPhone("13900000001")
	if err != nil || e.open(m.NameSeal) != "李雷" || m.ID != res.MemberIDs[0] {
		t.Errorf("row 1 member = %+v, %v; want 李雷 trimmed", m, err)
	}
}

func testSyncExistingMember(t *testing.T, open Opener) {
	e := newEnv(t, open)
	arr, err := e.members.Arrive(e.ctx, member.Arrival{
		Identities: []member.Identity{{Kind: member.OpenID, Scope: "mp", Value: "o-1"}},
		Phone:      pii.Phone{Country: "86", Number: phone(1)}, Channel: member.Channel{Kind: "mini-program"},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.members.Import(e.ctx, rows(0, 3))
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 2 || res.Existing != 1 || res.MemberIDs[1] != arr.Member.ID {
		t.Errorf("import over a registered phone: %+v; want 2 created, row 2 existing as %s", res, arr.Member.ID)
	}
	m, err := e.members.Get(e.ctx, arr.Member.ID)
	if err != nil || m.Imported || m.NameSeal != "" || m.Channel.Kind != "mini-program" {
		t.Errorf("registered member after import = %+v, %v; want it unchanged", m, err)
	}
}

func testSyncConcurrentSamePhones(t *testing.T, open Opener) {
	e := newEnv(t, open)
	const workers = 4
	in := rows(0, 200)
	results := make([]member.ImportResult, workers)
	errors := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[w], errors[w] = e.members.Import(e.ctx, in)
		}()
	}
	wg.Wait()
	created := 0
	for w := range workers {
		if errors[w] != nil {
			t.Fatalf("worker %d: %v", w, errors[w])
		}
		if results[w].Created+results[w].Existing != len(in) {
			t.Errorf("worker %d settled %d+%d rows, want %d", w, results[w].Created, results[w].Existing, len(in))
		}
		created += results[w].Created
		for i, id := range results[w].MemberIDs {
			if id != results[0].MemberIDs[i] {
				t.Fatalf("row %d: worker %d got %s, worker 0 got %s", i+1, w, id, results[0].MemberIDs[i])
			}
		}
	}
	if created != len(in) {
		t.Errorf("%d workers created %d members in all, want exactly %d", workers, created, len(in))
	}
}

func testLoginClaimsImported(t *testing.T, open Opener) {
	e := newEnv(t, open)
	res, err := e.members.Import(e.ctx, rows(0, 2))
	if err != nil {
		t.Fatal(err)
	}
	openid := member.Identity{Kind: member.OpenID, Scope: "wx-mp", Value: "o-claim"}
	arr, err := e.members.Arrive(e.ctx, member.Arrival{
		Identities: []member.Identity{openid}, Phone: pii.Phone{Country: "+86", Number: phone(1)},
		Channel: member.Channel{Kind: "mini-program"},
	})
	if err != nil {
		t.Fatalf("Arrive: %v", err)
	}
	if !arr.Claimed || arr.Created || arr.Member.ID != res.MemberIDs[1] || arr.Member.Imported || !arr.Member.Has(openid) {
		t.Errorf("arrival = claimed %v created %v %+v; want the imported member %s claimed with the openid", arr.Claimed, arr.Created, arr.Member, res.MemberIDs[1])
	}
	m, err := e.members.Resolve(e.ctx, openid)
	if err != nil || m.ID != res.MemberIDs[1] || m.Imported || m.Channel.Value != res.Batch || e.open(m.NameSeal) != "张1" {
		t.Errorf("openid resolves to %+v, %v; want the claimed member keeping its import channel and name", m, err)
	}
	again, err := e.members.Import(e.ctx, rows(0, 2))
	if err != nil || again.Existing != 2 || again.MemberIDs[1] != m.ID {
		t.Errorf("re-import after the claim = %+v, %v; want 2 existing", again, err)
	}
	if m, _ := e.members.Get(e.ctx, m.ID); m.Imported {
		t.Error("re-import marked the claimed member imported again")
	}
}
