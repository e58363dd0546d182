// Package wxoa is the Official Account (公众号) push edge: it checks the URL
// verification GET, verifies and (in compatibility and safe mode) decrypts
// the pushes WeChat POSTs, parses them into a Message, and builds passive
// replies. It knows nothing about members; it only turns pushes into trusted
// values. The WXBizMsgCrypt Codec here is shared with package wxwork.
package wxoa

import (
	"bytes"
	"crypto/rand"
	"encoding/xml"
	"io"
	"net/url"
	"time"

	"github.com/wemember/wemember/shared/errs"
)

// MaxBody is the largest push body Parse reads; the web.Limit middleware
// should refuse larger bodies first.
const MaxBody = 256 << 10

// Config is what the Official Account's server configuration (服务器配置) holds.
type Config struct {
	Token          string           // The Token set in the console.
	EncodingAESKey string           // 43 characters; needed for compatibility and safe mode.
	AppID          string           // The appid every encrypted push must carry.
	Window         time.Duration    // Timestamp freshness; DefaultWindow if zero.
	Now            func() time.Time // The clock; time.Now if nil.
	Rand           io.Reader        // Randomness for encrypted replies, safe for concurrent use; crypto/rand if nil.
	// RequireAES refuses plain-mode pushes (errs.Unauthorized). A plain
	// body is not covered by any signature, so production accounts should
	// run in safe mode with this set.
	RequireAES bool
}

// Server verifies, decrypts and parses Official Account pushes. It is safe
// for concurrent use.
type Server struct {
	codec  *Codec
	window time.Duration
	now    func() time.Time
	rand   io.Reader
	aes    bool
}

// New checks cfg and builds a Server; a missing token or appid or a bad
// EncodingAESKey is errs.Invalid.
func New(cfg Config) (*Server, error) {
	c, err := NewCodec(cfg.Token, cfg.EncodingAESKey, cfg.AppID)
	if err != nil {
		return nil, errs.E("wxoa.New", err)
	}
	s := &Server{codec: c, window: cfg.Window, now: cfg.Now, rand: cfg.Rand, aes: cfg.RequireAES}
	if s.window <= 0 {
		s.window = DefaultWindow
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	return s, nil
}

// VerifyURL answers the GET WeChat sends when the server URL is saved: it
// checks `signature` over token, timestamp and nonce and the timestamp's
// freshness, and returns echostr, to be written back verbatim as text/plain.
// A bad signature or stale timestamp is errs.Unauthorized; a missing or
// oversized echostr is errs.Invalid.
func (s *Server) VerifyURL(q url.Values) (string, error) {
	const op = "wxoa.VerifyURL"
	if err := s.checkSignature(q); err != nil {
		return "", errs.E(op, err)
	}
	echo := q.Get("echostr")
	if echo == "" || len(echo) > maxParam {
		return "", errs.E(op, errs.Invalid, "echostr is missing or too long")
	}
	return echo, nil
}

// checkSignature verifies the plain `signature` and the timestamp.
func (s *Server) checkSignature(q url.Values) error {
	ts, nonce, sig := q.Get("timestamp"), q.Get("nonce"), q.Get("signature")
	if err := CheckParam("signature", sig); err != nil {
		return err
	}
	if err := CheckParam("nonce", nonce); err != nil {
		return err
	}
	if err := CheckParam("timestamp", ts); err != nil {
		return err
	}
	if !s.codec.Verify(sig, ts, nonce) {
		return errs.E("wxoa.checkSignature", errs.Unauthorized, "signature does not match")
	}
	return CheckFresh(ts, s.now(), s.window)
}

// envelope is the outer body of an encrypted push. In compatibility mode it
// also holds the plain fields, which are unsigned and therefore ignored.
type envelope struct {
	XMLName    xml.Name `xml:"xml"`
	ToUserName string   `xml:"ToUserName"`
	Encrypt    string   `xml:"Encrypt"`
}

// Parse verifies and parses a POSTed push given its query and body.
//
// Plain mode (no encrypt_type, or "raw"): `signature` over token, timestamp,
// nonce. Compatibility and safe mode (encrypt_type=aes): `signature` as
// above and `msg_signature` over token, timestamp, nonce and Encrypt are both
// checked before anything is decrypted; only the decrypted message is used.
//
// Errors: bad or missing signatures, a stale timestamp and another appid are
// errs.Unauthorized; malformed XML, bad ciphertext and missing required
// fields are errs.Invalid; an oversized body is errs.TooLarge. Messages are
// fixed strings and never include the decrypted payload.
func (s *Server) Parse(q url.Values, body []byte) (*Message, error) {
	const op = "wxoa.Parse"
	if len(body) > MaxBody {
		return nil, errs.E(op, errs.TooLarge, "push body too large")
	}
	if err := s.checkSignature(q); err != nil {
		return nil, errs.E(op, err)
	}
	plain, encrypted := body, false
	switch q.Get("encrypt_type") {
	case "", "raw":
		if s.aes {
			return nil, errs.E(op, errs.Unauthorized, "plain pushes are refused; encrypt_type=aes required")
		}
	case "aes":
		msg, err := s.open(q, body)
		if err != nil {
			return nil, errs.E(op, err)
		}
		plain, encrypted = msg, true
	default:
		return nil, errs.E(op, errs.Invalid, "unknown encrypt_type")
	}
	m, err := decodeMessage(plain)
	if err != nil {
		return nil, errs.E(op, err)
	}
	m.Encrypted = encrypted
	return m, nil
}

// open checks msg_signature over the envelope's Encrypt, then decrypts it.
func (s *Server) open(q url.Values, body []byte) ([]byte, error) {
	const op = "wxoa.open"
	msgSig := q.Get("msg_signature")
	if err := CheckParam("msg_signature", msgSig); err != nil {
		return nil, err
	}
	var env envelope
	if err := xml.NewDecoder(bytes.NewReader(body)).Decode(&env); err != nil {
		return nil, errs.E(op, errs.Invalid, "push body is not valid XML")
	}
	if env.Encrypt == "" {
		return nil, errs.E(op, errs.Invalid, "push body has no Encrypt")
	}
	if !s.codec.Verify(msgSig, q.Get("timestamp"), q.Get("nonce"), env.Encrypt) {
		return nil, errs.E(op, errs.Unauthorized, "msg_signature does not match")
	}
	return s.codec.Decrypt(env.Encrypt)
}
