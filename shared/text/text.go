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

// Problem is "" when s is usable free text of at most max bytes; otherwise
// it says what is wrong, as the end of a message naming the field
// ("nickname " + Problem(…)). Usable text is valid UTF-8 without control
// characters (NUL, tabs, line breaks, line and paragraph separators) and
// without the invisible characters that reorder text around them (bidi
// overrides, embeddings, isolates and marks), which make a name display as
// something else.
func Problem(s string, max int) string {
	if len(s) > max {
		return "must be at most " + strconv.Itoa(max) + " bytes"
	}
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r), r == '\u2028', r == '\u2029':
			return "must not contain control characters"
		case bidi(r):
			return "must not contain direction-override characters"
		}
	}
	return ""
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
