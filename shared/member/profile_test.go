package member_test

import (
	"context"
	"testing"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/store"
)

// TestProfileTextRefused: nicknames with NUL, control or bidi-override
// characters and avatars that are not https URLs are refused naming the
// field, at registration and on a profile update, and nothing is stored.
func TestProfileTextRefused(t *testing.T) {
	svc, s := newService(t)
	ctx := context.Background()
	str := func(v string) *string { return &v }
	tests := []struct {
		name string
		u    member.ProfileUpdate
		msg  string
	}{
		{"NUL", member.ProfileUpdate{Nickname: str("ab\x00cd")}, "nickname must not contain control characters"},
		{"newline", member.ProfileUpdate{Nickname: str("ab\ncd")}, "nickname must not contain control characters"},
		{"bidi override", member.ProfileUpdate{Nickname: str("admin\u202Enimda")}, "nickname must not contain direction-override characters"},
		{"zero-width space", member.ProfileUpdate{Nickname: str("ad\u200Bmin")}, "nickname must not contain invisible formatting characters"},
		{"byte-order mark", member.ProfileUpdate{Nickname: str("\uFEFFAnn")}, "nickname must not contain invisible formatting characters"},
		{"soft hyphen only", member.ProfileUpdate{Nickname: str("\u00AD")}, "nickname must not contain invisible formatting characters"},
		{"tag characters", member.ProfileUpdate{Nickname: str("Ann\U000E0041\U000E0042")}, "nickname must not contain invisible formatting characters"},
		{"replacement character", member.ProfileUpdate{Nickname: str("Ann\uFFFD")}, "nickname must not contain replacement characters (U+FFFD)"},
		{"combining run", member.ProfileUpdate{Nickname: str("A\u0300\u0301\u0302\u0303\u0304\u0305")}, "nickname must not contain more than 4 combining marks in a row"},
		{"spaces only", member.ProfileUpdate{Nickname: str("   ")}, "nickname must contain a visible character"},
		{"ideographic space only", member.ProfileUpdate{Nickname: str("\u3000")}, "nickname must contain a visible character"},
		{"Hangul filler", member.ProfileUpdate{Nickname: str("\u3164")}, "nickname must contain a visible character"},
		{"javascript avatar", member.ProfileUpdate{Avatar: str("javascript:alert(1)")}, "avatar must be an https URL"},
		{"http avatar", member.ProfileUpdate{Avatar: str("http://example.com/a.png")}, "avatar must be an https URL"},
	}
	for _, tt := range tests {
		if _, err := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", "o-"+tt.name)},
			Nickname: deref(tt.u.Nickname), Avatar: deref(tt.u.Avatar)}); !errs.Is(errs.Invalid, err) || errs.SafeMessage(err) != tt.msg {
			t.Errorf("%s: Arrive = %v, want invalid %q", tt.name, err, tt.msg)
		}
		if _, err := s.Get(ctx, store.K("ident#openid#mp#o-"+tt.name, "ident")); !errs.Is(errs.NotExist, err) {
			t.Errorf("%s: a refused arrival stored a member: %v", tt.name, err)
		}
	}
	res, err := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", "o1")},
		Nickname: "小明 🐱", Avatar: "https://thirdwx.qlogo.cn/mmopen/132"})
	if err != nil {
		t.Fatalf("Arrive with a good nickname and avatar: %v", err)
	}
	for _, tt := range tests {
		_, err := svc.UpdateProfile(ctx, res.Member.ID, tt.u)
		if !errs.Is(errs.Invalid, err) || errs.SafeMessage(err) != tt.msg {
			t.Errorf("%s: UpdateProfile = %v, want invalid %q", tt.name, err, tt.msg)
		}
	}
	m, err := svc.Get(ctx, res.Member.ID)
	if err != nil || m.Nickname != "小明 🐱" || m.Avatar != "https://thirdwx.qlogo.cn/mmopen/132" {
		t.Fatalf("stored = %q %q, %v; want the registration's nickname and avatar", m.Nickname, m.Avatar, err)
	}
	if m, err := svc.UpdateProfile(ctx, res.Member.ID, member.ProfileUpdate{Nickname: str("Ann"), Avatar: str("")}); err != nil || m.Nickname != "Ann" || m.Avatar != "" {
		t.Fatalf("a good update = %+v, %v", m, err)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
