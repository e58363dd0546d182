package codes

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokenText is what a text token says around the code.
const tokenText = "复制这段话打开微信小程序，领取好友邀请礼 "

// Token is a text token (口令) for a code: a message a member pastes into
// any chat, which survives platforms that strip links and QR codes, e.g.
// "【brand】复制这段话打开微信小程序，领取好友邀请礼 ¥CODE¥". The code sits
// between two ¥ marks; the brand loses any mark, bracket or control
// character so that ParseToken finds the code and only the code.
func Token(code, brand string) string {
	brand = strings.TrimSpace(strings.Map(func(r rune) rune {
		if mark(ascii(r)) || r == '【' || r == '】' || unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, brand))
	if brand != "" {
		brand = "【" + brand + "】"
	}
	return brand + tokenText + "¥" + code + "¥"
}

// ParseToken finds the code in a pasted message: the first text between two
// marks (¥, ￥, $, € or their full-width forms, in any mix) that Normalize
// accepts, whatever chat text, spaces or line breaks surround it. ok is
// false when there is none; a bare code without marks is not a token (see
// Normalize).
func ParseToken(text string) (code string, ok bool) {
	start := -1
	for i, r := range text {
		if !mark(ascii(r)) {
			continue
		}
		if start >= 0 {
			if code, ok := Normalize(text[start:i]); ok {
				return code, true
			}
		}
		start = i + utf8.RuneLen(r)
	}
	return "", false
}

// mark reports whether r is a mark that opens or closes a token's code.
func mark(r rune) bool { return r == '¥' || r == '￥' || r == '$' || r == '€' }
