package coupons

import (
	"regexp"
	"strings"
	"testing"
)

// TestValidTemplateID holds validTemplateID to the pattern the operators
// are told: ^[a-z0-9][a-z0-9_-]{0,63}$.
func TestValidTemplateID(t *testing.T) {
	pattern := regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	ids := []string{
		"", "a", "0", "-", "_", "-a", "_a", "a-", "a_", "welcome", "birthday-2026", "streak_7",
		"A", "aB", "a b", "a.b", "a/b", "é", "a\x00", "a\n", "\u0430", // Cyrillic a.
		strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a", 65),
	}
	for c := 0; c < 256; c++ {
		ids = append(ids, "x"+string(rune(c)), string([]byte{byte(c)}))
	}
	for _, id := range ids {
		if got, want := validTemplateID(id), pattern.MatchString(id); got != want {
			t.Errorf("validTemplateID(%q) = %v, want %v", id, got, want)
		}
	}
}
