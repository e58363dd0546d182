package e2e_test

import (
	"context"
	"net/http"
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
