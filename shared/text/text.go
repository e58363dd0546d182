// Package text checks free text that members and operators type and that
// others are shown: nicknames, avatar URLs, coupon names, channel values.
package text

import (
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxMarks is the most combining marks Problem accepts in a row: enough
// for the accents of Vietnamese or the vowel signs of Indic and Tibetan
// scripts, too few to stack a character over the lines around it.
const MaxMarks = 4

// Problem is "" when s is usable free text of at most max bytes; otherwise
// it says what is wrong, as the end of a message naming the field
// ("nickname " + Problem(…)). Usable text is valid UTF-8 without control
// characters (NUL, tabs, line breaks, line and paragraph separators),
// without the invisible characters that reorder text around them (bidi
// overrides, embeddings, isolates and marks), which make a name display as
// something else, without other invisible format characters (zero-width
// spaces, byte-order marks, soft hyphens, tag characters) that make two
// names look alike, without U+FFFD (what undecodable input, such as a
// lone surrogate in JSON, becomes) and without more than MaxMarks
// combining marks in a row. Zero-width joiners and non-joiners are
// accepted between two non-ASCII letters, marks or symbols, where emoji
// sequences (👨‍👩‍👧) and scripts such as Persian need them.
func Problem(s string, max int) string {
	if len(s) > max {
		return "must be at most " + strconv.Itoa(max) + " bytes"
	}
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	marks := 0
	prev := rune(-1)
	for i, r := range s {
		if unicode.Is(unicode.M, r) {
			marks++
		} else {
			marks = 0
		}
		switch {
		case unicode.IsControl(r), r == '\u2028', r == '\u2029':
			return "must not contain control characters"
		case bidi(r):
			return "must not contain direction-override characters"
		case (r == zwj || r == zwnj) && joins(prev) && joins(nextRune(s, i+utf8.RuneLen(r))):
		case unicode.Is(unicode.Cf, r):
			return "must not contain invisible formatting characters"
		case r == utf8.RuneError:
			return "must not contain replacement characters (U+FFFD)"
		case marks > MaxMarks:
			return "must not contain more than " + strconv.Itoa(MaxMarks) + " combining marks in a row"
		}
		prev = r
	}
	return ""
}

// NameProblem is Problem for a name others are shown (a nickname, an
// imported name, a level or coupon name): it also needs at least one
// visible character, so that a name of spaces or blank letters is refused.
func NameProblem(s string, max int) string {
	if p := Problem(s, max); p != "" {
		return p
	}
	if !strings.ContainsFunc(s, visible) {
		return "must contain a visible character"
	}
	return ""
}

// The joiners Problem accepts between letters, marks or symbols.
const (
	zwj  = '\u200D'
	zwnj = '\u200C'
)

// joins reports whether a joiner may stand next to r: r is a non-ASCII
// letter, mark or symbol (an emoji, a skin tone, a variation selector).
func joins(r rune) bool {
	return r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsMark(r) || unicode.Is(unicode.So, r) || unicode.Is(unicode.Sk, r))
}

// nextRune is the rune of s at byte i, or -1 at the end.
func nextRune(s string, i int) rune {
	if i >= len(s) {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r
}

// visible reports whether r shows as something: not a space, a format
// character or a mark on its own, nor one of the letters and symbols drawn
// blank (Hangul fillers, the blank Braille pattern).
func visible(r rune) bool {
	switch r {
	case '\u115F', '\u1160', '\u3164', '\uFFA0', '\u2800':
		return false
	}
	return !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r) && !unicode.IsMark(r) && !unicode.IsControl(r)
}

// bidi reports whether r is a bidirectional formatting character.
func bidi(r rune) bool {
	switch {
	case r == '\u061C', r == '\u200E', r == '\u200F':
		return true
	case r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// HTTPSURLProblem is "" when s is an https URL of at most max bytes with a
// host and no credentials, written in printable ASCII without quotes,
// angle brackets, backslashes and the other characters a URL must
// percent-encode; otherwise it says what is wrong, as Problem.
func HTTPSURLProblem(s string, max int) string {
	if len(s) > max {
		return "must be at most " + strconv.Itoa(max) + " bytes"
	}
	for i := 0; i < len(s); i++ {
		// Quotes, angle brackets, backslashes and backticks end or escape
		// an attribute or a string the URL is put in; a URL needs them
		// percent-encoded.
		if s[i] <= ' ' || s[i] >= 0x7f || strings.IndexByte("\"'<>\\`{}|^", s[i]) >= 0 {
			return "must be an https URL"
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		return "must be an https URL"
	}
	if u.User != nil {
		return "must be an https URL without credentials"
	}
	return ""
}
