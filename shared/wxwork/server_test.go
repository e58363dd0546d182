package wxwork_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/wxwork"
	"github.com/wemember/wemember/tests/wxsim/push"
)

const target = "http://127.0.0.1:8080/wecom-callback"

var testNow = time.Unix(1_800_000_000, 0)

func fixedClock() time.Time { return testNow }

func newServer(t testing.TB) *wxwork.Server {
	t.Helper()
	s, err := wxwork.New(wxwork.Config{
		Token: push.DefaultWeComToken, EncodingAESKey: push.DefaultWeComAESKey, CorpID: push.DefaultWeComCorpID,
		Now: fixedClock, Rand: rand.NewChaCha8([32]byte{3}),
	})
	if err != nil {
		t.Fatalf("wxwork.New: %v", err)
	}
	return s
}

func sim() push.WeCom {
	w := push.DefaultWeCom()
	w.Now = fixedClock
	w.Rand = rand.NewChaCha8([32]byte{4})
	return w
}

func build(t testing.TB, w push.WeCom, ev push.WeComEvent) *push.Push {
	t.Helper()
	p, err := w.Build(target, ev)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return p
}

func TestParseValid(t *testing.T) {
	s := newServer(t)
	edit := push.WeComEvent{ChangeType: wxwork.ChangeEdit, UserID: "zhangsan", ExternalUserID: "wmEXT1", State: "ch:poster"}
	half := push.WeComAdd("zhangsan", "wmEXT2", "inv:K7Q2")
	half.ChangeType = wxwork.ChangeAddHalf
	del := push.WeComEvent{ChangeType: wxwork.ChangeDel, UserID: "lisi", ExternalUserID: "wmEXT3", Source: "DELETE_BY_TRANSFER"}
	tests := []struct {
		name string
		ev   push.WeComEvent
		want wxwork.Event
	}{
		{"add", push.WeComAdd("zhangsan", "wmEXT1", "inv:K7Q2"), wxwork.Event{
			ChangeType: wxwork.ChangeAdd, UserID: "zhangsan", ExternalUserID: "wmEXT1", State: "inv:K7Q2", WelcomeCode: "WELCOMECODE-wmEXT1"}},
		{"add without state", push.WeComAdd("zhangsan", "wmEXT1", ""), wxwork.Event{
			ChangeType: wxwork.ChangeAdd, UserID: "zhangsan", ExternalUserID: "wmEXT1", WelcomeCode: "WELCOMECODE-wmEXT1"}},
		{"add half", half, wxwork.Event{
			ChangeType: wxwork.ChangeAddHalf, UserID: "zhangsan", ExternalUserID: "wmEXT2", State: "inv:K7Q2", WelcomeCode: "WELCOMECODE-wmEXT2"}},
		{"edit", edit, wxwork.Event{ChangeType: wxwork.ChangeEdit, UserID: "zhangsan", ExternalUserID: "wmEXT1", State: "ch:poster"}},
		{"del", del, wxwork.Event{ChangeType: wxwork.ChangeDel, UserID: "lisi", ExternalUserID: "wmEXT3", Source: "DELETE_BY_TRANSFER"}},
		{"del follow user", push.WeComDelFollow("lisi", "wmEXT3"), wxwork.Event{ChangeType: wxwork.ChangeDelFollow, UserID: "lisi", ExternalUserID: "wmEXT3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := build(t, sim(), tt.ev)
			got, err := s.Parse(p.Query(), p.Body)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := tt.want
			want.ToUserName, want.FromUserName, want.CreateTime = push.DefaultWeComCorpID, "sys", testNow.Unix()
			want.MsgType, want.Event = "event", wxwork.EventChangeExternalContact
			if *got != want {
				t.Errorf("Parse = %+v\nwant %+v", *got, want)
			}
			if !got.IsExternalContact() || !got.IsSystem() {
				t.Errorf("IsExternalContact, IsSystem = %v, %v; want true, true", got.IsExternalContact(), got.IsSystem())
			}
			wantKey := "wecom:" + want.ChangeType + ":" + want.UserID + ":" + want.ExternalUserID + ":1800000000"
			if k := got.DedupKey(); k != wantKey {
				t.Errorf("DedupKey() = %q, want %q", k, wantKey)
			}
		})
	}
}

func TestVerifyURL(t *testing.T) {
	s := newServer(t)
	w := sim()
	// The echo is arbitrary bytes and must come back byte-exact, with
	// characters that need URL escaping in the base64 echostr.
	for _, echo := range [][]byte{[]byte("1616140317555161061"), []byte("a+b/c= \n\x00end"), bytes.Repeat([]byte{0xff}, 40)} {
		p, err := w.VerifyURL(target, echo)
		if err != nil {
			t.Fatal(err)
		}
		q, err := p.URL.Parse(p.URL.String()) // Through the wire form: escaping must survive.
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.VerifyURL(q.Query())
		if err != nil || !bytes.Equal(got, echo) {
			t.Errorf("VerifyURL = %q, %v; want %q", got, err, echo)
		}
	}
	good, _ := w.VerifyURL(target, []byte("42"))
	otherCorp := w
	otherCorp.CorpID = "ww99999999999999999"
	foreign, _ := otherCorp.VerifyURL(target, []byte("42"))
	stale := w
	stale.Now = func() time.Time { return testNow.Add(-6 * time.Minute) }
	old, _ := stale.VerifyURL(target, []byte("42"))
	notB64, _ := w.VerifyURLRaw(target, "***")
	tests := []struct {
		name string
		p    *push.Push
		want errs.Kind
	}{
		{"wrong msg_signature", good.WithQuery("msg_signature", strings.Repeat("1", 40)), errs.Unauthorized},
		{"tampered echostr", good.WithQuery("echostr", "QUJD"), errs.Unauthorized},
		{"missing echostr", good.WithQuery("echostr", ""), errs.Invalid},
		{"other corp", foreign, errs.Unauthorized},
		{"stale", old, errs.Unauthorized},
		{"non-base64 echostr", notB64, errs.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.VerifyURL(tt.p.Query())
			if errs.KindOf(err) != tt.want || got != nil {
				t.Errorf("VerifyURL = %q, %v, want kind %v", got, err, tt.want)
			}
		})
	}
}

func frame(msgLen uint32, msg, corp string) []byte {
	b := make([]byte, 20, 20+len(msg)+len(corp)+32)
	binary.BigEndian.PutUint32(b[16:], msgLen)
	b = append(append(b, msg...), corp...)
	n := 32 - len(b)%32
	return append(b, bytes.Repeat([]byte{byte(n)}, n)...)
}

func TestParseRefused(t *testing.T) {
	s := newServer(t)
	w := sim()
	add := push.WeComAdd("zhangsan", "wmEXT1", "inv:1")
	good := build(t, w, add)
	wrap := func(enc string) *push.Push {
		p, err := w.Wrap(target, enc)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	seal := func(b []byte) *push.Push {
		enc, err := w.Encrypt(b)
		if err != nil {
			t.Fatal(err)
		}
		return wrap(enc)
	}
	raw := func(b []byte) *push.Push {
		enc, err := w.EncryptRaw(b)
		if err != nil {
			t.Fatal(err)
		}
		return wrap(enc)
	}
	otherCorp, otherToken := sim(), sim()
	otherCorp.CorpID = "ww99999999999999999"
	otherToken.Token = "nope"
	inner, _ := w.XML(add)
	enc, _ := w.Encrypt(inner)
	ct, _ := base64.StdEncoding.DecodeString(enc)
	// A valid event whose 16 padding bytes are wrong in one place only, so
	// nothing but the padding check can refuse it.
	padded := string(inner)
	for (20+len(padded)+len(push.DefaultWeComCorpID))%32 != 16 {
		padded += " "
	}
	badPad := frame(uint32(len(padded)), padded, push.DefaultWeComCorpID)
	badPad[len(badPad)-16] ^= 1
	const secret = "SECRET-PAYLOAD-42"
	noIDs := "<xml><ToUserName>ww</ToUserName><FromUserName>sys</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>change_external_contact</Event><ChangeType>add_external_contact</ChangeType><UserID>" + secret + "</UserID></xml>"

	tests := []struct {
		name string
		p    *push.Push
		want errs.Kind
	}{
		{"wrong msg_signature", good.WithQuery("msg_signature", strings.Repeat("a", 40)), errs.Unauthorized},
		{"missing msg_signature", good.WithQuery("msg_signature", ""), errs.Unauthorized},
		{"plain signature only", good.WithQuery("msg_signature", "").WithQuery("signature", good.Query().Get("msg_signature")), errs.Unauthorized},
		{"tampered timestamp", good.WithQuery("timestamp", "1800000001"), errs.Unauthorized},
		{"wrong token", build(t, otherToken, add), errs.Unauthorized},
		{"wrong corp id", build(t, otherCorp, add), errs.Unauthorized},
		{"bad padding", raw(badPad), errs.Invalid},
		{"length field too big", raw(frame(1<<30, "<x>", push.DefaultWeComCorpID)), errs.Invalid},
		{"truncated ciphertext", wrap(base64.StdEncoding.EncodeToString(ct[:len(ct)-16])), errs.Invalid},
		{"non-base64", wrap("@@@@"), errs.Invalid},
		{"forged non-base64: signature first", wrap("@@@@").WithQuery("msg_signature", strings.Repeat("b", 40)), errs.Unauthorized},
		{"forged bad padding: signature first", raw(badPad).WithQuery("msg_signature", strings.Repeat("b", 40)), errs.Unauthorized},
		{"empty Encrypt", wrap(""), errs.Invalid},
		{"malformed envelope", &push.Push{Method: "POST", URL: good.URL, Body: []byte("<xml><Encrypt>abc")}, errs.Invalid},
		{"malformed event XML", seal([]byte("<xml><UserID>" + secret)), errs.Invalid},
		{"event without ids", seal([]byte(noIDs)), errs.Invalid},
		{"event without CreateTime", seal([]byte("<xml><MsgType>event</MsgType></xml>")), errs.Invalid},
		{"oversized id", seal([]byte(strings.Replace(noIDs, secret, strings.Repeat("u", 200), 1))), errs.Invalid},
		{"oversized body", &push.Push{Method: "POST", URL: good.URL, Body: bytes.Repeat([]byte(" "), wxwork.MaxBody+1)}, errs.TooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := s.Parse(tt.p.Query(), tt.p.Body)
			if got := errs.KindOf(err); got != tt.want {
				t.Fatalf("Parse = %+v, %v (kind %v), want kind %v", ev, err, got, tt.want)
			}
			if ev != nil {
				t.Errorf("Parse returned an event with an error: %+v", ev)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks decrypted content: %v", err)
			}
		})
	}
}

func TestParseWindow(t *testing.T) {
	s := newServer(t)
	for _, tt := range []struct {
		skew time.Duration
		ok   bool
	}{{0, true}, {-4 * time.Minute, true}, {4 * time.Minute, true}, {-301 * time.Second, false}, {301 * time.Second, false}} {
		w := sim()
		w.Now = func() time.Time { return testNow.Add(tt.skew) }
		p := build(t, w, push.WeComAdd("u", "e", ""))
		_, err := s.Parse(p.Query(), p.Body)
		if (err == nil) != tt.ok || (err != nil && !errs.Is(errs.Unauthorized, err)) {
			t.Errorf("skew %v: Parse err = %v, want ok=%v or unauthorized", tt.skew, err, tt.ok)
		}
	}
}

func TestReply(t *testing.T) {
	s := newServer(t)
	plain := []byte("<xml><ToUserName><![CDATA[zhangsan]]></ToUserName><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[欢迎]]></Content></xml>")
	body, err := s.Reply(plain)
	if err != nil {
		t.Fatalf("Reply: %v", err)
	}
	got, err := sim().OpenReply(body)
	if err != nil || !bytes.Equal(got, plain) {
		t.Errorf("OpenReply = %q, %v; want %q", got, err, plain)
	}
}
