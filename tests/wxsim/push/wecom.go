package push

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// WeCom builds WeCom callbacks for one corp.
type WeCom struct {
	Token          string
	CorpID         string
	EncodingAESKey string
	AgentID        string           // The envelope's AgentID; DefaultWeComAgentID if empty.
	Now            func() time.Time // time.Now if nil.
	Rand           io.Reader        // crypto/rand if nil.
}

// DefaultWeCom is the corp the local runner configures.
func DefaultWeCom() WeCom {
	return WeCom{Token: DefaultWeComToken, CorpID: DefaultWeComCorpID, EncodingAESKey: DefaultWeComAESKey, AgentID: DefaultWeComAgentID}
}

// WeComEvent is the plain content of an external-contact callback; zero
// fields are left out (FromUserName "sys", MsgType "event" and Event
// "change_external_contact" by default).
type WeComEvent struct {
	FromUserName   string
	CreateTime     int64 // The builder's clock if zero.
	MsgType        string
	Event          string
	ChangeType     string
	UserID         string
	ExternalUserID string
	State          string
	WelcomeCode    string
	Source         string
}

// WeComAdd is add_external_contact: a customer added staff member userID
// through a contact way carrying state.
func WeComAdd(userID, externalUserID, state string) WeComEvent {
	return WeComEvent{ChangeType: "add_external_contact", UserID: userID, ExternalUserID: externalUserID,
		State: state, WelcomeCode: "WELCOMECODE-" + externalUserID}
}

// WeComDelFollow is del_follow_user: the customer deleted the staff member.
func WeComDelFollow(userID, externalUserID string) WeComEvent {
	return WeComEvent{ChangeType: "del_follow_user", UserID: userID, ExternalUserID: externalUserID}
}

func (w WeCom) sealer() sealer {
	return sealer{token: w.Token, receiver: w.CorpID, aesKey: w.EncodingAESKey}
}

type weComXML struct {
	XMLName        xml.Name `xml:"xml"`
	ToUserName     *cdata   `xml:"ToUserName"`
	FromUserName   *cdata   `xml:"FromUserName"`
	CreateTime     int64    `xml:"CreateTime"`
	MsgType        *cdata   `xml:"MsgType"`
	Event          *cdata   `xml:"Event"`
	ChangeType     *cdata   `xml:"ChangeType"`
	UserID         *cdata   `xml:"UserID"`
	ExternalUserID *cdata   `xml:"ExternalUserID"`
	State          *cdata   `xml:"State"`
	WelcomeCode    *cdata   `xml:"WelcomeCode"`
	Source         *cdata   `xml:"Source"`
}

type weComEnvelope struct {
	XMLName    xml.Name `xml:"xml"`
	ToUserName cdata    `xml:"ToUserName"`
	AgentID    cdata    `xml:"AgentID"`
	Encrypt    cdata    `xml:"Encrypt"`
}

// XML is the plain event XML of ev.
func (w WeCom) XML(ev WeComEvent) ([]byte, error) {
	def := func(s, d string) string {
		if s == "" {
			return d
		}
		return s
	}
	if ev.CreateTime == 0 {
		ev.CreateTime = clock(w.Now).Unix()
	}
	b, err := xml.Marshal(weComXML{
		ToUserName: cd(w.CorpID), FromUserName: cd(def(ev.FromUserName, "sys")), CreateTime: ev.CreateTime,
		MsgType: cd(def(ev.MsgType, "event")), Event: cd(def(ev.Event, "change_external_contact")),
		ChangeType: cd(ev.ChangeType), UserID: cd(ev.UserID), ExternalUserID: cd(ev.ExternalUserID),
		State: cd(ev.State), WelcomeCode: cd(ev.WelcomeCode), Source: cd(ev.Source),
	})
	if err != nil {
		return nil, fmt.Errorf("push: marshal: %w", err)
	}
	return b, nil
}

// Encrypt seals plain XML for the corp id (base64 Encrypt).
func (w WeCom) Encrypt(msg []byte) (string, error) { return w.sealer().encrypt(msg, w.Rand) }

// EncryptRaw encrypts whole blocks with no framing or padding: for tests
// that need ciphertext with bad padding or a bad length field.
func (w WeCom) EncryptRaw(b []byte) (string, error) { return w.sealer().encryptRaw(b) }

// Build turns ev into the POST WeCom sends to target.
func (w WeCom) Build(target string, ev WeComEvent) (*Push, error) {
	plain, err := w.XML(ev)
	if err != nil {
		return nil, err
	}
	enc, err := w.Encrypt(plain)
	if err != nil {
		return nil, err
	}
	return w.Wrap(target, enc)
}

// Wrap signs an arbitrary Encrypt value and posts it in the callback
// envelope <xml><ToUserName/><AgentID/><Encrypt/></xml>.
func (w WeCom) Wrap(target, encrypt string) (*Push, error) {
	agent := w.AgentID
	if agent == "" {
		agent = DefaultWeComAgentID
	}
	body, err := xml.Marshal(weComEnvelope{ToUserName: cdata{w.CorpID}, AgentID: cdata{agent}, Encrypt: cdata{encrypt}})
	if err != nil {
		return nil, fmt.Errorf("push: marshal: %w", err)
	}
	u, err := w.signed(target, encrypt, nil)
	if err != nil {
		return nil, err
	}
	return &Push{Method: http.MethodPost, URL: u, Body: body}, nil
}

// signed is target with msg_signature, timestamp and nonce over encrypt, plus extra.
func (w WeCom) signed(target, encrypt string, extra url.Values) (*url.URL, error) {
	n, err := nonce(w.Rand)
	if err != nil {
		return nil, err
	}
	ts := strconv.FormatInt(clock(w.Now).Unix(), 10)
	q := url.Values{"msg_signature": {w.sealer().sign(ts, n, encrypt)}, "timestamp": {ts}, "nonce": {n}}
	for k, v := range extra {
		q[k] = v
	}
	return withQuery(target, q)
}

// VerifyURL is the GET WeCom sends when the callback URL is saved: echo is
// encrypted into echostr, and the server must answer echo byte-exact.
func (w WeCom) VerifyURL(target string, echo []byte) (*Push, error) {
	enc, err := w.Encrypt(echo)
	if err != nil {
		return nil, err
	}
	return w.VerifyURLRaw(target, enc)
}

// VerifyURLRaw is VerifyURL with an arbitrary, correctly signed echostr.
func (w WeCom) VerifyURLRaw(target, echostr string) (*Push, error) {
	u, err := w.signed(target, echostr, url.Values{"echostr": {echostr}})
	if err != nil {
		return nil, err
	}
	return &Push{Method: http.MethodGet, URL: u}, nil
}

// OpenReply checks an encrypted passive reply's MsgSignature and returns the
// plain XML inside.
func (w WeCom) OpenReply(body []byte) ([]byte, error) { return w.sealer().openReply(body) }
