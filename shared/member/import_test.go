package member_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/store"
)

func TestCheckImportRow(t *testing.T) {
	tests := []struct {
		row  member.ImportRow
		want string
	}{
		{member.ImportRow{Name: "李雷"}, ""},
		{member.ImportRow{Name: "李雷", Birthday: "02-29", ExternalID: "crm-1"}, ""},
		{member.ImportRow{Name: "李雷", Birthday: "12-31"}, ""},
		{member.ImportRow{Name: ""}, "name is missing"},
		{member.ImportRow{Name: strings.Repeat("名", 64)}, ""},
		{member.ImportRow{Name: strings.Repeat("名", 65)}, "name is longer than 64 characters"},
		{member.ImportRow{Name: "a\nb"}, "name must not contain control characters"},
		{member.ImportRow{Name: "\xff"}, "name must be valid UTF-8"},
		{member.ImportRow{Name: "李\u200B雷"}, "name must not contain invisible formatting characters"},
		{member.ImportRow{Name: "\u3164"}, "name must contain a visible character"},
		{member.ImportRow{Name: "x", Birthday: "02-30"}, "birthday is not a valid date (MM-DD or YYYY-MM-DD)"},
		{member.ImportRow{Name: "x", Birthday: "04-31"}, "birthday is not a valid date (MM-DD or YYYY-MM-DD)"},
		{member.ImportRow{Name: "x", Birthday: "00-10"}, "birthday is not a valid date (MM-DD or YYYY-MM-DD)"},
		{member.ImportRow{Name: "x", Birthday: "1990-01-02"}, ""},
		{member.ImportRow{Name: "x", Birthday: "2000-02-29"}, ""},
		{member.ImportRow{Name: "x", Birthday: "1990-02-29"}, "birthday is not a valid date (MM-DD or YYYY-MM-DD)"},
		{member.ImportRow{Name: "x", Birthday: "1990-1-2"}, "birthday is not a valid date (MM-DD or YYYY-MM-DD)"},
		{member.ImportRow{Name: "x", Birthday: "1-2"}, "birthday is not a valid date (MM-DD or YYYY-MM-DD)"},
		{member.ImportRow{Name: "x", ExternalID: strings.Repeat("e", 65)}, "external id is longer than 64 characters"},
		{member.ImportRow{Name: "x", ExternalID: "a\tb"}, "external id must not contain control characters"},
		{member.ImportRow{Name: "x", ExternalID: "crm\uFEFF1"}, "external id must not contain invisible formatting characters"},
	}
	for _, tc := range tests {
		if got := member.CheckImportRow(tc.row); got != tc.want {
			t.Errorf("CheckImportRow(%+v) = %q, want %q", tc.row, got, tc.want)
		}
	}
}

// racer is a store on which, just before the first write of an import, a
// person registers with one of the imported phones.
type racer struct {
	store.Store
	once   sync.Once
	before func()
}

func (r *racer) Write(ctx context.Context, ms ...store.Mutation) error {
	if len(ms) > 2 {
		r.once.Do(r.before)
	}
	return r.Store.Write(ctx, ms...)
}

func TestImportFallsBackWhenAPhoneAppears(t *testing.T) {
	s, err := bolt.Open(t.TempDir() + "/m.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	box, _ := pii.New([]byte(strings.Repeat("k", 32)))
	ctx := context.Background()
	direct := member.NewService(s, box, time.Now, member.NewID)
	var rival member.Result
	r := &racer{Store: s, before: func() {
		rival, err = direct.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", "o-rival")}, Phone: pii.Phone{Country: "86", Number: "13900000010"}})
	}}
	svc := member.NewService(r, box, time.Now, member.NewID)
	rows := make([]member.ImportRow, 100)
	for i := range rows {
		rows[i] = member.ImportRow{Phone: fmt.Sprintf("139%08d", i), Name: fmt.Sprint("名", i)}
	}
	res, ierr := svc.Import(ctx, rows)
	if ierr != nil || err != nil {
		t.Fatalf("Import: %v; rival arrival: %v", ierr, err)
	}
	if res.Created != 99 || res.Existing != 1 || res.MemberIDs[10] != rival.Member.ID {
		t.Errorf("created %d existing %d, row 11 → %s; want 99, 1 and the rival %s", res.Created, res.Existing, res.MemberIDs[10], rival.Member.ID)
	}
	m, err := direct.Get(ctx, rival.Member.ID)
	if err != nil || m.Imported || m.NameSeal != "" {
		t.Errorf("rival member = %+v, %v; want untouched by the import", m, err)
	}
	for _, i := range []int{0, 9, 11, 99} {
		m, err := direct.Get(ctx, res.MemberIDs[i])
		if err != nil || !m.Imported {
			t.Errorf("row %d member = %+v, %v; want imported", i+1, m, err)
		}
	}
}
