package wxoa

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/wemember/wemember/shared/errs"
)

// Limits on what the codec accepts, so no input makes it allocate without bound.
const (
	// MaxEncrypt is the longest base64 Encrypt value (or WeCom echostr) accepted.
	MaxEncrypt = 512 << 10
	// DefaultWindow is how far a push's timestamp may be from now.
	DefaultWindow = 5 * time.Minute

	blockSize = 32 // WXBizMsgCrypt pads to 32-byte blocks (PKCS#7).
	maxParam  = 128
)

// Codec is the WXBizMsgCrypt scheme that the Official Account and WeCom share:
// SHA-1 signatures over the sorted token, timestamp, nonce (and ciphertext),
// and AES-256-CBC (IV = first 16 key bytes) over
// random(16) ‖ len(4, big endian) ‖ msg ‖ receiver id, PKCS#7-padded to 32
// bytes. The receiver id is the appid (Official Account) or the corp id (WeCom).
// A Codec is safe for concurrent use.
type Codec struct {
	token    string
	receiver string
	key      []byte
	block    cipher.Block
}

// NewCodec checks the configuration and builds a Codec. An empty token or
// receiver id, or an EncodingAESKey that is not 43 base64 characters decoding
// to 32 bytes, is errs.Invalid; the message never contains the key.
func NewCodec(token, encodingAESKey, receiverID string) (*Codec, error) {
	const op = "wxoa.NewCodec"
	if token == "" {
		return nil, errs.E(op, errs.Invalid, "token is empty")
	}
	if receiverID == "" {
		return nil, errs.E(op, errs.Invalid, "receiver id (appid or corp id) is empty")
	}
	key, err := DecodeAESKey(encodingAESKey)
	if err != nil {
		return nil, errs.E(op, err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	return &Codec{token: token, receiver: receiverID, key: key, block: block}, nil
}

// DecodeAESKey turns a 43-character EncodingAESKey into the 32-byte AES key.
// Anything else is errs.Invalid.
func DecodeAESKey(encodingAESKey string) ([]byte, error) {
	const op = "wxoa.DecodeAESKey"
	if len(encodingAESKey) != 43 {
		return nil, errs.E(op, errs.Invalid, "EncodingAESKey must be 43 characters")
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, errs.E(op, errs.Invalid, "EncodingAESKey is not base64 of 32 bytes")
	}
	return key, nil
}

// Signature is the hex SHA-1 of the token and parts, sorted and concatenated:
// the `signature` of a plain push (parts = timestamp, nonce) and the
// `msg_signature` of an encrypted one (parts = timestamp, nonce, Encrypt).
func (c *Codec) Signature(parts ...string) string {
	all := make([]string, 0, len(parts)+1)
	all = append(all, c.token)
	all = append(all, parts...)
	slices.Sort(all)
	h := sha1.New()
	for _, p := range all {
		io.WriteString(h, p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Verify reports, in constant time, whether sig is the Signature of parts.
func (c *Codec) Verify(sig string, parts ...string) bool {
	if len(sig) != 40 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Signature(parts...)), []byte(sig)) == 1
}

// Decrypt opens a base64 Encrypt value and returns the message inside.
// Non-base64, truncated or badly padded ciphertext is errs.Invalid; a
// receiver id other than the configured one is errs.Unauthorized. Errors never
// carry decrypted bytes. Verify the signature before calling Decrypt.
func (c *Codec) Decrypt(encrypt string) ([]byte, error) {
	const op = "wxoa.Decrypt"
	if encrypt == "" {
		return nil, errs.E(op, errs.Invalid, "ciphertext is empty")
	}
	if len(encrypt) > MaxEncrypt {
		return nil, errs.E(op, errs.TooLarge, "ciphertext too long")
	}
	ct, err := base64.StdEncoding.DecodeString(encrypt)
	if err != nil {
		return nil, errs.E(op, errs.Invalid, "ciphertext is not base64")
	}
	if len(ct) == 0 || len(ct)%blockSize != 0 {
		return nil, errs.E(op, errs.Invalid, "ciphertext is truncated", fmt.Errorf("length %d", len(ct)))
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(c.block, c.key[:aes.BlockSize]).CryptBlocks(pt, ct)
	n, ok := unpad(pt)
	if !ok {
		return nil, errs.E(op, errs.Invalid, "ciphertext padding is wrong")
	}
	pt = pt[:n]
	if len(pt) < 20 {
		return nil, errs.E(op, errs.Invalid, "plaintext is truncated")
	}
	msgLen := uint64(binary.BigEndian.Uint32(pt[16:20]))
	if msgLen > uint64(len(pt)-20) {
		return nil, errs.E(op, errs.Invalid, "plaintext length field is wrong")
	}
	msg, receiver := pt[20:20+msgLen], pt[20+msgLen:]
	if subtle.ConstantTimeCompare(receiver, []byte(c.receiver)) != 1 {
		return nil, errs.E(op, errs.Unauthorized, "message is for another appid or corp id")
	}
	return msg, nil
}

// unpad checks PKCS#7 padding (1..32 bytes, all equal) without branching on
// the padding bytes, and returns the unpadded length.
func unpad(pt []byte) (int, bool) {
	pad := int(pt[len(pt)-1])
	if pad < 1 || pad > blockSize || pad > len(pt) {
		return 0, false
	}
	good := 1
	for i := len(pt) - blockSize; i < len(pt); i++ {
		inPad := subtle.ConstantTimeLessOrEq(len(pt)-pad, i)
		eq := subtle.ConstantTimeByteEq(pt[i], byte(pad))
		good &= eq | (1 - inPad)
	}
	return len(pt) - pad, good == 1
}

// Encrypt seals msg for the configured receiver id with the given 16 random
// bytes and returns the base64 Encrypt value.
func (c *Codec) Encrypt(random, msg []byte) (string, error) {
	if len(random) != 16 {
		return "", errs.E("wxoa.Encrypt", errs.Internal, "random must be 16 bytes")
	}
	n := 20 + len(msg) + len(c.receiver)
	pad := blockSize - n%blockSize // 1..32: a whole block when n is aligned.
	pt := make([]byte, n+pad)
	copy(pt, random)
	binary.BigEndian.PutUint32(pt[16:20], uint32(len(msg)))
	copy(pt[20:], msg)
	copy(pt[20+len(msg):], c.receiver)
	for i := n; i < len(pt); i++ {
		pt[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(c.block, c.key[:aes.BlockSize]).CryptBlocks(pt, pt)
	return base64.StdEncoding.EncodeToString(pt), nil
}

// EncryptedReply is the body of an encrypted passive reply.
type EncryptedReply struct {
	XMLName      xml.Name `xml:"xml"`
	Encrypt      string   `xml:"Encrypt"`
	MsgSignature string   `xml:"MsgSignature"`
	TimeStamp    int64    `xml:"TimeStamp"`
	Nonce        string   `xml:"Nonce"`
}

// Seal encrypts a plain reply and wraps it, signed, in the reply envelope
// <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>. rnd supplies the
// 16 random bytes and the nonce.
func (c *Codec) Seal(msg []byte, now time.Time, rnd io.Reader) ([]byte, error) {
	const op = "wxoa.Seal"
	var b [20]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return nil, errs.E(op, errs.Internal, "no randomness", err)
	}
	enc, err := c.Encrypt(b[:16], msg)
	if err != nil {
		return nil, errs.E(op, err)
	}
	ts := now.Unix()
	nonce := strconv.FormatUint(uint64(binary.BigEndian.Uint32(b[16:])), 10)
	out, err := xml.Marshal(EncryptedReply{
		Encrypt:      enc,
		MsgSignature: c.Signature(strconv.FormatInt(ts, 10), nonce, enc),
		TimeStamp:    ts,
		Nonce:        nonce,
	})
	if err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	return out, nil
}

// CheckFresh parses a push's timestamp (decimal Unix seconds) and refuses it
// with errs.Unauthorized when it is missing, malformed or further than window
// from now (DefaultWindow if window ≤ 0). A replayed push is refused by this.
func CheckFresh(timestamp string, now time.Time, window time.Duration) error {
	const op = "wxoa.CheckFresh"
	if window <= 0 {
		window = DefaultWindow
	}
	if !digits(timestamp, 12) {
		return errs.E(op, errs.Unauthorized, "timestamp is missing or malformed")
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errs.E(op, errs.Unauthorized, "timestamp is missing or malformed")
	}
	d := now.Unix() - ts
	if d < 0 {
		d = -d
	}
	if d > int64(window/time.Second) {
		return errs.E(op, errs.Unauthorized, "timestamp is stale")
	}
	return nil
}

// CheckParam refuses a query parameter that is empty or longer than 128 bytes
// (the nonce, a signature) with errs.Unauthorized, before any hashing.
func CheckParam(name, v string) error {
	if v == "" || len(v) > maxParam {
		return errs.E("wxoa.CheckParam", errs.Unauthorized, name+" is missing or too long")
	}
	return nil
}

func digits(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
