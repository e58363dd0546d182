package poster

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg" // The QR code may come as a JPEG.
	"image/png"
	"strings"
	"unicode/utf8"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/wemember/wemember/shared/errs"
)

// The poster's size: WeChat's share poster, 750×1334 pixels.
const (
	Width  = 750
	Height = 1334
)

// Poster is what a share poster shows.
type Poster struct {
	Font     *Font    // From LoadFont.
	QR       []byte   // The code to scan, a PNG or JPEG image.
	Title    string   // E.g. "邀请好友注册"; at most two lines.
	Lines    []string // The benefit text, e.g. "邀请好友注册，双方各得20积分"; each wraps by width.
	Nickname string   // The inviter's nickname, already masked.
}

// Limits of the text, so that a poster never overflows its space.
const (
	maxTitleLines = 2
	maxBodyLines  = 6
	maxQRInput    = 4 << 20 // Bytes of the QR image.
)

// Layout, in pixels.
const (
	margin     = 60
	titleSize  = 52
	bodySize   = 32
	nickSize   = 28
	titleTop   = 150
	qrSide     = 400
	qrTop      = 800
	captionTop = qrTop + qrSide + 30
)

// The words drawn around the member's own text.
const (
	inviteFormat = "%s 邀请你加入"
	caption      = "长按识别二维码"
)

var (
	background = color.RGBA{0xFF, 0xF7, 0xEC, 0xFF}
	band       = color.RGBA{0xE8, 0x4A, 0x3C, 0xFF}
	titleInk   = color.RGBA{0xFF, 0xFF, 0xFF, 0xFF}
	bodyInk    = color.RGBA{0x33, 0x33, 0x33, 0xFF}
	mutedInk   = color.RGBA{0x88, 0x88, 0x88, 0xFF}
)

// noLineStart are the characters that Chinese typesetting keeps off the
// start of a line: they stay at the end of the line before.
const noLineStart = "，。、；：！？）》」』”’,.;:!?)"

// Render draws the poster as a PNG. Errors: errs.Invalid for a missing font,
// a QR image that does not decode, text the font has no glyph for (named in
// the message) or text too long for its space.
func Render(p Poster) ([]byte, error) {
	const op = "poster.Render"
	if p.Font == nil {
		return nil, errs.E(op, errs.Invalid, "poster has no font")
	}
	if len(p.QR) == 0 || len(p.QR) > maxQRInput {
		return nil, errs.E(op, errs.Invalid, "poster needs a QR image of at most 4 MiB")
	}
	qr, _, err := image.Decode(bytes.NewReader(p.QR))
	if err != nil {
		return nil, errs.E(op, errs.Invalid, "poster QR image does not decode", err)
	}
	invite := ""
	if p.Nickname != "" {
		invite = fmt.Sprintf(inviteFormat, p.Nickname)
	}
	all := strings.Join(append([]string{p.Title, invite, caption}, p.Lines...), "")
	if missing := p.Font.Missing(all); len(missing) > 0 {
		return nil, errs.E(op, errs.Invalid, fmt.Sprintf("poster font %q cannot draw %q", p.Font.Name(), string(missing)))
	}

	faces, err := newFaces(p.Font)
	if err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	defer faces.close()
	textWidth := fixed.I(Width - 2*margin)
	title := wrap(faces.title, p.Title, textWidth)
	if len(title) > maxTitleLines {
		return nil, errs.E(op, errs.Invalid, "poster title too long")
	}
	var body []string
	for _, l := range p.Lines {
		body = append(body, wrap(faces.body, l, textWidth)...)
	}
	if len(body) > maxBodyLines {
		return nil, errs.E(op, errs.Invalid, "poster text too long")
	}

	img := image.NewRGBA(image.Rect(0, 0, Width, Height))
	draw.Draw(img, img.Bounds(), image.NewUniform(background), image.Point{}, draw.Src)
	bandBottom := titleTop + len(title)*lineHeight(titleSize) + 40
	draw.Draw(img, image.Rect(0, 0, Width, bandBottom), image.NewUniform(band), image.Point{}, draw.Src)

	y := titleTop
	for _, l := range title {
		drawCentered(img, faces.title, titleInk, l, y)
		y += lineHeight(titleSize)
	}
	y = bandBottom + 80
	for _, l := range body {
		drawCentered(img, faces.body, bodyInk, l, y)
		y += lineHeight(bodySize)
	}
	if invite != "" {
		drawCentered(img, faces.nick, mutedInk, invite, qrTop-50)
	}

	// A white square with a quiet zone, the code scaled without smoothing
	// so its modules stay sharp.
	qrRect := image.Rect((Width-qrSide)/2, qrTop, (Width+qrSide)/2, qrTop+qrSide)
	draw.Draw(img, qrRect.Inset(-20), image.White, image.Point{}, draw.Src)
	xdraw.NearestNeighbor.Scale(img, qrRect, qr, qr.Bounds(), draw.Over, nil)
	drawCentered(img, faces.nick, mutedInk, caption, captionTop+nickSize)

	var out bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&out, img); err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	return out.Bytes(), nil
}

// faces are one Render's font faces; a face is not safe for concurrent use.
type faces struct{ title, body, nick font.Face }

func newFaces(f *Font) (*faces, error) {
	mk := func(size float64) (font.Face, error) {
		return opentype.NewFace(f.f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	}
	var fs faces
	var err error
	if fs.title, err = mk(titleSize); err != nil {
		return nil, err
	}
	if fs.body, err = mk(bodySize); err != nil {
		return nil, err
	}
	if fs.nick, err = mk(nickSize); err != nil {
		return nil, err
	}
	return &fs, nil
}

func (fs *faces) close() {
	fs.title.Close()
	fs.body.Close()
	fs.nick.Close()
}

// lineHeight is the distance between baselines for a font size.
func lineHeight(size int) int { return size * 3 / 2 }

// drawCentered draws s centered across the poster with its baseline at y.
func drawCentered(dst draw.Image, face font.Face, ink color.Color, s string, y int) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(ink), Face: face}
	w := d.MeasureString(s)
	d.Dot = fixed.Point26_6{X: (fixed.I(Width) - w) / 2, Y: fixed.I(y)}
	d.DrawString(s)
}

// wrap breaks s into lines no wider than width: at a space where a line has
// one, else between any two characters (Chinese has no spaces), keeping
// closing punctuation off the start of a line.
func wrap(face font.Face, s string, width fixed.Int26_6) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	var lines []string
	for s != "" {
		cut := fit(face, s, width)
		if cut < len(s) {
			if sp := strings.LastIndexByte(s[:cut], ' '); sp > 0 {
				cut = sp
			}
			// Pull closing punctuation up onto this line; a character
			// or so over the width reads better than a line that starts
			// with "，".
			for cut < len(s) {
				r, n := utf8.DecodeRuneInString(s[cut:])
				if !strings.ContainsRune(noLineStart, r) {
					break
				}
				cut += n
			}
		}
		lines = append(lines, strings.TrimSpace(s[:cut]))
		s = strings.TrimSpace(s[cut:])
	}
	return lines
}

// fit returns the byte length of the longest prefix of s, at least one
// character, that is no wider than width.
func fit(face font.Face, s string, width fixed.Int26_6) int {
	var w fixed.Int26_6
	prev := rune(-1)
	for i, r := range s {
		if prev >= 0 {
			w += face.Kern(prev, r)
		}
		a, _ := face.GlyphAdvance(r)
		if w+a > width && i > 0 {
			return i
		}
		w += a
		prev = r
	}
	return len(s)
}
