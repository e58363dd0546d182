package poster

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/math/fixed"
)

func TestWrap(t *testing.T) {
	f, err := LoadFont(DefaultFontPath)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := newFaces(f)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.close()
	latin, _ := ParseFont(goregular.TTF)
	lf, _ := newFaces(latin)
	defer lf.close()
	width := fixed.I(Width - 2*margin)
	for _, tc := range []struct {
		name  string
		face  font.Face
		s     string
		lines int
	}{
		{"short", fs.body, "双方各得20积分", 1},
		{"Chinese", fs.body, strings.Repeat("邀请好友注册双方各得积分", 4), 3},
		{"punctuation at a break", fs.body, strings.Repeat("邀", 19) + "，双方各得20积分。", 2},
		{"Latin words", lf.body, strings.Repeat("invite friends ", 10), 4},
	} {
		got := wrap(tc.face, tc.s, width)
		if len(got) != tc.lines {
			t.Errorf("%s: %d lines %q, want %d", tc.name, len(got), got, tc.lines)
		}
		if strings.Join(got, "") != strings.ReplaceAll(strings.TrimSpace(tc.s), " ", "") &&
			strings.Join(got, " ") != strings.TrimSpace(tc.s) {
			t.Errorf("%s: lines %q lose text of %q", tc.name, got, tc.s)
		}
		for _, l := range got {
			r, _ := utf8.DecodeRuneInString(l)
			if strings.ContainsRune(noLineStart, r) {
				t.Errorf("%s: line %q starts with punctuation", tc.name, l)
			}
			// A pulled-up punctuation mark may overhang by one character.
			if w := font.MeasureString(tc.face, l); w > width+fixed.I(bodySize) {
				t.Errorf("%s: line %q is %v wide, over %v", tc.name, l, w, width)
			}
		}
	}
}
