package invitetest

import (
	"strings"
	"testing"

	"github.com/wemember/wemember/shared/invite"
)

// testTypedAsPeopleType redeems a code typed the way people type it: in
// lower case, with spaces, in full-width characters. A code of the default
// charset ignores case, so each finds it; the redemption binds once.
func testTypedAsPeopleType(t *testing.T, e *env) {
	text := e.code("typer")
	lower := strings.ToLower(text)
	if lower == text {
		t.Fatalf("code %q has no letters to type in lower case", text)
	}
	got, err := e.svc.Redeem(e.ctx, invite.RedeemCmd{Code: " " + lower + " ", Invitee: "typed1", Via: "api", Registration: true})
	if err != nil {
		t.Fatalf("Redeem(%q) = %v; want the code found", lower, err)
	}
	if got.Referral.Inviter != "typer" {
		t.Errorf("inviter = %q, want typer", got.Referral.Inviter)
	}
	again, err := e.svc.Redeem(e.ctx, invite.RedeemCmd{Code: text, Invitee: "typed1", Via: "api", Registration: true})
	if err != nil || !again.Repeat {
		t.Errorf("the same redemption typed as issued = %+v, %v; want the first answer", again, err)
	}
	if n := e.points("typed1"); n != 20 {
		t.Errorf("invitee points = %d, want 20 once", n)
	}
}
