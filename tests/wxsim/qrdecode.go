package wxsim

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // Decodes JPEG answers too.
	_ "image/png"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// DecodeQR reads the QR code in an image (PNG or JPEG) and returns its
// text: tests use it to check that a code, a poster or a Sim's answer
// carries what it should. It fails when the image holds no readable QR code.
func DecodeQR(img []byte) (string, error) {
	m, _, err := image.Decode(bytes.NewReader(img))
	if err != nil {
		return "", fmt.Errorf("decode image: %w", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(m)
	if err != nil {
		return "", fmt.Errorf("binarize image: %w", err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return "", fmt.Errorf("read QR code: %w", err)
	}
	return res.GetText(), nil
}
