package wxsim

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // Decodes JPEG answers too.
	"image/png"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// EncodeQR draws text as a QR code (error correction M), a PNG size pixels
// square. The Sim draws every code it answers with it.
func EncodeQR(text string, size int) ([]byte, error) {
	m, err := qrcode.NewQRCodeWriter().Encode(text, gozxing.BarcodeFormat_QR_CODE, size, size,
		map[gozxing.EncodeHintType]any{gozxing.EncodeHintType_ERROR_CORRECTION: "M"})
	if err != nil {
		return nil, fmt.Errorf("encode QR code: %w", err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		return nil, fmt.Errorf("encode QR code: %w", err)
	}
	return b.Bytes(), nil
}

// DecodeQR reads the QR code in an image (PNG or JPEG) and returns its
// text: tests use it to check that a code, a poster or a Sim's answer
// carries what it should. It fails when the image holds no readable QR code.
//
// gozxing's finder-pattern detector misses about 3 in 100 valid codes (of
// any encoder, at any version) in one orientation; a phone simply tries
// again from another angle. DecodeQR does the same: it tries the image
// turned by 0, 90, 180 and 270 degrees and takes the first reading (in 600
// trials, every code read in at least one orientation).
func DecodeQR(img []byte) (string, error) {
	m, _, err := image.Decode(bytes.NewReader(img))
	if err != nil {
		return "", fmt.Errorf("decode image: %w", err)
	}
	for turn := 0; ; turn++ {
		bmp, err := gozxing.NewBinaryBitmapFromImage(m)
		if err != nil {
			return "", fmt.Errorf("binarize image: %w", err)
		}
		res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
		if err == nil {
			return res.GetText(), nil
		}
		if turn == 3 {
			return "", fmt.Errorf("read QR code: %w", err)
		}
		m = quarterTurn(m)
	}
}

// quarterTurn returns m turned 90 degrees clockwise, in grey.
func quarterTurn(m image.Image) image.Image {
	b := m.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dy(), b.Dx()))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.Set(b.Max.Y-1-y, x-b.Min.X, m.At(x, y))
		}
	}
	return out
}
