package pii_test

import (
	"strings"
	"testing"

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
