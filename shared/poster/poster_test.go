package poster_test

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/font/gofont/goregular"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/poster"
	"github.com/wemember/wemember/tests/wxsim"
)

const (
	title    = "邀请好友，一起赚积分"
	benefit  = "邀请好友注册，双方各得20积分；好友首单完成后，你再得50积分，邀请满3位好友即可升级为银卡会员，享受专属折扣。"
	nickname = "小*明"
	content  = "https://wxsim.invalid/wxacode?appid=wx1234567890abcdef&page=pages%2Finvite%2Findex&scene=k7Hq2mZP9xRtW4vN"
)

// cjkFont loads the configured poster font; tests/run.sh installs the
// default one (fonts-wqy-microhei), so its absence is a failure.
func cjkFont(tb testing.TB) *poster.Font {
	tb.Helper()
	path := poster.FontPath(os.Getenv)
	f, err := poster.LoadFont(path)
	if err != nil {
		tb.Fatalf("%v (tests/run.sh installs fonts-wqy-microhei; or apt-get install fonts-wqy-microhei)", err)
	}
	return f
}

func qrPNG(tb testing.TB, text string) []byte {
	tb.Helper()
	b, err := wxsim.EncodeQR(text, 430)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func render(tb testing.TB, p poster.Poster) image.Image {
	tb.Helper()
	b, err := poster.Render(p)
	if err != nil {
		tb.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// differing counts the pixels of r that differ between a and b.
func differing(a, b image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				n++
			}
		}
	}
	return n
}

func TestRender(t *testing.T) {
	f := cjkFont(t)
	p := poster.Poster{Font: f, QR: qrPNG(t, content), Title: title, Lines: []string{benefit}, Nickname: nickname}

	// Every character drawn has a glyph: no empty boxes.
	for _, r := range title + benefit + nickname + "邀请你加入长按识别二维码" {
		if f.GlyphIndex(r) == 0 {
			t.Errorf("font %s has no glyph for %q", f.Name(), r)
		}
	}
	if gi := f.GlyphIndex('🎁'); gi != 0 {
		t.Errorf("font %s claims a glyph (%d) for an emoji", f.Name(), gi)
	}

	b, err := poster.Render(p)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds(); got != image.Rect(0, 0, poster.Width, poster.Height) {
		t.Errorf("poster is %v, want %dx%d", got, poster.Width, poster.Height)
	}
	if len(b) > 1<<20 {
		t.Errorf("poster is %d bytes, want at most 1 MiB", len(b))
	}
	t.Logf("poster: %d bytes, font %s", len(b), f.Name())

	// The QR code in the poster still reads as the code.
	if got, err := wxsim.DecodeQR(b); err != nil || got != content {
		t.Errorf("poster QR holds %q, %v; want %q", got, err, content)
	}

	// The text puts ink on the poster: title and body differ from the same
	// poster without them, and other words draw other pixels.
	bare := render(t, poster.Poster{Font: f, QR: p.QR, Nickname: nickname})
	if n := differing(img, bare, image.Rect(0, 0, poster.Width, 300)); n < 2000 {
		t.Errorf("title area: %d pixels of ink, want at least 2000", n)
	}
	if n := differing(img, bare, image.Rect(0, 300, poster.Width, 740)); n < 5000 {
		t.Errorf("text area: %d pixels of ink, want at least 5000", n)
	}
	other := render(t, poster.Poster{Font: f, QR: p.QR, Title: title, Lines: []string{strings.Replace(benefit, "20", "30", 1)}, Nickname: nickname})
	if n := differing(img, other, image.Rect(0, 300, poster.Width, 740)); n == 0 {
		t.Error("20 and 30 points draw the same pixels")
	}
	anon := render(t, poster.Poster{Font: f, QR: p.QR, Title: title, Lines: []string{benefit}})
	if n := differing(img, anon, image.Rect(0, 720, poster.Width, 790)); n < 500 {
		t.Errorf("nickname line: %d pixels of ink, want at least 500", n)
	}
}

func TestRenderRefuses(t *testing.T) {
	f := cjkFont(t)
	latin, err := poster.ParseFont(goregular.TTF)
	if err != nil {
		t.Fatal(err)
	}
	if m := latin.Missing("Invite a friend, both get 20 points"); m != nil {
		t.Fatalf("Go Regular lacks %q", string(m))
	}
	if m := latin.Missing(benefit); len(m) == 0 {
		t.Fatal("Go Regular claims Chinese glyphs")
	}
	qr := qrPNG(t, content)
	long := strings.Repeat("邀请好友注册，双方各得20积分。", 12)
	for _, tc := range []struct {
		name string
		p    poster.Poster
		msg  string
	}{
		{"font without Chinese", poster.Poster{Font: latin, QR: qr, Title: title, Lines: []string{benefit}}, "cannot draw"},
		{"emoji the font lacks", poster.Poster{Font: f, QR: qr, Title: title, Lines: []string{"双方各得20积分 🎁"}}, "cannot draw \"🎁\""},
		{"no font", poster.Poster{QR: qr, Title: title}, "poster has no font"},
		{"no QR", poster.Poster{Font: f, Title: title}, "poster needs a QR image"},
		{"QR not an image", poster.Poster{Font: f, QR: []byte("not a png"), Title: title}, "poster QR image does not decode"},
		{"text too long", poster.Poster{Font: f, QR: qr, Title: title, Lines: []string{long}}, "poster text too long"},
		{"title too long", poster.Poster{Font: f, QR: qr, Title: long}, "poster title too long"},
	} {
		b, err := poster.Render(tc.p)
		if b != nil || errs.KindOf(err) != errs.Invalid || !strings.Contains(errs.SafeMessage(err), tc.msg) {
			t.Errorf("%s: %d bytes, %v; want Invalid with %q", tc.name, len(b), err, tc.msg)
		}
	}
}

func TestLoadFont(t *testing.T) {
	dir := t.TempDir()
	if _, err := poster.LoadFont(filepath.Join(dir, "none.ttc")); errs.KindOf(err) != errs.NotExist ||
		!strings.Contains(errs.SafeMessage(err), poster.FontEnv) {
		t.Errorf("missing font: %v, want NotExist naming %s", err, poster.FontEnv)
	}
	junk := filepath.Join(dir, "junk.ttf")
	if err := os.WriteFile(junk, []byte("this is not a font"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := poster.LoadFont(junk); errs.KindOf(err) != errs.Invalid {
		t.Errorf("junk font: %v, want Invalid", err)
	}
	ttf := filepath.Join(dir, "goregular.ttf")
	if err := os.WriteFile(ttf, goregular.TTF, 0o600); err != nil {
		t.Fatal(err)
	}
	if f, err := poster.LoadFont(ttf); err != nil || f.Name() != "Go Regular" {
		t.Errorf("single TTF: %v, %v", f, err)
	}
	if f := cjkFont(t); !strings.Contains(f.Name(), "WenQuanYi") && poster.FontPath(os.Getenv) == poster.DefaultFontPath {
		t.Errorf("default font is %q, want WenQuanYi Micro Hei from the collection", f.Name())
	}
	env := map[string]string{poster.FontEnv: "/fonts/x.otf"}
	if got := poster.FontPath(func(k string) string { return env[k] }); got != "/fonts/x.otf" {
		t.Errorf("FontPath = %q with %s set", got, poster.FontEnv)
	}
	if got := poster.FontPath(func(string) string { return "" }); got != poster.DefaultFontPath {
		t.Errorf("FontPath = %q unset, want %q", got, poster.DefaultFontPath)
	}
}

func BenchmarkRender(b *testing.B) {
	p := poster.Poster{Font: cjkFont(b), QR: qrPNG(b, content), Title: title, Lines: []string{benefit}, Nickname: nickname}
	var size int
	for b.Loop() {
		out, err := poster.Render(p)
		if err != nil {
			b.Fatal(err)
		}
		size = len(out)
	}
	b.ReportMetric(float64(size), "png-bytes")
}
