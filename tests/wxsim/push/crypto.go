package push

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	"github.com/silenceper/wechat/v2/util"
)

// sealer is WeChat's side of the WXBizMsgCrypt scheme, built on silenceper.
type sealer struct {
	token, receiver, aesKey string
}

// sign is the SHA-1 signature over the token and parts.
func (s sealer) sign(parts ...string) string {
	return util.Signature(append([]string{s.token}, parts...)...)
}

// encrypt seals msg for the receiver id: base64 of
// AES-CBC(random ‖ len ‖ msg ‖ receiver), as WeChat does.
func (s sealer) encrypt(msg []byte, rnd io.Reader) (string, error) {
	r, err := random16(rnd)
	if err != nil {
		return "", err
	}
	enc, err := util.EncryptMsg(r, msg, s.receiver, s.aesKey)
	if err != nil {
		return "", fmt.Errorf("push: encrypt: %w", err)
	}
	return string(enc), nil
}

// encryptRaw AES-CBC-encrypts b with no framing or padding (len(b) must be a
// multiple of 16) and base64-encodes it: for crafting bad ciphertexts.
func (s sealer) encryptRaw(b []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(s.aesKey + "=")
	if err != nil || len(key) != 32 {
		return "", errors.New("push: bad EncodingAESKey")
	}
	if len(b)%aes.BlockSize != 0 {
		return "", errors.New("push: raw plaintext is not whole blocks")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", fmt.Errorf("push: %w", err)
	}
	out := make([]byte, len(b))
	cipher.NewCBCEncrypter(block, key[:aes.BlockSize]).CryptBlocks(out, b)
	return base64.StdEncoding.EncodeToString(out), nil
}

// openReply checks an encrypted passive reply's MsgSignature and decrypts
// it, as WeChat does with what the server answers.
func (s sealer) openReply(body []byte) ([]byte, error) {
	var r encryptedReply
	if err := xml.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("push: reply is not XML: %w", err)
	}
	if r.Encrypt == "" {
		return nil, errors.New("push: reply has no Encrypt")
	}
	if r.MsgSignature != s.sign(r.TimeStamp, r.Nonce, r.Encrypt) {
		return nil, errors.New("push: reply MsgSignature does not match")
	}
	_, msg, err := util.DecryptMsg(s.receiver, r.Encrypt, s.aesKey)
	if err != nil {
		return nil, fmt.Errorf("push: decrypt reply: %w", err)
	}
	return msg, nil
}
