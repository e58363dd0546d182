// Package wxwork is the WeCom (企业微信) callback edge: it answers the URL
// verification GET, verifies msg_signature before decrypting any POSTed
// callback, checks the ReceiveId (corp id) and parses external-contact
// events. It uses wxoa's Codec, the WXBizMsgCrypt scheme both share.
package wxwork

import (
	"bytes"
	"crypto/rand"
	"encoding/xml"
	"io"
	"net/url"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/wxoa"
)

// MaxBody is the largest callback body Parse reads.
const MaxBody = 256 << 10

// Config is what the WeCom callback configuration (接收事件服务器) holds.
type Config struct {
	Token          string           // The Token set in the admin console.
	EncodingAESKey string           // 43 characters.
	CorpID         string           // The ReceiveId every callback must carry.
	Window         time.Duration    // Timestamp freshness; wxoa.DefaultWindow if zero.
	Now            func() time.Time // The clock; time.Now if nil.
	Rand           io.Reader        // Randomness for encrypted replies, safe for concurrent use; crypto/rand if nil.
}

// Server verifies, decrypts and parses WeCom callbacks. It is safe for
// concurrent use.
type Server struct {
	codec  *wxoa.Codec
	window time.Duration
	now    func() time.Time
	rand   io.Reader
}

// New checks cfg and builds a Server; a missing token or corp id or a bad
// EncodingAESKey is errs.Invalid.
func New(cfg Config) (*Server, error) {
	c, err := wxoa.NewCodec(cfg.Token, cfg.EncodingAESKey, cfg.CorpID)
	if err != nil {
		return nil, errs.E("wxwork.New", err)
	}
	s := &Server{codec: c, window: cfg.Window, now: cfg.Now, rand: cfg.Rand}
	if s.window <= 0 {
		s.window = wxoa.DefaultWindow
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	return s, nil
}

// verify checks the timestamp, nonce and msg_signature over token,
// timestamp, nonce and the given ciphertext.
func (s *Server) verify(q url.Values, encrypt string) error {
	const op = "wxwork.verify"
	ts, nonce, sig := q.Get("timestamp"), q.Get("nonce"), q.Get("msg_signature")
	for _, p := range [][2]string{{"msg_signature", sig}, {"nonce", nonce}, {"timestamp", ts}} {
		if err := wxoa.CheckParam(p[0], p[1]); err != nil {
			return errs.E(op, err)
		}
	}
	if !s.codec.Verify(sig, ts, nonce, encrypt) {
		return errs.E(op, errs.Unauthorized, "msg_signature does not match")
	}
	if err := wxoa.CheckFresh(ts, s.now(), s.window); err != nil {
		return errs.E(op, err)
	}
	return nil
}

// VerifyURL answers the verification GET: it checks msg_signature over
// token, timestamp, nonce and echostr, decrypts echostr, checks the corp id
// and returns the plaintext, to be written back byte-exact (no quotes, BOM or
// newline). A bad signature, stale timestamp or other corp id is
// errs.Unauthorized; a missing or undecryptable echostr is errs.Invalid.
func (s *Server) VerifyURL(q url.Values) ([]byte, error) {
	const op = "wxwork.VerifyURL"
	echo := q.Get("echostr")
	if echo == "" {
		return nil, errs.E(op, errs.Invalid, "echostr is missing")
	}
	if len(echo) > wxoa.MaxEncrypt {
		return nil, errs.E(op, errs.TooLarge, "echostr too long")
	}
	if err := s.verify(q, echo); err != nil {
		return nil, errs.E(op, err)
	}
	msg, err := s.codec.Decrypt(echo)
	if err != nil {
		return nil, errs.E(op, err)
	}
	return msg, nil
}

// envelope is the outer body of a callback. AgentID is unsigned and unused.
type envelope struct {
	XMLName    xml.Name `xml:"xml"`
	ToUserName string   `xml:"ToUserName"`
	Encrypt    string   `xml:"Encrypt"`
}

// Parse verifies and parses a POSTed callback: msg_signature over token,
// timestamp, nonce and Encrypt is checked BEFORE anything is decrypted, then
// the corp id inside, then the event.
//
// Errors: a bad or missing signature, a stale timestamp or another corp id is
// errs.Unauthorized; malformed XML, bad ciphertext and an external-contact
// event without its ids are errs.Invalid; an oversized body is
// errs.TooLarge. Messages never include the decrypted payload.
func (s *Server) Parse(q url.Values, body []byte) (*Event, error) {
	const op = "wxwork.Parse"
	if len(body) > MaxBody {
		return nil, errs.E(op, errs.TooLarge, "callback body too large")
	}
	var env envelope
	if err := xml.NewDecoder(bytes.NewReader(body)).Decode(&env); err != nil {
		return nil, errs.E(op, errs.Invalid, "callback body is not valid XML")
	}
	if env.Encrypt == "" {
		return nil, errs.E(op, errs.Invalid, "callback body has no Encrypt")
	}
	if err := s.verify(q, env.Encrypt); err != nil {
		return nil, errs.E(op, err)
	}
	plain, err := s.codec.Decrypt(env.Encrypt)
	if err != nil {
		return nil, errs.E(op, err)
	}
	ev, err := decodeEvent(plain)
	if err != nil {
		return nil, errs.E(op, err)
	}
	return ev, nil
}

// Reply seals a plain passive reply XML into the encrypted envelope WeCom
// expects (Encrypt, MsgSignature, TimeStamp, Nonce). External-contact
// events need no reply: answer an empty 200 (or "success") instead.
func (s *Server) Reply(plainXML []byte) ([]byte, error) {
	out, err := s.codec.Seal(plainXML, s.now(), s.rand)
	if err != nil {
		return nil, errs.E("wxwork.Reply", err)
	}
	return out, nil
}
