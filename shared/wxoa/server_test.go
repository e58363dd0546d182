package wxoa_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/wxoa"
	"github.com/wemember/wemember/tests/wxsim/push"
)

const target = "http://127.0.0.1:8080/oa-callback"

var testNow = time.Unix(1_800_000_000, 0)

func fixedClock() time.Time { return testNow }

// newServer builds the edge with the local runner's defaults and a fixed clock.
func newServer(t testing.TB) *wxoa.Server {
	t.Helper()
	s, err := wxoa.New(wxoa.Config{
		Token: push.DefaultOAToken, EncodingAESKey: push.DefaultOAAESKey, AppID: push.DefaultOAAppID,
		Now: fixedClock, Rand: rand.NewChaCha8([32]byte{1}),
	})
	if err != nil {
		t.Fatalf("wxoa.New: %v", err)
	}
	return s
}

// sim is WeChat with the same configuration, clock and a seeded randomness.
func sim(mode push.Mode) push.OA {
	o := push.DefaultOA()
	o.Mode = mode
	o.Now = fixedClock
	o.Rand = rand.NewChaCha8([32]byte{2})
	return o
}

func build(t testing.TB, o push.OA, ev push.OAEvent) *push.Push {
	t.Helper()
	p, err := o.Build(target, ev)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return p
}

func TestParseValid(t *testing.T) {
	s := newServer(t)
	for _, mode := range []push.Mode{push.Plain, push.Compat, push.Safe} {
		tests := []struct {
			name      string
			ev        push.OAEvent
			wantEvent string
			wantScene string
			wantKey   string
		}{
			{"subscribe with scene", push.OASubscribe("o-alice", "123"), "subscribe", "123", "evt:o-alice:1800000000:subscribe"},
			{"scan", push.OAScan("o-alice", "123"), "SCAN", "123", "evt:o-alice:1800000000:SCAN"},
			{"string scene", push.OAScan("o-bob", "inv:K7Q2"), "SCAN", "inv:K7Q2", "evt:o-bob:1800000000:SCAN"},
			{"plain subscribe", push.OASubscribe("o-carol", ""), "subscribe", "", "evt:o-carol:1800000000:subscribe"},
			{"unsubscribe", push.OAUnsubscribe("o-carol"), "unsubscribe", "", "evt:o-carol:1800000000:unsubscribe"},
			{"text", push.OAText("o-dan", "会员 <&]]>", 6789012345678901234), "", "", "msg:6789012345678901234"},
		}
		for _, tt := range tests {
			t.Run(mode.String()+"/"+tt.name, func(t *testing.T) {
				p := build(t, sim(mode), tt.ev)
				m, err := s.Parse(p.Query(), p.Body)
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if m.FromUserName != tt.ev.OpenID || m.OpenID() != tt.ev.OpenID {
					t.Errorf("FromUserName = %q, want %q", m.FromUserName, tt.ev.OpenID)
				}
				if m.ToUserName != push.DefaultOAOriginalID {
					t.Errorf("ToUserName = %q, want %q", m.ToUserName, push.DefaultOAOriginalID)
				}
				if m.CreateTime != testNow.Unix() {
					t.Errorf("CreateTime = %d, want %d", m.CreateTime, testNow.Unix())
				}
				if m.Event != tt.wantEvent {
					t.Errorf("Event = %q, want %q", m.Event, tt.wantEvent)
				}
				if m.Content != tt.ev.Content || m.EventKey != tt.ev.EventKey || m.Ticket != tt.ev.Ticket || m.MsgID != msgID(tt.ev.MsgID) {
					t.Errorf("got %+v, want fields of %+v", m, tt.ev)
				}
				scene, ok := m.Scene()
				if scene != tt.wantScene || ok != (tt.wantScene != "") {
					t.Errorf("Scene() = %q, %v, want %q", scene, ok, tt.wantScene)
				}
				if got := m.DedupKey(); got != tt.wantKey {
					t.Errorf("DedupKey() = %q, want %q", got, tt.wantKey)
				}
				if m.Encrypted != (mode != push.Plain) {
					t.Errorf("Encrypted = %v in mode %v", m.Encrypted, mode)
				}
			})
		}
	}
}

// msgID is the edge's form of the simulator's MsgId: decimal, empty for 0.
func msgID(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

func TestParseWindow(t *testing.T) {
	s := newServer(t)
	tests := []struct {
		name string
		skew time.Duration
		want errs.Kind
	}{
		{"now", 0, errs.Other},
		{"4m59s late", -299 * time.Second, errs.Other},
		{"4m59s early", 299 * time.Second, errs.Other},
		{"6m late", -6 * time.Minute, errs.Unauthorized},
		{"6m early", 6 * time.Minute, errs.Unauthorized},
		{"a day late", -24 * time.Hour, errs.Unauthorized},
	}
	for _, tt := range tests {
		for _, mode := range []push.Mode{push.Plain, push.Safe} {
			t.Run(tt.name+"/"+mode.String(), func(t *testing.T) {
				o := sim(mode)
				o.Now = func() time.Time { return testNow.Add(tt.skew) }
				p := build(t, o, push.OAScan("o-alice", "1"))
				_, err := s.Parse(p.Query(), p.Body)
				if got := errs.KindOf(err); got != tt.want || (tt.want == errs.Other) != (err == nil) {
					t.Errorf("Parse err = %v (kind %v), want kind %v", err, got, tt.want)
				}
			})
		}
	}
}

// frame builds random ‖ len ‖ msg ‖ appid with the given padding bytes.
func frame(msgLen uint32, msg, appid string, pad []byte) []byte {
	b := make([]byte, 20, 20+len(msg)+len(appid)+len(pad))
	binary.BigEndian.PutUint32(b[16:], msgLen)
	b = append(b, msg...)
	b = append(b, appid...)
	return append(b, pad...)
}

func padTo32(b []byte) []byte {
	n := 32 - len(b)%32
	return append(b, bytes.Repeat([]byte{byte(n)}, n)...)
}

func TestParseRefused(t *testing.T) {
	s := newServer(t)
	safe, plain := sim(push.Safe), sim(push.Plain)
	scan := push.OAScan("o-alice", "123")
	inner, err := safe.XML(scan)
	if err != nil {
		t.Fatal(err)
	}
	good := build(t, safe, scan)
	raw := func(b []byte) string {
		enc, err := safe.EncryptRaw(b)
		if err != nil {
			t.Fatalf("EncryptRaw: %v", err)
		}
		return enc
	}
	wrapSafe := func(enc string) *push.Push {
		p, err := safe.Wrap(target, "o-alice", nil, enc)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	wrapPlain := func(body string) *push.Push {
		p, err := plain.Wrap(target, "o-alice", []byte(body), "")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	encOf := func(o push.OA, b []byte) string {
		enc, err := o.Encrypt(b)
		if err != nil {
			t.Fatal(err)
		}
		return enc
	}
	otherApp, otherToken := sim(push.Safe), sim(push.Safe)
	otherApp.AppID = "wxoa9999999999999999"
	otherToken.Token = "not-the-token"
	validCT, _ := base64.StdEncoding.DecodeString(encOf(safe, inner))
	secret := "SECRET-PAYLOAD-42"

	tests := []struct {
		name string
		p    *push.Push
		want errs.Kind
	}{
		{"wrong signature", good.WithQuery("signature", strings.Repeat("a", 40)), errs.Unauthorized},
		{"missing signature", good.WithQuery("signature", ""), errs.Unauthorized},
		{"wrong msg_signature", good.WithQuery("msg_signature", strings.Repeat("0", 40)), errs.Unauthorized},
		{"missing msg_signature", good.WithQuery("msg_signature", ""), errs.Unauthorized},
		{"missing nonce", good.WithQuery("nonce", ""), errs.Unauthorized},
		{"tampered nonce", good.WithQuery("nonce", "1"), errs.Unauthorized},
		{"non-numeric timestamp", good.WithQuery("timestamp", "18e8"), errs.Unauthorized},
		{"wrong token", build(t, otherToken, scan), errs.Unauthorized},
		{"wrong appid", build(t, otherApp, scan), errs.Unauthorized},
		{"unknown encrypt_type", wrapPlain(string(inner)).WithQuery("encrypt_type", "des"), errs.Invalid},
		{"pad 0", wrapSafe(raw(append(make([]byte, 31), 0))), errs.Invalid},
		{"pad 33", wrapSafe(raw(append(make([]byte, 31), 33))), errs.Invalid},
		{"pad bytes differ", wrapSafe(raw(append(frame(3, "abc", "wx", nil), 7, 7, 7, 7, 1, 7, 7))), errs.Invalid},
		{"length field too big", wrapSafe(raw(padTo32(frame(1<<31, "<xml/>", push.DefaultOAAppID, nil)))), errs.Invalid},
		{"too short after unpadding", wrapSafe(raw(padTo32([]byte("0123456789")))), errs.Invalid},
		{"truncated ciphertext", wrapSafe(base64.StdEncoding.EncodeToString(validCT[:len(validCT)-16])), errs.Invalid},
		{"non-base64", wrapSafe("%%%not-base64%%%"), errs.Invalid},
		{"forged non-base64: signature first", wrapSafe("%%%").WithQuery("msg_signature", strings.Repeat("b", 40)), errs.Unauthorized},
		{"empty Encrypt", wrapSafe(""), errs.Invalid},
		{"malformed envelope", &push.Push{Method: "POST", URL: good.URL, Body: []byte("<xml><Encrypt>")}, errs.Invalid},
		{"malformed inner XML", wrapSafe(encOf(safe, []byte("<xml><FromUserName>"+secret))), errs.Invalid},
		{"inner root not xml", wrapSafe(encOf(safe, []byte("<doc><FromUserName>"+secret+"</FromUserName></doc>"))), errs.Invalid},
		{"malformed plain XML", wrapPlain("<xml><ToUserName>gh"), errs.Invalid},
		{"no FromUserName", wrapPlain("<xml><ToUserName>gh</ToUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>"), errs.Invalid},
		{"no CreateTime", wrapPlain("<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><MsgType>text</MsgType></xml>"), errs.Invalid},
		{"non-numeric MsgId", wrapPlain("<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><MsgId>12a</MsgId></xml>"), errs.Invalid},
		{"bad CreateTime", wrapPlain("<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>x</CreateTime><MsgType>text</MsgType></xml>"), errs.Invalid},
		{"event without Event", wrapPlain("<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType></xml>"), errs.Invalid},
		{"oversized openid", wrapPlain("<xml><ToUserName>gh</ToUserName><FromUserName>" + strings.Repeat("o", 200) + "</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>"), errs.Invalid},
		{"oversized body", wrapPlain("<xml>" + strings.Repeat(" ", wxoa.MaxBody) + "</xml>"), errs.TooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := s.Parse(tt.p.Query(), tt.p.Body)
			if got := errs.KindOf(err); got != tt.want {
				t.Fatalf("Parse = %+v, %v (kind %v), want kind %v", m, err, got, tt.want)
			}
			if m != nil {
				t.Errorf("Parse returned a message with an error: %+v", m)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(errs.SafeMessage(err), secret) {
				t.Errorf("error leaks decrypted content: %v", err)
			}
		})
	}
}
