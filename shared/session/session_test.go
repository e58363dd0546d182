package session_test

import (
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/session"
)

func TestIssueVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	secret := []byte(strings.Repeat("s", 32))
	iss, err := session.NewIssuer(secret, time.Hour, clock)
	if err != nil {
		t.Fatal(err)
	}
	tok, exp := iss.Issue("m_1")
	if want := now.Add(time.Hour); !exp.Equal(want) {
		t.Fatalf("expiry = %v, want %v", exp, want)
	}
	c, err := iss.Verify(tok)
	if err != nil || c.MemberID != "m_1" {
		t.Fatalf("Verify = %+v, %v; want m_1", c, err)
	}
	other, _ := session.NewIssuer([]byte(strings.Repeat("x", 32)), time.Hour, clock)
	forged, _ := other.Issue("m_1")
	body, sig, _ := strings.Cut(strings.TrimPrefix(tok, "wm1."), ".")
	tampered := "wm1." + body[:len(body)-2] + "AA." + sig
	tests := []struct {
		name, token, msg string
	}{
		{"empty", "", "invalid session token"},
		{"garbage", "hello", "invalid session token"},
		{"other secret", forged, "invalid session token"},
		{"tampered payload", tampered, "invalid session token"},
		{"no signature", "wm1." + body, "invalid session token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := iss.Verify(tt.token)
			if !errs.Is(errs.Unauthorized, err) || errs.SafeMessage(err) != tt.msg {
				t.Fatalf("Verify(%q) = %v; want unauthorized %q", tt.token, err, tt.msg)
			}
		})
	}
	now = now.Add(time.Hour)
	if _, err := iss.Verify(tok); errs.SafeMessage(err) != "session expired" {
		t.Fatalf("expired token: got %v, want session expired", err)
	}
	if _, err := session.NewIssuer([]byte("short"), time.Hour, clock); !errs.Is(errs.Invalid, err) {
		t.Fatalf("short secret: got %v, want invalid", err)
	}
}

func TestBearer(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{{"Bearer abc", "abc", true}, {"bearer abc", "abc", true}, {"Basic abc", "", false}, {"Bearer", "", false}, {"", "", false}} {
		got, ok := session.Bearer(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Bearer(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestScoped(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	iss, _ := session.NewIssuer([]byte(strings.Repeat("s", 32)), time.Hour, func() time.Time { return now })
	qr, _ := iss.IssueScoped("coupon", "m1:c1", time.Minute)
	if c, err := iss.VerifyScoped("coupon", qr); err != nil || c.MemberID != "m1:c1" {
		t.Fatalf("VerifyScoped = %+v, %v", c, err)
	}
	if _, err := iss.Verify(qr); !errs.Is(errs.Unauthorized, err) {
		t.Fatalf("a scoped token passed as a session: %v", err)
	}
	if _, err := iss.VerifyScoped("other", qr); !errs.Is(errs.Unauthorized, err) {
		t.Fatalf("a scoped token passed in another scope: %v", err)
	}
	sess, _ := iss.Issue("m1")
	if _, err := iss.VerifyScoped("coupon", sess); !errs.Is(errs.Unauthorized, err) {
		t.Fatalf("a session passed as a scoped token: %v", err)
	}
	now = now.Add(2 * time.Minute)
	if _, err := iss.VerifyScoped("coupon", qr); errs.SafeMessage(err) != "coupon token expired" {
		t.Fatalf("expired scoped token: %v", err)
	}
}
