package onboard_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/onboard"
)

// TestFollowThroughAnInviteScene: a follow through an "inv_<code>" scene
// reports the member created (then found), the code with its id, and keeps
// the code's id alone — in the pending attribution and in the follow's
// scene — never its text; the member's channel names the invitation, not
// the code. Resolving first (as a caller deciding its answer does) reads
// the scene once.
func TestFollowThroughAnInviteScene(t *testing.T) {
	fx := newFixture(t)
	fx.ob.CodeID = func(text string) (string, bool) { return "h(" + strings.ToLower(text) + ")", true }
	ctx := context.Background()
	entry := onboard.Entry{Identities: []member.Identity{openid("f-inv")}, Source: "oa-qr", Scene: "inv_K7M2Q9", Via: "oa:app"}
	e, err := fx.ob.Resolve(ctx, entry)
	if err != nil {
		t.Fatal(err)
	}
	if a := e.Attribution(); a.Code != "K7M2Q9" || a.CodeID != "h(k7m2q9)" || a.Channel.Value != channels.InviteScene {
		t.Fatalf("attribution %+v; want the code, its id and the invite channel", a)
	}
	if _, err := fx.ob.Follow(ctx, onboard.Entry{Identities: []member.Identity{openid("warm")}, Via: "oa:app"}); err != nil {
		t.Fatal(err) // Rules and coupon templates read and cached.
	}
	before := fx.st.Counts()
	f, err := fx.ob.Follow(ctx, e)
	if err != nil || !f.Created || f.Attribution.CodeID != "h(k7m2q9)" {
		t.Fatalf("follow = %+v, %v; want created with the code's id", f, err)
	}
	resolved := fx.st.Since(before)
	before = fx.st.Counts()
	if _, err := fx.ob.Follow(ctx, onboard.Entry{Identities: []member.Identity{openid("f-inv2")}, Source: "oa-qr", Scene: "inv_K7M2Q9", Via: "oa:app"}); err != nil {
		t.Fatal(err)
	}
	if unresolved := fx.st.Since(before); unresolved.Gets != resolved.Gets+1 {
		t.Errorf("a resolved follow read %d items, an unresolved one %d; want one fewer (the scene)", resolved.Gets, unresolved.Gets)
	}
	pend, err := fx.ch.PendingOf(ctx, f.ID)
	if err != nil || pend.CodeID != "h(k7m2q9)" || pend.Code != "" || pend.Scene != "inv_h(k7m2q9)" {
		t.Errorf("pending = %+v, %v; want the code's id only", pend, err)
	}
	if fl, err := fx.ch.FollowOf(ctx, f.ID, "oa:app"); err != nil || strings.Contains(fl.Scene, "K7M2Q9") {
		t.Errorf("follow = %+v, %v; want no code text", fl, err)
	}
	if f.Channel.Value != channels.InviteScene {
		t.Errorf("channel %+v; want the value %q", f.Channel, channels.InviteScene)
	}
	again, err := fx.ob.Follow(ctx, entry)
	if err != nil || again.Created || again.ID != f.ID {
		t.Errorf("second follow = %+v, %v; want the member found, not created", again, err)
	}
}
