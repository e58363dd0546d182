package text_test

import (
	"strings"
	"testing"

	"github.com/wemember/wemember/shared/text"
)

func TestProblem(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", ""},
		{"小明 🐱‍👤 Ann-Marie", ""},
		{"a\x00b", "must not contain control characters"},
		{"tab\there", "must not contain control characters"},
		{"line\nbreak", "must not contain control characters"},
		{"\u0085next", "must not contain control characters"},
		{"evil\u202Egnp.exe", "must not contain direction-override characters"},
		{"\u2066isolate\u2069", "must not contain direction-override characters"},
		{"mark\u200Fx", "must not contain direction-override characters"},
		{"sep\u2028x", "must not contain control characters"},
		{"bad \xff utf8", "must be valid UTF-8"},
		{strings.Repeat("好", 22), "must be at most 64 bytes"},
		{"zero\u200Bwidth", "must not contain invisible formatting characters"},
		{"\uFEFFbom", "must not contain invisible formatting characters"},
		{"soft\u00ADhyphen", "must not contain invisible formatting characters"},
		{"tag\U000E0041\U000E007F", "must not contain invisible formatting characters"},
		{"word\u2060joiner", "must not contain invisible formatting characters"},
		{"\u200Dleading joiner", "must not contain invisible formatting characters"},
		{"a\u200Db", "must not contain invisible formatting characters"},
		{"lone \uFFFD surrogate", "must not contain replacement characters (U+FFFD)"},
		{"Z\u0301\u0302\u0303\u0304\u0305algo", "must not contain more than 4 combining marks in a row"},
		{"Vie\u0302\u0323t", ""},
		{"👨\u200D👩\u200D👧 ❤\uFE0F 👍🏽", ""},
		{"\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645", ""},
		{"   ", ""},
	}
	for _, tt := range tests {
		if got := text.Problem(tt.in, 64); got != tt.want {
			t.Errorf("Problem(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHTTPSURL(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"https://thirdwx.qlogo.cn/mmopen/vi_32/abc/132", ""},
		{"javascript:alert(1)", "must be an https URL"},
		{"JAVASCRIPT://x.com/%0aalert(1)", "must be an https URL"},
		{"http://example.com/a.png", "must be an https URL"},
		{"data:image/png;base64,AAAA", "must be an https URL"},
		{"https:///nohost", "must be an https URL"},
		{"https://user:pw@example.com/a.png", "must be an https URL without credentials"},
		{"https://example.com/a b.png", "must be an https URL"},
		{"https://example.com/\u202Egnp.png", "must be an https URL"},
		{"//example.com/a.png", "must be an https URL"},
		{`https://x.example/a.png"onerror=alert(1)`, "must be an https URL"},
		{"https://x.example/a.png'onerror=alert(1)", "must be an https URL"},
		{"https://x.example/<script>.png", "must be an https URL"},
		{`https://x.example/a\b.png`, "must be an https URL"},
		{"https://x.example/a.png?x=`1`", "must be an https URL"},
		{"https://x.example/a%22b.png?s=1&t=%E4%BD%A0#top", ""},
		{"https://example.com/" + strings.Repeat("a", 600), "must be at most 512 bytes"},
	}
	for _, tt := range tests {
		if got := text.HTTPSURLProblem(tt.in, 512); got != tt.want {
			t.Errorf("HTTPSURLProblem(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNameProblem(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"小明", ""},
		{" Ann ", ""},
		{"🐱", ""},
		{"", "must contain a visible character"},
		{"   ", "must contain a visible character"},
		{"\u3000\u00A0", "must contain a visible character"},
		{"\u3164", "must contain a visible character"},
		{"\u2800", "must contain a visible character"},
		{"\u0301", "must contain a visible character"},
		{"a\u200Bb", "must not contain invisible formatting characters"},
	}
	for _, tt := range tests {
		if got := text.NameProblem(tt.in, 64); got != tt.want {
			t.Errorf("NameProblem(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
