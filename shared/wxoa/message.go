package wxoa

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wemember/wemember/shared/errs"
)

// Message types and events the edge names; others pass through as strings.
const (
	TypeText  = "text"
	TypeEvent = "event"

	EventSubscribe   = "subscribe"
	EventUnsubscribe = "unsubscribe"
	EventScan        = "SCAN"
	EventClick       = "CLICK"

	// SubscribeScenePrefix starts the EventKey of a subscribe through a
	// parameterized QR code: "qrscene_<scene>".
	SubscribeScenePrefix = "qrscene_"
	// MaxScene is the longest scene (scene_str allows 1 to 64 characters).
	MaxScene = 64

	maxField = 8 << 10
)

// Message is a verified Official Account push, message or event.
type Message struct {
	ToUserName   string // The account's original id (gh_…).
	FromUserName string // The sender's openid.
	CreateTime   int64  // Unix seconds, set by WeChat.
	MsgType      string // "text", "event", "image", …
	Event        string // For MsgType "event": "subscribe", "SCAN", "unsubscribe", …
	EventKey     string // "qrscene_<scene>" on subscribe, "<scene>" on SCAN, the key on CLICK.
	Ticket       string // The QR code ticket on a scan.
	Content      string // The text of a text message.
	MsgID        string // The message id (decimal, 64-bit) of a non-event message; empty for events.
	Encrypted    bool   // It came encrypted; a passive reply must be encrypted too.
}

// wire is the XML of a push; only the fields the edge uses.
type wire struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   string   `xml:"ToUserName"`
	FromUserName string   `xml:"FromUserName"`
	CreateTime   int64    `xml:"CreateTime"`
	MsgType      string   `xml:"MsgType"`
	Event        string   `xml:"Event"`
	EventKey     string   `xml:"EventKey"`
	Ticket       string   `xml:"Ticket"`
	Content      string   `xml:"Content"`
	MsgID        string   `xml:"MsgId"`
}

// decodeMessage parses and validates the plain push XML.
func decodeMessage(b []byte) (*Message, error) {
	const op = "wxoa.decodeMessage"
	var w wire
	if err := xml.NewDecoder(bytes.NewReader(b)).Decode(&w); err != nil {
		return nil, errs.E(op, errs.Invalid, "message is not valid XML")
	}
	m := &Message{
		ToUserName: w.ToUserName, FromUserName: w.FromUserName, CreateTime: w.CreateTime,
		MsgType: w.MsgType, Event: w.Event, EventKey: w.EventKey, Ticket: w.Ticket,
		Content: w.Content, MsgID: w.MsgID,
	}
	switch {
	case m.FromUserName == "" || m.ToUserName == "" || m.MsgType == "":
		return nil, errs.E(op, errs.Invalid, "message lacks ToUserName, FromUserName or MsgType")
	case m.CreateTime <= 0:
		return nil, errs.E(op, errs.Invalid, "message lacks CreateTime")
	case m.MsgType == TypeEvent && m.Event == "":
		return nil, errs.E(op, errs.Invalid, "event lacks Event")
	case len(m.FromUserName) > maxParam || len(m.ToUserName) > maxParam ||
		len(m.MsgType) > maxParam || len(m.Event) > maxParam || len(m.MsgID) > 20:
		return nil, errs.E(op, errs.Invalid, "message header field too long")
	case m.MsgID != "" && !digits(m.MsgID, 20):
		return nil, errs.E(op, errs.Invalid, "MsgId is not a number")
	case len(m.EventKey) > maxField || len(m.Ticket) > maxField || len(m.Content) > maxField:
		return nil, errs.E(op, errs.Invalid, "message field too long")
	}
	return m, nil
}

// OpenID is the sender's openid (FromUserName).
func (m *Message) OpenID() string { return m.FromUserName }

// IsEvent reports whether the push is an event rather than a user message.
func (m *Message) IsEvent() bool { return m.MsgType == TypeEvent }

// Scene returns the QR scene of a subscribe ("qrscene_123") or SCAN ("123")
// event: both give "123". String scenes are allowed. An empty scene, "0", one
// over MaxScene characters, invalid UTF-8 or control characters, and every
// other event or message, give ok = false.
func (m *Message) Scene() (scene string, ok bool) {
	if m.MsgType != TypeEvent {
		return "", false
	}
	switch m.Event {
	case EventSubscribe:
		var found bool
		scene, found = strings.CutPrefix(m.EventKey, SubscribeScenePrefix)
		if !found {
			return "", false
		}
	case EventScan:
		scene = m.EventKey
	default:
		return "", false
	}
	if !validScene(scene) {
		return "", false
	}
	return scene, true
}

func validScene(s string) bool {
	if s == "" || s == "0" || len(s) > 4*MaxScene || !utf8.ValidString(s) ||
		utf8.RuneCountInString(s) > MaxScene {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// DedupKey is the idempotency key WeChat recommends for its retries: the
// MsgId for messages ("msg:<MsgId>"), FromUserName, CreateTime and Event for
// events and for messages without a MsgId ("evt:<openid>:<CreateTime>:<Event>").
func (m *Message) DedupKey() string {
	if m.MsgType != TypeEvent && m.MsgID != "" {
		return "msg:" + m.MsgID
	}
	return "evt:" + m.FromUserName + ":" + strconv.FormatInt(m.CreateTime, 10) + ":" + m.Event
}
