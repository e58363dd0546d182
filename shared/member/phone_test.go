package member_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
)

// TestArrivePhoneKeepsItsCountry checks that a foreign phone number neither
// claims the imported record of the mainland number with the same digits
// nor is refused: its owner becomes a member of their own, with the number
// kept with its country.
func TestArrivePhoneKeepsItsCountry(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	box, _ := pii.New([]byte(strings.Repeat("k", 32))) // newService's key.
	imp, err := svc.Import(ctx, []member.ImportRow{{Phone: "13855550124", Name: "王芳"}})
	if err != nil || imp.Created != 1 {
		t.Fatalf("Import = %+v, %v", imp, err)
	}
	mainlandID := imp.MemberIDs[0]

	for _, tt := range []struct {
		phone      pii.Phone
		e164, mask string
	}{
		{pii.Phone{Country: "1", Number: "3855550124"}, "+13855550124", "+1 385***0124"},
		{pii.Phone{Country: "852", Number: "91234567"}, "+85291234567", "+852 912*4567"},
		{pii.Phone{Country: "44", Number: "7700900123"}, "+447700900123", "+44 770***0123"},
	} {
		res, err := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", tt.e164)}, Phone: tt.phone})
		if err != nil {
			t.Errorf("arrival with %s: %v; want a login", tt.e164, err)
			continue
		}
		if !res.Created || res.Member.ID == mainlandID || res.Claimed {
			t.Errorf("arrival with %s = member %s created %v claimed %v; want a new member, not the imported %s",
				tt.e164, res.Member.ID, res.Created, res.Claimed, mainlandID)
		}
		if got, err := box.Open(res.Member.PhoneSeal); err != nil || got != tt.e164 {
			t.Errorf("arrival with %s: sealed phone opens to %q, %v; want %s", tt.e164, got, err, tt.e164)
		}
		if res.Member.PhoneMask != tt.mask {
			t.Errorf("arrival with %s: mask %q, want %q", tt.e164, res.Member.PhoneMask, tt.mask)
		}
		// The same person again: found by the phone, not the mainland member.
		again, err := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("oa", tt.e164)}, Phone: tt.phone})
		if err != nil || again.Member.ID != res.Member.ID {
			t.Errorf("second arrival with %s = %s, %v; want %s", tt.e164, again.Member.ID, err, res.Member.ID)
		}
	}
	m, err := svc.Get(ctx, mainlandID)
	if err != nil || !m.Imported || len(m.Identities) != 1 {
		t.Errorf("imported member = %+v, %v; want untouched", m, err)
	}

	// The mainland owner of the number claims the record.
	res, err := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", "owner")},
		Phone: pii.Phone{Country: "+86", Number: "138 5555 0124"}})
	if err != nil || res.Member.ID != mainlandID || !res.Claimed {
		t.Errorf("mainland arrival = %+v, %v; want the imported %s claimed", res, err, mainlandID)
	}
	if got, err := box.Open(res.Member.PhoneSeal); err != nil || got != "+8613855550124" || res.Member.PhoneMask != "138****0124" {
		t.Errorf("claimed member's phone opens to %q (%v), mask %q; want +8613855550124, 138****0124", got, err, res.Member.PhoneMask)
	}
}

// TestImportRefusesForeignPhones checks that an import file, which holds
// mainland numbers, refuses a foreign number instead of reading its digits
// as a mainland one.
func TestImportRefusesForeignPhones(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	res, err := svc.Import(ctx, []member.ImportRow{
		{Phone: "+1 3855550124", Name: "外国"},
		{Phone: "12025550199", Name: "美国"},
		{Phone: "+86 138-5555-0124", Name: "王芳"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []member.InvalidRow{
		{Row: 1, Reason: "phone is not a mainland mobile number"},
		{Row: 2, Reason: "phone is not a mainland mobile number"},
	}
	if res.Created != 1 || len(res.Invalid) != len(want) {
		t.Fatalf("Import = %+v; want row 3 created, rows 1 and 2 refused", res)
	}
	for i, w := range want {
		if got := res.Invalid[i]; got.Row != w.Row || got.Reason != w.Reason {
			t.Errorf("invalid row %d = %+v, want %+v", i, got, w)
		}
	}
	if res.MemberIDs[0] != "" || res.MemberIDs[1] != "" || res.MemberIDs[2] == "" {
		t.Errorf("member ids = %q; want only row 3's", res.MemberIDs)
	}
}

// TestArrivePhoneOfAnotherAccount checks that a phone number joins an
// arrival to the member holding it only when that member has no openid of
// the arrival's app: another mini-program user presenting the number (a
// recycled one) logs in as a member of their own, taking neither the phone
// nor the holder's member, while a member known only through the Official
// Account is joined by it.
func TestArrivePhoneOfAnotherAccount(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	box, _ := pii.New([]byte(strings.Repeat("k", 32))) // newService's key.
	mainland := func(n string) pii.Phone { return pii.Phone{Country: "86", Number: n} }
	phoneID := func(n string) member.Identity {
		return member.Identity{Kind: member.Phone, Value: box.Hash("phone", mainland(n).Key())}
	}
	hasPhone := func(m member.Member) bool {
		return m.PhoneSeal != "" || m.PhoneMask != "" || slices.ContainsFunc(m.Identities, func(id member.Identity) bool { return id.Kind == member.Phone })
	}

	holder, err := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", "cn1")}, Phone: mainland("13855550124")})
	if err != nil || !holder.Created || holder.PhoneInUse {
		t.Fatalf("holder's arrival = %+v, %v; want a new member with the phone", holder, err)
	}

	// A new mini-program user with the number: a member of their own.
	res, err := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", "recycler")}, Phone: mainland("13855550124")})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.Member.ID == holder.Member.ID || !res.PhoneInUse || hasPhone(res.Member) {
		t.Errorf("new user with the holder's phone = member %s created %v phone in use %v phone %v; want a new member without the phone, not %s",
			res.Member.ID, res.Created, res.PhoneInUse, hasPhone(res.Member), holder.Member.ID)
	}
	// A known mini-program user with the number: stays its own member, no merge.
	known, err := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", "known")}})
	if err != nil {
		t.Fatal(err)
	}
	res, err = svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", "known")}, Phone: mainland("13855550124")})
	if err != nil || res.Member.ID != known.Member.ID || res.Created || !res.PhoneInUse || hasPhone(res.Member) {
		t.Errorf("known user with the holder's phone = %+v, %v; want %s unchanged, phone in use", res, err, known.Member.ID)
	}
	for _, id := range []string{holder.Member.ID, known.Member.ID} {
		if m, err := svc.Get(ctx, id); err != nil || m.ID != id || m.Status != member.Active {
			t.Errorf("Get(%s) = %s %s, %v; want it active, not merged", id, m.ID, m.Status, err)
		}
	}
	if m, err := svc.Resolve(ctx, phoneID("13855550124")); err != nil || m.ID != holder.Member.ID || len(m.Identities) != 2 {
		t.Errorf("phone resolves to %+v, %v; want the holder %s untouched", m, err, holder.Member.ID)
	}

	// A member known only through the Official Account is joined by the phone,
	// by a new mini-program user and by a known one (a merge).
	for i, tt := range []struct{ phone, user string }{{"13855550125", ""}, {"13855550126", "has-account"}} {
		follower, err := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("oa", fmt.Sprint("f", i))}, Phone: mainland(tt.phone)})
		if err != nil {
			t.Fatal(err)
		}
		user := fmt.Sprint("joiner", i)
		if tt.user != "" {
			user = tt.user
			if _, err := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", user)}}); err != nil {
				t.Fatal(err)
			}
		}
		res, err := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", user)}, Phone: mainland(tt.phone)})
		if err != nil || res.PhoneInUse || res.Member.ID != follower.Member.ID || !res.Member.Has(openid("mp", user)) {
			t.Errorf("mini-program user %s with a follower's phone = %+v, %v; want joined to %s", user, res, err, follower.Member.ID)
		}
	}
}
