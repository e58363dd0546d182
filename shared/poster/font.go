// Package poster draws a member's share poster: a PNG of the WeChat poster
// size (750×1334) with a title, the benefit text in Chinese, the inviter's
// masked nickname and the QR code (or mini-program code) that carries the
// invitation. It is an edge over golang.org/x/image, not a domain package:
// the font is a file named by configuration, parsed once by LoadFont, and
// text the font cannot draw is refused rather than drawn as empty boxes.
package poster

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"

	"github.com/wemember/wemember/shared/errs"
)

// FontEnv is the environment variable that names the poster font file.
const FontEnv = "WEMEMBER_POSTER_FONT"

// DefaultFontPath is the font used when FontEnv is unset: WenQuanYi Micro
// Hei as Debian's fonts-wqy-microhei installs it.
const DefaultFontPath = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"

// FontPath returns the configured font path: getenv(FontEnv), or
// DefaultFontPath when it is empty. Pass os.Getenv.
func FontPath(getenv func(string) string) string {
	if p := getenv(FontEnv); p != "" {
		return p
	}
	return DefaultFontPath
}

// Font is a parsed font. It is safe for concurrent use: every Render makes
// its own faces.
type Font struct {
	f    *opentype.Font
	name string
}

// LoadFont reads and parses the font file at path: a TrueType or OpenType
// font (.ttf, .otf) or a collection (.ttc, .otc), of which the first font is
// used. Call it once at start-up. Errors: errs.NotExist for a missing file,
// errs.Invalid for a file that is no font, errs.Internal when it cannot be
// read.
func LoadFont(path string) (*Font, error) {
	const op = "poster.LoadFont"
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, errs.E(op, errs.NotExist, fmt.Sprintf("poster font %s not found (set %s, or install fonts-wqy-microhei)", path, FontEnv), err)
	case err != nil:
		return nil, errs.E(op, errs.Internal, "poster font cannot be read", err)
	}
	f, err := ParseFont(data)
	if err != nil {
		return nil, errs.E(op, fmt.Errorf("%s: %w", path, err))
	}
	return f, nil
}

// ParseFont parses font data as LoadFont does; the data must not change
// while the Font is in use. A font whose tables are not aligned as sfnt
// wants (see realign) is copied into one that is. Errors: errs.Invalid for
// data that is no font.
func ParseFont(data []byte) (*Font, error) {
	const op = "poster.ParseFont"
	f, err := first(data)
	if err != nil {
		aligned, rerr := realign(data)
		if rerr != nil {
			return nil, errs.E(op, errs.Invalid, "poster font is not a TrueType or OpenType font", err)
		}
		f, err = first(aligned)
	}
	if err != nil {
		return nil, errs.E(op, errs.Invalid, "poster font is not a TrueType or OpenType font", err)
	}
	name, _ := f.Name(nil, sfnt.NameIDFull)
	return &Font{f: f, name: name}, nil
}

// first parses the first font of a font or a collection.
func first(data []byte) (*opentype.Font, error) {
	c, err := opentype.ParseCollection(data)
	if err != nil {
		return nil, err
	}
	return c.Font(0)
}

// Name is the font's full name, e.g. "WenQuanYi Micro Hei".
func (f *Font) Name() string { return f.name }

// GlyphIndex is the font's glyph for r; 0 means the font has none and would
// draw r as an empty box.
func (f *Font) GlyphIndex(r rune) sfnt.GlyphIndex {
	var buf sfnt.Buffer
	gi, err := f.f.GlyphIndex(&buf, r)
	if err != nil {
		return 0
	}
	return gi
}

// Missing returns the distinct characters of s, in order, that the font has
// no glyph for (spaces aside); nil when it can draw all of s.
func (f *Font) Missing(s string) []rune {
	var out []rune
	for _, r := range s {
		if r == ' ' || strings.ContainsRune(string(out), r) {
			continue
		}
		if f.GlyphIndex(r) == 0 {
			out = append(out, r)
		}
	}
	return out
}
