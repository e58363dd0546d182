package codes

import (
	"unicode"
)

// Normalize turns a code as a member typed or pasted it into the code: it
// maps full-width characters (what a Chinese input method types: ＡＢ１２,
// the ideographic space) to ASCII, drops every space, line break and
// zero-width character anywhere, and keeps the case (see Candidates). ok is
// false when what is left is shorter than MinLen, longer than MaxLen, or
// holds a character no code can (anything but letters, digits, '-', '_').
func Normalize(input string) (code string, ok bool) {
	var b [MaxLen]byte
	n := 0
	for _, r := range input {
		r = ascii(r)
		switch {
		case unicode.IsSpace(r) || invisible(r):
		case !codeChar(r) || n == MaxLen:
			return "", false
		default:
			b[n] = byte(r)
			n++
		}
	}
	if n < MinLen {
		return "", false
	}
	return string(b[:n]), true
}

// ascii maps the full-width forms U+FF01–U+FF5E to the ASCII characters
// they stand for, and the ideographic space to a space (what NFKC does for
// them); other runes stay.
func ascii(r rune) rune {
	switch {
	case r >= '！' && r <= '～':
		return r - '！' + '!'
	case r == '\u3000':
		return ' '
	}
	return r
}

// invisible reports whether r is a zero-width character that copying text
// out of a chat app may slip into a code.
func invisible(r rune) bool {
	return r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\u2060' || r == '\ufeff'
}
