package e2e_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/tests/backends"
	"github.com/wemember/wemember/tests/wxsim"
)

// TestEndToEndPhoneCountries logs people in through mp-login with a phone
// code, as WeChat answers it (countryCode, purePhoneNumber): a foreign
// number logs in as a member of its own, even one whose digits spell an
// imported mainland number; the mainland owner of that number claims it.
func TestEndToEndPhoneCountries(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		imp, err := e.deps.Members.Import(context.Background(), []member.ImportRow{{Phone: "13855550124", Name: "王芳"}})
		if err != nil || imp.Created != 1 {
			t.Fatalf("Import = %+v, %v", imp, err)
		}
		imported := imp.MemberIDs[0]
		login := func(name, phone string) (reply, loginReply) {
			t.Helper()
			openid := wxsim.OpenID(mpAppID, name+"-"+b.Name)
			code := sim.LoginCode(mpAppID, openid, "")
			phoneCode := sim.PhoneCode(mpAppID, openid, phone)
			r := e.do("POST", "/mp-login", "", []byte(`{"code":"`+code+`","phone_code":"`+phoneCode+`"}`))
			var got loginReply
			if r.Status == http.StatusOK {
				r.decode(t, &got)
			}
			return r, got
		}
		for _, phone := range []string{"+1 3855550124", "+852 91234567", "+44 7700900123"} {
			r, got := login("foreign "+phone, phone)
			if r.Status != http.StatusOK {
				t.Errorf("login with %s: %d %s; want 200", phone, r.Status, r.Body)
				continue
			}
			if !got.Created || got.MemberID == imported {
				t.Errorf("login with %s = member %s created %v; want a new member, not the imported %s", phone, got.MemberID, got.Created, imported)
			}
		}
		r, got := login("owner", "13855550124")
		if r.Status != http.StatusOK || got.MemberID != imported || got.Created {
			t.Errorf("mainland owner's login = %d %s; want the imported member %s", r.Status, r.Body, imported)
		}
	})
}

// TestEndToEndRecycledPhone: cn1 logs in with a phone number; recycler, a
// different WeChat user to whom the number was later given, logs in with a
// phone code for it and becomes a member of their own, as a new user and
// again as a known one: cn1's member, points and coupons are untouched, and
// the answer says the phone was not linked. An imported member with a phone
// is still claimed by the first WeChat user who presents the number.
func TestEndToEndRecycledPhone(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		type answer struct {
			loginReply
			PhoneLinked *bool  `json:"phone_linked"`
			PhoneReason string `json:"phone_reason"`
		}
		login := func(name, phone string) answer {
			t.Helper()
			openid := wxsim.OpenID(mpAppID, name+"-"+b.Name)
			code := sim.LoginCode(mpAppID, openid, "")
			phoneCode := sim.PhoneCode(mpAppID, openid, phone)
			r := e.do("POST", "/mp-login", "", []byte(`{"code":"`+code+`","phone_code":"`+phoneCode+`"}`))
			if r.Status != http.StatusOK {
				t.Fatalf("login of %s: %d %s", name, r.Status, r.Body)
			}
			var got answer
			r.decode(t, &got)
			return got
		}
		linked := func(a answer) bool { return a.PhoneLinked != nil && *a.PhoneLinked }

		cn1 := login("cn1", "13855550124")
		if !cn1.Created || !linked(cn1) || cn1.PhoneReason != "" {
			t.Fatalf("cn1's login = %+v; want a new member with the phone linked", cn1)
		}
		if e.signIn(cn1.Token) <= 0 {
			t.Fatal("cn1's sign-in credited no points")
		}
		points, coupons := e.balance(cn1.MemberID), e.couponIDs(cn1.MemberID)
		if len(coupons) == 0 {
			t.Fatal("cn1 has no registration coupon")
		}

		for i, wantCreated := range []bool{true, false} {
			got := login("recycler", "13855550124")
			if got.MemberID == cn1.MemberID || got.Created != wantCreated || linked(got) || got.PhoneLinked == nil || got.PhoneReason != "phone_in_use" {
				t.Errorf("recycler's login %d = member %s created %v phone_linked %v reason %q; want its own member (created %v), phone not linked, phone_in_use",
					i+1, got.MemberID, got.Created, linked(got), got.PhoneReason, wantCreated)
			}
			if c := e.card(got.Token); c.Member.ID != got.MemberID || c.Points.Available == points.Available && points.Available != 0 {
				t.Errorf("recycler's card = member %s, %d points; want its own, not cn1's", c.Member.ID, c.Points.Available)
			}
		}
		if m, err := e.deps.Members.Get(context.Background(), cn1.MemberID); err != nil || m.ID != cn1.MemberID || m.Status != member.Active || m.PhoneMask != "138****0124" {
			t.Errorf("cn1's member = %s %s %s, %v; want it active with its phone", m.ID, m.Status, m.PhoneMask, err)
		}
		if got := e.balance(cn1.MemberID); got != points {
			t.Errorf("cn1's balance = %+v, want %+v untouched", got, points)
		}
		if got := e.couponIDs(cn1.MemberID); !slices.Equal(got, coupons) {
			t.Errorf("cn1's coupons = %v, want %v untouched", got, coupons)
		}
		if c := e.card(cn1.Token); c.Member.ID != cn1.MemberID {
			t.Errorf("cn1's card = member %s, want %s", c.Member.ID, cn1.MemberID)
		}

		// An imported member: claimed by the first to present the number only.
		imp, err := e.deps.Members.Import(context.Background(), []member.ImportRow{{Phone: "13855550125", Name: "李雷"}})
		if err != nil || imp.Created != 1 {
			t.Fatalf("Import = %+v, %v", imp, err)
		}
		claim := login("claimer", "13855550125")
		if claim.MemberID != imp.MemberIDs[0] || claim.Created || !linked(claim) {
			t.Errorf("claimer's login = %+v; want the imported %s claimed, phone linked", claim, imp.MemberIDs[0])
		}
		late := login("late", "13855550125")
		if late.MemberID == imp.MemberIDs[0] || !late.Created || linked(late) || late.PhoneReason != "phone_in_use" {
			t.Errorf("second user's login = %+v; want its own member, phone_in_use", late)
		}
	})
}

// TestEndToEndForcedBindingPrompt: with binding forced, a login without a
// phone is told to ask for one (phone_prompt "authorize"); a login whose
// number belongs to another WeChat account's member is still without a
// phone, and is told to ask for a different number ("another_number")
// rather than the same authorization again. Progressive binding asks for
// nothing.
func TestEndToEndForcedBindingPrompt(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		type answer struct {
			loginReply
			NeedsPhone  bool   `json:"needs_phone"`
			PhonePrompt string `json:"phone_prompt"`
			PhoneLinked *bool  `json:"phone_linked"`
			PhoneReason string `json:"phone_reason"`
		}
		login := func(name, phone string) answer {
			t.Helper()
			openid := wxsim.OpenID(mpAppID, name+"-"+b.Name)
			body := `{"code":"` + sim.LoginCode(mpAppID, openid, "") + `"`
			if phone != "" {
				body += `,"phone_code":"` + sim.PhoneCode(mpAppID, openid, phone) + `"`
			}
			r := e.do("POST", "/mp-login", "", []byte(body+"}"))
			if r.Status != http.StatusOK {
				t.Fatalf("login of %s: %d %s", name, r.Status, r.Body)
			}
			var got answer
			r.decode(t, &got)
			return got
		}
		setBind := func(mode member.BindMode) {
			t.Helper()
			r, err := e.deps.Members.Rules(ctx)
			if err != nil {
				t.Fatal(err)
			}
			r.Bind = mode
			if _, err := e.deps.Members.SetRules(ctx, r, "test"); err != nil {
				t.Fatal(err)
			}
		}

		if owner := login("owner", "13855550126"); owner.NeedsPhone || owner.PhonePrompt != "" {
			t.Fatalf("progressive login = %+v; want no phone asked for", owner)
		}
		if got := login("other", "13855550126"); got.NeedsPhone || got.PhonePrompt != "" || got.PhoneReason != "phone_in_use" {
			t.Errorf("progressive login with a number in use = %+v; want phone_in_use and no phone asked for", got)
		}

		setBind(member.BindForced)
		if got := login("newcomer", ""); !got.NeedsPhone || got.PhonePrompt != "authorize" || got.PhoneLinked != nil {
			t.Errorf("forced login without a phone = %+v; want needs_phone, phone_prompt authorize", got)
		}
		for _, name := range []string{"recycler", "other"} {
			got := login(name, "13855550126")
			if !got.NeedsPhone || got.PhonePrompt != "another_number" || got.PhoneLinked == nil || *got.PhoneLinked || got.PhoneReason != "phone_in_use" {
				t.Errorf("forced login of %s with a number in use = %+v; want needs_phone, phone_prompt another_number, phone_linked false, phone_in_use", name, got)
			}
		}
		if got := login("recycler", "13855550127"); got.NeedsPhone || got.PhonePrompt != "" || got.PhoneLinked == nil || !*got.PhoneLinked {
			t.Errorf("forced login with another number = %+v; want the phone linked and nothing asked for", got)
		}
	}, "bolt")
}
