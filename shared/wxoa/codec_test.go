package wxoa_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/silenceper/wechat/v2/util"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/wxoa"
)

// TestCodecOfficialVector opens the official WXBizMsgCrypt sample message
// (token QDG6eK, receiver wx5823bf96d3bd56c7), written by Tencent's own code.
func TestCodecOfficialVector(t *testing.T) {
	const enc = "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
	c, err := wxoa.NewCodec("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Verify("477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149", enc) {
		t.Error("official msg_signature does not verify")
	}
	if c.Verify("477715d11cdb4164915debcba66cb864d751f3e7", "1409659813", "1372623149", enc) {
		t.Error("a changed msg_signature verifies")
	}
	msg, err := c.Decrypt(enc)
	if err != nil || !strings.Contains(string(msg), "<Content><![CDATA[hello]]></Content>") || !strings.HasSuffix(string(msg), "</xml>") {
		t.Errorf("Decrypt = %q, %v", msg, err)
	}
	other, _ := wxoa.NewCodec("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx0000000000000000")
	if _, err := other.Decrypt(enc); !errs.Is(errs.Unauthorized, err) {
		t.Errorf("Decrypt for another receiver err = %v, want unauthorized", err)
	}
}

// TestCodecMatchesSDK checks the codec signs and seals exactly as the
// WeChat SDK does, for messages of every length around the block size.
func TestCodecMatchesSDK(t *testing.T) {
	const token, aesKey, receiver = "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7"
	c, err := wxoa.NewCodec(token, aesKey, receiver)
	if err != nil {
		t.Fatal(err)
	}
	key, err := wxoa.DecodeAESKey(aesKey)
	if err != nil {
		t.Fatal(err)
	}
	random := []byte("0123456789abcdef")
	for n := 0; n < 80; n++ {
		msg := []byte(strings.Repeat("x", n))
		got, err := c.Encrypt(random, msg)
		if err != nil {
			t.Fatalf("Encrypt(%d bytes): %v", n, err)
		}
		if want := base64.StdEncoding.EncodeToString(util.AESEncryptMsg(random, msg, receiver, key)); got != want {
			t.Errorf("Encrypt(%d bytes) = %s, want %s", n, got, want)
		}
		if back, err := c.Decrypt(got); err != nil || string(back) != string(msg) {
			t.Errorf("Decrypt(Encrypt(%d bytes)) = %q, %v", n, back, err)
		}
	}
	parts := []string{"1409659813", "1372623149", "b", "a", ""}
	if got, want := c.Signature(parts...), util.Signature(append([]string{token}, parts...)...); got != want {
		t.Errorf("Signature = %s, want %s", got, want)
	}
}
