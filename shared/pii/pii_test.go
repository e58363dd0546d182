package pii_test

import (
	"strings"
	"testing"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/pii"
)

func TestSealHashMask(t *testing.T) {
	b, err := pii.New([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	s := b.Seal("13800138000")
	if strings.Contains(s, "13800138000") {
		t.Fatalf("sealed value shows the plaintext: %s", s)
	}
	if got, err := b.Open(s); err != nil || got != "13800138000" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := b.Open(s[:len(s)-2] + "AA"); err == nil {
		t.Fatal("Open accepted a tampered value")
	}
	if b.Hash("phone", "1") != b.Hash("phone", "1") || b.Hash("phone", "1") == b.Hash("code", "1") {
		t.Fatal("Hash is not stable per domain")
	}
	other, _ := pii.New([]byte(strings.Repeat("x", 32)))
	if other.Hash("phone", "1") == b.Hash("phone", "1") {
		t.Fatal("Hash does not depend on the key")
	}
	if got := pii.MaskPhone("13800138000"); got != "138****8000" {
		t.Fatalf("MaskPhone = %q", got)
	}
	if got := pii.MaskName("张三丰"); got != "张**" {
		t.Fatalf("MaskName = %q", got)
	}
	for in, want := range map[string]string{"+86 138-0013-8000": "13800138000", "8613800138000": "13800138000", "12345": "", "2380013800a": ""} {
		got, err := pii.NormalizePhone(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestPhoneCountries checks that a number keeps its country: only a +86
// number is a mainland number, so +1 3855550124 never looks like the
// mainland 13855550124.
func TestPhoneCountries(t *testing.T) {
	tests := []struct {
		country, number string
		e164, key, mask string
		mainland        bool
	}{
		{"86", "13855550124", "+8613855550124", "13855550124", "138****0124", true},
		{"+86", "138 5555-0124", "+8613855550124", "13855550124", "138****0124", true},
		{"1", "3855550124", "+13855550124", "+1 3855550124", "+1 385***0124", false},
		{"1", "2025550199", "+12025550199", "+1 2025550199", "+1 202***0199", false},
		{"852", "9123 4567", "+85291234567", "+852 91234567", "+852 912*4567", false},
		{"44", "7700900123", "+447700900123", "+44 7700900123", "+44 770***0123", false},
	}
	for _, tt := range tests {
		p, err := pii.NewPhone(tt.country, tt.number)
		if err != nil {
			t.Errorf("NewPhone(%q, %q): %v", tt.country, tt.number, err)
			continue
		}
		if got := p.E164(); got != tt.e164 {
			t.Errorf("NewPhone(%q, %q).E164() = %q, want %q", tt.country, tt.number, got, tt.e164)
		}
		if got := p.Key(); got != tt.key {
			t.Errorf("NewPhone(%q, %q).Key() = %q, want %q", tt.country, tt.number, got, tt.key)
		}
		if got := p.Mask(); got != tt.mask {
			t.Errorf("NewPhone(%q, %q).Mask() = %q, want %q", tt.country, tt.number, got, tt.mask)
		}
		if got := p.Mainland(); got != tt.mainland {
			t.Errorf("NewPhone(%q, %q).Mainland() = %v, want %v", tt.country, tt.number, got, tt.mainland)
		}
	}
	for _, bad := range [][2]string{
		{"86", "12025550199"},    // No mainland mobile number starts with 12.
		{"86", "1385555012"},     // Ten digits.
		{"", "13855550124"},      // No country.
		{"1", ""},                // No number.
		{"1x", "2025550199"},     // Not a calling code.
		{"0", "2025550199"},      // Calling codes do not start with 0.
		{"1234", "2025550199"},   // Calling codes have at most 3 digits.
		{"1", "202555019912345"}, // Over the 15 digits of E.164.
		{"44", "77009001ab"},     // Letters.
	} {
		if p, err := pii.NewPhone(bad[0], bad[1]); !errs.Is(errs.Invalid, err) {
			t.Errorf("NewPhone(%q, %q) = %+v, %v; want invalid", bad[0], bad[1], p, err)
		}
	}
}

// TestPhoneKeysApart: numbers whose country code and national number run
// together the same way (+1 3855550124, +13 855550124, +138 55550124) are
// different people, and none of them is the mainland 13855550124.
func TestPhoneKeysApart(t *testing.T) {
	seen := map[string]string{}
	for _, c := range [][2]string{{"1", "3855550124"}, {"13", "855550124"}, {"138", "55550124"}, {"86", "13855550124"}} {
		p, err := pii.NewPhone(c[0], c[1])
		if err != nil {
			t.Fatalf("NewPhone(%q, %q): %v", c[0], c[1], err)
		}
		if other, ok := seen[p.Key()]; ok {
			t.Errorf("+%s %s and %s have the same key %q", c[0], c[1], other, p.Key())
		}
		seen[p.Key()] = "+" + c[0] + " " + c[1]
	}
}

// TestNormalizePhoneMainlandOnly checks that a mainland number written with
// or without +86 is accepted and a number of any other country is not.
func TestNormalizePhoneMainlandOnly(t *testing.T) {
	for in, want := range map[string]string{
		"13855550124":       "13855550124",
		"+86 138-5555-0124": "13855550124",
		"+8613855550124":    "13855550124",
		"86 13855550124":    "13855550124",
		"+1 3855550124":     "",
		"+13855550124":      "",
		"+852 91234567":     "",
		"12025550199":       "",
		"+86 12025550199":   "",
		"10086":             "",
	} {
		got, err := pii.NormalizePhone(in)
		if got != want || (want == "") != errs.Is(errs.Invalid, err) {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
