package member_test

import (
	"context"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/store/storetest"
)

// TestPhoneClaimedMeanwhileKeepsAccountsApart replays the race of two WeChat
// accounts presenting the same imported phone at once: the second arrival
// has looked the phone up (the imported record, no openid yet) when the
// first claims the record. The second must not be merged into it: it goes
// on as its own member, told the phone is in use, and the record keeps one
// mini-program openid.
func TestPhoneClaimedMeanwhileKeepsAccountsApart(t *testing.T) {
	for _, tt := range []struct {
		name     string
		firstHas bool // The first account had a member already (a merge), or is new (a link).
	}{
		{"claimed by a merge", true},
		{"claimed by a link", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			svc, c, s := newClocked(t)
			ctx := context.Background()
			box, _ := pii.New([]byte("0123456789abcdef0123456789abcdef")) // newClocked's key.
			phone := pii.Phone{Country: "86", Number: "13855580001"}
			imp, err := svc.Import(ctx, []member.ImportRow{{Phone: phone.Number, Name: "竞争"}})
			if err != nil || imp.Created != 1 {
				t.Fatalf("Import = %+v, %v", imp, err)
			}
			rec := imp.MemberIDs[0]
			c.Add(time.Hour)
			pa, pb := openid("mp", "pa"), openid("mp", "pb")
			if tt.firstHas {
				if _, err := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{pa}}); err != nil {
					t.Fatal(err)
				}
			}
			b, err := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{pb}})
			if err != nil {
				t.Fatal(err)
			}
			c.Add(time.Hour)

			hs := &storetest.Faults{Store: s}
			second := member.NewService(hs, box, c.Now, member.NewID)
			var first member.Result
			hs.AfterGet = func(k store.Key, err error) bool {
				if k != store.K(member.Partition(rec), "profile") || err != nil {
					return false
				}
				// The second arrival has read the record; the first claims it now.
				first, err = svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{pa}, Phone: phone})
				if err != nil {
					t.Errorf("first arrival: %v", err)
				}
				return true
			}
			got, err := second.Arrive(ctx, member.Arrival{Identities: []member.Identity{pb}, Phone: phone})
			if err != nil {
				t.Fatalf("second arrival: %v", err)
			}
			if first.Member.ID != rec || !first.Member.Has(pa) {
				t.Errorf("first arrival answered %s; want the imported record %s", first.Member.ID, rec)
			}
			if got.Member.ID != b.Member.ID || !got.PhoneInUse {
				t.Errorf("second arrival answered %s (phone in use %v); want its own member %s, phone in use",
					got.Member.ID, got.PhoneInUse, b.Member.ID)
			}
			m, err := svc.Get(ctx, rec)
			if err != nil || m.Has(pb) || !m.Has(pa) {
				t.Errorf("imported record = %+v, %v; want the first account's openid only", m.Identities, err)
			}
			if r, err := svc.Resolve(ctx, pb); err != nil || r.ID != b.Member.ID {
				t.Errorf("Resolve(second openid) = %s, %v; want %s", r.ID, err, b.Member.ID)
			}
		})
	}
}
