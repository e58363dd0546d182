// Package pii protects personal fields (phone, real name, birthday) at rest:
// it seals them with AES-256-GCM, hashes them with a keyed HMAC for lookups
// that must not reveal the value, and masks them for display.
package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"unicode/utf8"

	"github.com/wemember/wemember/shared/errs"
)

// Box seals and hashes personal fields under keys derived from one data key.
type Box struct {
	aead    cipher.AEAD
	hashKey []byte
}

// New derives the sealing and hashing keys from key (at least 32 bytes).
func New(key []byte) (*Box, error) {
	if len(key) < 32 {
		return nil, errs.E("pii.New", errs.Invalid, "data key shorter than 32 bytes")
	}
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	block, err := aes.NewCipher(derive("wemember/pii/seal"))
	if err != nil {
		return nil, errs.E("pii.New", errs.Internal, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, errs.E("pii.New", errs.Internal, err)
	}
	return &Box{aead: aead, hashKey: derive("wemember/pii/hash")}, nil
}

// Seal encrypts a value; the empty string seals to the empty string.
func (b *Box) Seal(plain string) string {
	if plain == "" {
		return ""
	}
	nonce := make([]byte, b.aead.NonceSize())
	rand.Read(nonce)
	return base64.RawStdEncoding.EncodeToString(b.aead.Seal(nonce, nonce, []byte(plain), nil))
}

// Open decrypts a sealed value; tampering is errs.Internal.
func (b *Box) Open(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	raw, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", errs.E("pii.Open", errs.Internal, "sealed value is malformed")
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", errs.E("pii.Open", errs.Internal, "sealed value does not open")
	}
	return string(plain), nil
}

// Hash is a keyed hash of a value within a domain ("phone", "code", …):
// stable for lookups, meaningless to anyone without the key.
func (b *Box) Hash(domain, value string) string {
	m := hmac.New(sha256.New, b.hashKey)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil)[:20])
}

// MaskPhone shows the first three and last four digits: 138****5678.
func MaskPhone(phone string) string {
	if len(phone) < 7 {
		return strings.Repeat("*", len(phone))
	}
	return phone[:3] + strings.Repeat("*", len(phone)-7) + phone[len(phone)-4:]
}

// MaskName keeps the first character: 张** .
func MaskName(name string) string {
	r, size := utf8.DecodeRuneInString(name)
	if r == utf8.RuneError {
		return ""
	}
	return string(r) + strings.Repeat("*", utf8.RuneCountInString(name[size:]))
}
