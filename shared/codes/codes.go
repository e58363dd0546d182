// Package codes says how invite codes look: a Format is data (length,
// charset, prefix, postfix or a pattern), Generate draws distinct codes from
// a crypto-random source, Normalize turns what a member typed into a code,
// and Token and ParseToken carry a code through chat apps that strip links
// and QR codes as a text token (口令). It stores nothing.
//
// Every code is 4 to 64 characters of letters, digits, '-' and '_': safe in
// a URL, a QR scene and a text token. A dash or underscore is part of a code
// (a prefix "VIP-" or a pattern "###-###" puts it there), so Normalize keeps
// it; spaces are never part of a code and Normalize drops them.
//
// Case: a format whose charset holds letters of one case only (the default)
// makes codes that are matched whatever case the member types; a charset
// with both cases makes case-sensitive codes. Format.Canonical is the form
// to store a code under and Candidates the forms to look a typed one up by.
package codes

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/wemember/wemember/shared/errs"
)

// DefaultCharset is the charset of a format that names none: the digits and
// upper-case letters without the look-alikes 0/O and 1/I (and without any
// lower case, so no l, and codes match whatever case is typed). Its 32
// characters give 5 bits a character: 8 characters hold 2^40 codes.
const DefaultCharset = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// MinLen and MaxLen bound a code's length, and so the random part of a
// format (at least MinLen characters) and its whole (at most MaxLen).
const (
	MinLen = 4
	MaxLen = 64
)

// Format is how a code looks (data, from rules): Length random characters
// from Charset, between Prefix and Postfix; or Pattern, where '#' is one
// random character and every other character is literal (Pattern overrides
// Length; Prefix and Postfix still wrap it).
type Format struct {
	Length  int    `json:"length,omitempty"`
	Charset string `json:"charset,omitempty"` // "" = DefaultCharset.
	Prefix  string `json:"prefix,omitempty"`
	Postfix string `json:"postfix,omitempty"`
	Pattern string `json:"pattern,omitempty"`
}

// Validate fails with errs.Invalid, naming the rule broken, unless the
// format can make codes: a random part of MinLen to MaxLen characters (a
// Length, or a Pattern's '#'), a charset of at least 2 distinct letters,
// digits, '-' or '_', a prefix, postfix and pattern literals of the same
// characters, and a whole code of at most MaxLen characters.
func (f Format) Validate() error {
	const op = "codes.Validate"
	if p := f.problem(); p != "" {
		return errs.E(op, errs.Invalid, "code format: "+p)
	}
	return nil
}

func (f Format) problem() string {
	cs := f.charset()
	if len(cs) < 2 {
		return "charset must hold at least 2 characters"
	}
	for i := 0; i < len(cs); i++ {
		if !codeChar(rune(cs[i])) {
			return "charset may hold only letters, digits, '-' and '_'"
		}
		if strings.IndexByte(cs[:i], cs[i]) >= 0 {
			return fmt.Sprintf("charset repeats %q", cs[i])
		}
	}
	if !plain(f.Prefix) || !plain(f.Postfix) {
		return "prefix and postfix may hold only letters, digits, '-' and '_'"
	}
	if f.Pattern != "" && !plain(strings.ReplaceAll(f.Pattern, "#", "")) {
		return "pattern may hold only '#' and letters, digits, '-' and '_'"
	}
	if r := f.random(); r < MinLen || r > MaxLen {
		if f.Pattern != "" {
			return fmt.Sprintf("pattern must hold %d to %d '#'", MinLen, MaxLen)
		}
		return fmt.Sprintf("length must be %d to %d", MinLen, MaxLen)
	}
	if n := f.size(); n > MaxLen {
		return fmt.Sprintf("a code would be %d characters, over %d", n, MaxLen)
	}
	return ""
}

// Capacity is how many distinct codes the format can make: the charset's
// size to the power of the random characters. It is meaningful only for a
// format Validate accepts.
func (f Format) Capacity() *big.Int {
	return new(big.Int).Exp(big.NewInt(int64(len(f.charset()))), big.NewInt(int64(f.random())), nil)
}

// Canonical is the form a code of this format is stored and matched under:
// the code in upper case when the format's codes ignore case, the code
// itself otherwise.
func (f Format) Canonical(code string) string {
	if f.caseSensitive() {
		return code
	}
	return upper(code)
}

// Candidates are the canonical forms a normalized code may be stored
// under, to look up in this order: the code as typed (a case-sensitive
// code), then in upper case (a code that ignores case) when that differs.
func Candidates(code string) []string {
	if u := upper(code); u != code {
		return []string{code, u}
	}
	return []string{code}
}

// charset is the format's charset, the default when it names none.
func (f Format) charset() string {
	if f.Charset == "" {
		return DefaultCharset
	}
	return f.Charset
}

// body is the random part's template: the pattern, or Length '#'.
func (f Format) body() string {
	if f.Pattern != "" {
		return f.Pattern
	}
	if f.Length < 0 || f.Length > MaxLen {
		return ""
	}
	return strings.Repeat("#", f.Length)
}

// random counts the random characters of a code.
func (f Format) random() int {
	if f.Pattern != "" {
		return strings.Count(f.Pattern, "#")
	}
	return f.Length
}

// size is the length of a whole code.
func (f Format) size() int { return len(f.Prefix) + len(f.body()) + len(f.Postfix) }

// caseSensitive reports whether the charset holds letters of both cases.
func (f Format) caseSensitive() bool {
	cs := f.charset()
	return strings.ContainsFunc(cs, isLower) && strings.ContainsFunc(cs, isUpper)
}

func isLower(r rune) bool { return r >= 'a' && r <= 'z' }
func isUpper(r rune) bool { return r >= 'A' && r <= 'Z' }

// codeChar reports whether r may appear in a code.
func codeChar(r rune) bool {
	return isLower(r) || isUpper(r) || r >= '0' && r <= '9' || r == '-' || r == '_'
}

// plain reports whether s holds only code characters.
func plain(s string) bool {
	for _, r := range s {
		if !codeChar(r) {
			return false
		}
	}
	return true
}

// upper is s with ASCII lower-case letters in upper case.
func upper(s string) string {
	return strings.Map(func(r rune) rune {
		if isLower(r) {
			return r - 'a' + 'A'
		}
		return r
	}, s)
}
