package codes_test

import (
	"math/big"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wemember/wemember/shared/codes"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" = not ok.
	}{
		{"ABCD2345", "ABCD2345"},
		{"  ABCD 2345\n", "ABCD2345"},
		{"abcd2345", "abcd2345"},               // Case stays; see Candidates.
		{"ＡＢＣＤ２３４５", "ABCD2345"},               // Full-width letters and digits.
		{"\u3000ＶＩＰ－ａｂ＿１２\u3000", "VIP-ab_12"}, // Ideographic spaces, full-width dash and underscore.
		{"AB\u200bCD\ufeff23", "ABCD23"},       // Zero-width characters from a paste.
		{"VIP-AB_CD", "VIP-AB_CD"},             // Dashes and underscores are part of a code.
		{"A B\tC\r\nD", "ABCD"},                // Every kind of space.
		{strings.Repeat("A", 64), strings.Repeat("A", 64)},
		{" " + strings.Repeat("Ａ", 64) + " ", strings.Repeat("A", 64)},
		{"", ""},
		{"   \u3000 ", ""},
		{"ABC", ""}, // Shorter than any code.
		{"A B C", ""},
		{strings.Repeat("A", 65), ""},
		{"ABCD.2345", ""},
		{"ABCD/2345", ""},
		{"¥ABCD2345¥", ""},
		{"ABCD码2345", ""},
		{"ABCDÉ", ""},
		{"ABCD\x00", ""},
		{"ABCD\xff", ""}, // Not UTF-8.
		{"ＡＢＣＤ！", ""},    // Full-width '!' is '!', no code character.
	}
	for _, tc := range tests {
		got, ok := codes.Normalize(tc.in)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("Normalize(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.want != "")
		}
	}
}

func TestToken(t *testing.T) {
	tests := []struct {
		code, brand, want string
	}{
		{"ABCD2345", "好物商城", "【好物商城】复制这段话打开微信小程序，领取好友邀请礼 ¥ABCD2345¥"},
		{"ABCD2345", "", "复制这段话打开微信小程序，领取好友邀请礼 ¥ABCD2345¥"},
		{"VIP-ab_12", " 【¥Shop$】\n ", "【Shop】复制这段话打开微信小程序，领取好友邀请礼 ¥VIP-ab_12¥"},
		{"ABCD2345", "￥€＄", "复制这段话打开微信小程序，领取好友邀请礼 ¥ABCD2345¥"},
	}
	for _, tc := range tests {
		got := codes.Token(tc.code, tc.brand)
		if got != tc.want {
			t.Errorf("Token(%q, %q) = %q, want %q", tc.code, tc.brand, got, tc.want)
		}
		if code, ok := codes.ParseToken(got); !ok || code != tc.code {
			t.Errorf("ParseToken(Token(%q)) = %q, %v", tc.code, code, ok)
		}
	}
}

func TestParseToken(t *testing.T) {
	tests := []struct {
		name, text, want string // want "" = not ok.
	}{
		{"own token", "【好物】复制这段话打开微信小程序，领取好友邀请礼 ¥ABCD2345¥", "ABCD2345"},
		{"full-width marks", "快来 ￥ABCD2345￥ 一起领", "ABCD2345"},
		{"dollars", "copy $ABCD2345$ and open", "ABCD2345"},
		{"full-width dollars", "＄ABCD2345＄", "ABCD2345"},
		{"euros", "€ABCD2345€", "ABCD2345"},
		{"mixed marks", "¥ABCD2345￥", "ABCD2345"},
		{"full-width code", "￥ＡＢＣＤ２３４５￥", "ABCD2345"},
		{"spaces and lines", "看这里\n\n¥  ABCD\n2345 ¥\n谢谢", "ABCD2345"},
		{"price before", "原价¥199，现在 ¥ABCD2345¥ 领券", "ABCD2345"},
		{"price mark alone", "¥ 99 元 ¥ABCD2345¥", "ABCD2345"},
		{"chat after", "¥VIP-ab_12¥ 【点击链接】https://x.example/s/ABCD", "VIP-ab_12"},
		{"first of two", "¥AAAA2345¥ ¥BBBB2345¥", "AAAA2345"},
		{"no marks", "ABCD2345", ""},
		{"one mark", "¥ABCD2345", ""},
		{"too short", "¥ABC¥", ""},
		{"not a code", "¥价格便宜¥", ""},
		{"empty", "", ""},
		{"empty between", "¥¥", ""},
		{"not UTF-8", "¥AB\xffCD¥", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := codes.ParseToken(tc.text)
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("ParseToken(%q) = %q, %v; want %q, %v", tc.text, got, ok, tc.want, tc.want != "")
			}
		})
	}
}

// validCode checks what every code Normalize or ParseToken hands out must
// be: MinLen to MaxLen letters, digits, '-' and '_', its own normal form.
func validCode(t *testing.T, from, code string) {
	t.Helper()
	if len(code) < codes.MinLen || len(code) > codes.MaxLen {
		t.Fatalf("%s gave %q, of %d characters", from, code, len(code))
	}
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			t.Fatalf("%s gave %q, holding %q", from, code, r)
		}
	}
	if again, ok := codes.Normalize(code); !ok || again != code {
		t.Fatalf("%s gave %q, which normalizes to %q, %v", from, code, again, ok)
	}
}

// bigTen is the least capacity from which a batch of 5 may be drawn.
var bigTen = big.NewInt(10)

var fuzzSeeds = []string{
	"ABCD2345", " ＡＢＣＤ２３４５ ", "VIP-ab_12", "¥ABCD2345¥", "￥ABCD\n2345￥", "$abcd$",
	"【好物】复制这段话打开微信小程序，领取好友邀请礼 ¥ABCD2345¥", "原价¥199，现在 ¥ABCD2345¥",
	"", "¥", "¥¥¥", "\xff\xfe", "AB\u200bCD", strings.Repeat("A", 65), strings.Repeat("¥A", 40),
}

func FuzzNormalize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		code, ok := codes.Normalize(in)
		if !ok {
			if code != "" {
				t.Fatalf("Normalize(%q) = %q, false; want an empty code", in, code)
			}
			return
		}
		validCode(t, "Normalize("+in+")", code)
		if got, ok := codes.ParseToken(codes.Token(code, in)); !ok || got != code {
			t.Fatalf("ParseToken(Token(%q, %q)) = %q, %v", code, in, got, ok)
		}
	})
}

func FuzzParseToken(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, "好物")
	}
	f.Fuzz(func(t *testing.T, text, brand string) {
		code, ok := codes.ParseToken(text)
		if ok {
			validCode(t, "ParseToken("+text+")", code)
		} else if code != "" {
			t.Fatalf("ParseToken(%q) = %q, false; want an empty code", text, code)
		}
		// Whatever the text and the brand, a token of a valid code gives the
		// code back, and so does the token pasted inside the text.
		if c, ok := codes.Normalize(text); ok {
			tok := codes.Token(c, brand)
			if got, ok := codes.ParseToken(tok); !ok || got != c {
				t.Fatalf("ParseToken(Token(%q, %q)) = %q, %v", c, brand, got, ok)
			}
			if !strings.ContainsAny(brand, "¥￥$＄€") && utf8.ValidString(brand) {
				if got, ok := codes.ParseToken(brand + "\n" + tok); !ok || got != c {
					t.Fatalf("ParseToken(%q) = %q, %v; want %q", brand+"\n"+tok, got, ok, c)
				}
			}
		}
	})
}

func FuzzFormat(f *testing.F) {
	f.Add(8, "", "VIP-", "", "", uint64(1))
	f.Add(0, "0123456789", "", "_x", "###-###", uint64(2))
	f.Add(4, "AB", "", "", "", uint64(3))
	f.Add(20, "aAbBcC", "Br", "", "", uint64(4))
	f.Fuzz(func(t *testing.T, length int, charset, prefix, postfix, pattern string, seed uint64) {
		fm := codes.Format{Length: length, Charset: charset, Prefix: prefix, Postfix: postfix, Pattern: pattern}
		valid := fm.Validate() == nil
		got, err := codes.Generate(seeded(byte(seed)), fm, 5)
		if !valid {
			if err == nil {
				t.Fatalf("Generate(%+v) made %q for a format Validate refuses", fm, got)
			}
			return
		}
		if fm.Capacity().Cmp(bigTen) < 0 {
			if err == nil {
				t.Fatalf("Generate(%+v, 5) made %q from a format of %s codes", fm, got, fm.Capacity())
			}
			return
		}
		if err != nil {
			t.Fatalf("Generate(%+v, 5): %v", fm, err)
		}
		for _, c := range got {
			if !matches(fm, c) {
				t.Fatalf("Generate(%+v) made %q", fm, c)
			}
			validCode(t, "Generate", c)
			if got, ok := codes.ParseToken(codes.Token(c, "")); !ok || got != c {
				t.Fatalf("ParseToken(Token(%q)) = %q, %v", c, got, ok)
			}
		}
	})
}
