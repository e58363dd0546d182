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

// OA builds Official Account pushes for one account.
type OA struct {
	Token          string
	AppID          string
	EncodingAESKey string
	OriginalID     string           // ToUserName (gh_…); DefaultOAOriginalID if empty.
	Mode           Mode             // Safe unless set.
	Now            func() time.Time // time.Now if nil.
	Rand           io.Reader        // crypto/rand if nil.
}

// DefaultOA is the account the local runner configures, in safe mode.
func DefaultOA() OA {
	return OA{Token: DefaultOAToken, AppID: DefaultOAAppID, EncodingAESKey: DefaultOAAESKey, OriginalID: DefaultOAOriginalID}
}

// OAEvent is the plain content of a push; zero fields are left out.
type OAEvent struct {
	OpenID     string // FromUserName.
	CreateTime int64  // Unix seconds; the builder's clock if zero.
	MsgType    string // "event" if empty.
	Event      string
	EventKey   string
	Ticket     string
	Content    string
	MsgID      int64
}

// OAScan is the SCAN event of a follower scanning a parameterized QR code.
func OAScan(openid, scene string) OAEvent {
	return OAEvent{OpenID: openid, Event: "SCAN", EventKey: scene, Ticket: "gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2tUTXBFQ2psb1dRbGsxNjN3RzFfAAIEAAAAAAMEAAAAAA=="}
}

// OASubscribe is a subscribe event; with a scene it came through a QR code
// and EventKey is "qrscene_<scene>".
func OASubscribe(openid, scene string) OAEvent {
	ev := OAEvent{OpenID: openid, Event: "subscribe"}
	if scene != "" {
		ev.EventKey = "qrscene_" + scene
		ev.Ticket = OAScan(openid, scene).Ticket
	}
	return ev
}

// OAUnsubscribe is an unsubscribe event.
func OAUnsubscribe(openid string) OAEvent {
	return OAEvent{OpenID: openid, Event: "unsubscribe"}
}

// OAText is a text message from a follower.
func OAText(openid, content string, msgID int64) OAEvent {
	return OAEvent{OpenID: openid, MsgType: "text", Content: content, MsgID: msgID}
}

func (o OA) sealer() sealer {
	return sealer{token: o.Token, receiver: o.AppID, aesKey: o.EncodingAESKey}
}

func (o OA) originalID() string {
	if o.OriginalID == "" {
		return DefaultOAOriginalID
	}
	return o.OriginalID
}

// oaXML is a push as WeChat writes it; Encrypt is set only in compat mode.
type oaXML struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   *cdata   `xml:"ToUserName"`
	FromUserName *cdata   `xml:"FromUserName"`
	CreateTime   int64    `xml:"CreateTime"`
	MsgType      *cdata   `xml:"MsgType"`
	Event        *cdata   `xml:"Event"`
	EventKey     *cdata   `xml:"EventKey"`
	Ticket       *cdata   `xml:"Ticket"`
	Content      *cdata   `xml:"Content"`
	MsgID        int64    `xml:"MsgId,omitempty"`
	Encrypt      *cdata   `xml:"Encrypt"`
}

func (o OA) wire(ev OAEvent) oaXML {
	if ev.CreateTime == 0 {
		ev.CreateTime = clock(o.Now).Unix()
	}
	if ev.MsgType == "" {
		ev.MsgType = "event"
	}
	return oaXML{
		ToUserName: cd(o.originalID()), FromUserName: cd(ev.OpenID), CreateTime: ev.CreateTime,
		MsgType: cd(ev.MsgType), Event: cd(ev.Event), EventKey: cd(ev.EventKey),
		Ticket: cd(ev.Ticket), Content: cd(ev.Content), MsgID: ev.MsgID,
	}
}

// XML is the plain message XML of ev.
func (o OA) XML(ev OAEvent) ([]byte, error) {
	b, err := xml.Marshal(o.wire(ev))
	if err != nil {
		return nil, fmt.Errorf("push: marshal: %w", err)
	}
	return b, nil
}

// Encrypt seals plain message XML for the account's appid (base64 Encrypt).
func (o OA) Encrypt(msg []byte) (string, error) { return o.sealer().encrypt(msg, o.Rand) }

// EncryptRaw encrypts whole blocks with no framing or padding: for tests
// that need ciphertext with bad padding or a bad length field.
func (o OA) EncryptRaw(b []byte) (string, error) { return o.sealer().encryptRaw(b) }

// Build turns ev into the POST WeChat sends to target in o.Mode.
func (o OA) Build(target string, ev OAEvent) (*Push, error) {
	w := o.wire(ev)
	plain, err := xml.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("push: marshal: %w", err)
	}
	if o.Mode == Plain {
		return o.Wrap(target, ev.OpenID, plain, "")
	}
	enc, err := o.Encrypt(plain)
	if err != nil {
		return nil, err
	}
	if o.Mode == Compat {
		w.Encrypt = cd(enc)
		if plain, err = xml.Marshal(w); err != nil {
			return nil, fmt.Errorf("push: marshal: %w", err)
		}
		return o.Wrap(target, ev.OpenID, plain, enc)
	}
	return o.Wrap(target, ev.OpenID, nil, enc)
}

// Wrap signs an arbitrary body the way WeChat would in o.Mode. In plain mode
// body is sent as is; in compat mode body is sent as is (it should already
// hold <Encrypt>) and msg_signature covers encrypt; in safe mode the body is
// the <xml><ToUserName/><Encrypt/></xml> envelope around encrypt.
func (o OA) Wrap(target, openid string, body []byte, encrypt string) (*Push, error) {
	now := clock(o.Now)
	n, err := nonce(o.Rand)
	if err != nil {
		return nil, err
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	s := o.sealer()
	q := url.Values{"signature": {s.sign(ts, n)}, "timestamp": {ts}, "nonce": {n}}
	if openid != "" {
		q.Set("openid", openid)
	}
	if o.Mode != Plain {
		q.Set("encrypt_type", "aes")
		q.Set("msg_signature", s.sign(ts, n, encrypt))
	}
	if o.Mode == Safe {
		env := oaXML{ToUserName: cd(o.originalID()), Encrypt: &cdata{encrypt}}
		if body, err = xml.Marshal(env); err != nil {
			return nil, fmt.Errorf("push: marshal: %w", err)
		}
	}
	u, err := withQuery(target, q)
	if err != nil {
		return nil, err
	}
	return &Push{Method: http.MethodPost, URL: u, Body: body}, nil
}

// VerifyURL is the GET WeChat sends when the server URL is saved; the server
// must answer echostr.
func (o OA) VerifyURL(target, echostr string) (*Push, error) {
	n, err := nonce(o.Rand)
	if err != nil {
		return nil, err
	}
	ts := strconv.FormatInt(clock(o.Now).Unix(), 10)
	u, err := withQuery(target, url.Values{"signature": {o.sealer().sign(ts, n)}, "timestamp": {ts}, "nonce": {n}, "echostr": {echostr}})
	if err != nil {
		return nil, err
	}
	return &Push{Method: http.MethodGet, URL: u}, nil
}

// OpenReply checks an encrypted passive reply's MsgSignature and returns the
// plain reply XML inside, as WeChat would.
func (o OA) OpenReply(body []byte) ([]byte, error) { return o.sealer().openReply(body) }
