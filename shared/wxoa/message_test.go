package wxoa_test

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/wxoa"
	"github.com/wemember/wemember/tests/wxsim/push"
)

func TestScene(t *testing.T) {
	ev := func(event, key string) *wxoa.Message {
		return &wxoa.Message{MsgType: "event", Event: event, EventKey: key}
	}
	long := strings.Repeat("s", 64)
	han := strings.Repeat("码", 64)
	tests := []struct {
		name   string
		m      *wxoa.Message
		want   string
		wantOK bool
	}{
		{"subscribe qrscene", ev("subscribe", "qrscene_123"), "123", true},
		{"scan", ev("SCAN", "123"), "123", true},
		{"subscribe string scene", ev("subscribe", "qrscene_inv:AB12"), "inv:AB12", true},
		{"scan 64 chars", ev("SCAN", long), long, true},
		{"scan 64 han characters", ev("SCAN", han), han, true},
		{"scan 65 chars", ev("SCAN", long+"s"), "", false},
		{"subscribe 65 chars", ev("subscribe", "qrscene_"+long+"s"), "", false},
		{"subscribe without scene", ev("subscribe", ""), "", false},
		{"subscribe empty scene", ev("subscribe", "qrscene_"), "", false},
		{"subscribe scene 0", ev("subscribe", "qrscene_0"), "", false},
		{"subscribe without prefix", ev("subscribe", "123"), "", false},
		{"scan empty", ev("SCAN", ""), "", false},
		{"scan 0", ev("SCAN", "0"), "", false},
		{"scan control char", ev("SCAN", "12\x003"), "", false},
		{"scan space", ev("SCAN", "12 3"), "", false},
		{"scan bad utf-8", ev("SCAN", "12\xff"), "", false},
		{"click", ev("CLICK", "123"), "", false},
		{"unsubscribe", ev("unsubscribe", "qrscene_123"), "", false},
		{"text", &wxoa.Message{MsgType: "text", Event: "SCAN", EventKey: "123"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.m.Scene()
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Scene() = %q, %v, want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestDedupKey(t *testing.T) {
	tests := []struct {
		name string
		m    wxoa.Message
		want string
	}{
		{"text", wxoa.Message{MsgType: "text", FromUserName: "o1", CreateTime: 5, MsgID: "42"}, "msg:42"},
		{"text without MsgId", wxoa.Message{MsgType: "text", FromUserName: "o1", CreateTime: 5}, "evt:o1:5:"},
		{"event", wxoa.Message{MsgType: "event", Event: "SCAN", FromUserName: "o1", CreateTime: 5}, "evt:o1:5:SCAN"},
		{"other event same second", wxoa.Message{MsgType: "event", Event: "subscribe", FromUserName: "o1", CreateTime: 5}, "evt:o1:5:subscribe"},
	}
	for _, tt := range tests {
		if got := tt.m.DedupKey(); got != tt.want {
			t.Errorf("%s: DedupKey() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestDedupKeyRetries checks that WeChat's retries of one push (rebuilt and
// re-encrypted with fresh randomness) share a key, and another push does not.
func TestDedupKeyRetries(t *testing.T) {
	s := newServer(t)
	key := func(o push.OA, ev push.OAEvent) string {
		p := build(t, o, ev)
		m, err := s.Parse(p.Query(), p.Body)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		return m.DedupKey()
	}
	first := key(sim(push.Safe), push.OAScan("o-alice", "7"))
	retry := key(sim(push.Compat), push.OAScan("o-alice", "7"))
	other := key(sim(push.Safe), push.OAScan("o-bob", "7"))
	if first != retry {
		t.Errorf("retry key %q != first key %q", retry, first)
	}
	if first == other {
		t.Errorf("different pushes share key %q", first)
	}
}

func TestVerifyURL(t *testing.T) {
	s := newServer(t)
	o := sim(push.Plain)
	good, err := o.VerifyURL(target, "5837397520665436492")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.VerifyURL(good.Query())
	if err != nil || got != "5837397520665436492" {
		t.Fatalf("VerifyURL = %q, %v; want the echostr", got, err)
	}
	stale := o
	stale.Now = func() time.Time { return testNow.Add(-10 * time.Minute) }
	old, err := stale.VerifyURL(target, "1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    *push.Push
		want errs.Kind
	}{
		{"wrong signature", good.WithQuery("signature", strings.Repeat("f", 40)), errs.Unauthorized},
		{"short signature", good.WithQuery("signature", "abc"), errs.Unauthorized},
		{"missing timestamp", good.WithQuery("timestamp", ""), errs.Unauthorized},
		{"stale", old, errs.Unauthorized},
		{"missing echostr", good.WithQuery("echostr", ""), errs.Invalid},
		{"oversized echostr", good.WithQuery("echostr", strings.Repeat("1", 200)), errs.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.VerifyURL(tt.p.Query())
			if errs.KindOf(err) != tt.want || got != "" {
				t.Errorf("VerifyURL = %q, %v, want kind %v", got, err, tt.want)
			}
		})
	}
}

type textReply struct {
	ToUserName, FromUserName, MsgType, Content string
	CreateTime                                 int64
}

func TestReplyText(t *testing.T) {
	s := newServer(t)
	const content = "欢迎加入会员 <a href=\"https://x/?a=1&b=2\">注册</a> ]]> end"
	for _, mode := range []push.Mode{push.Plain, push.Compat, push.Safe} {
		t.Run(mode.String(), func(t *testing.T) {
			o := sim(mode)
			p := build(t, o, push.OAText("o-alice", "会员", 1))
			m, err := s.Parse(p.Query(), p.Body)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			body, err := s.ReplyText(m, content)
			if err != nil {
				t.Fatalf("ReplyText: %v", err)
			}
			if mode != push.Plain {
				if strings.Contains(string(body), "会员") {
					t.Fatalf("encrypted reply shows plaintext: %s", body)
				}
				if body, err = o.OpenReply(body); err != nil {
					t.Fatalf("OpenReply: %v", err)
				}
			}
			var got textReply
			if err := xml.Unmarshal(body, &got); err != nil {
				t.Fatalf("reply is not XML: %v", err)
			}
			want := textReply{ToUserName: "o-alice", FromUserName: push.DefaultOAOriginalID, MsgType: "text", Content: content, CreateTime: testNow.Unix()}
			if got != want {
				t.Errorf("reply = %+v, want %+v", got, want)
			}
		})
	}
	for _, bad := range []string{"", strings.Repeat("x", wxoa.MaxReplyText+1), "\xff"} {
		if _, err := s.ReplyText(&wxoa.Message{FromUserName: "o", ToUserName: "gh"}, bad); !errs.Is(errs.Invalid, err) {
			t.Errorf("ReplyText(%.10q) err = %v, want invalid", bad, err)
		}
	}
}

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  wxoa.Config
		ok   bool
	}{
		{"defaults", wxoa.Config{Token: "t", EncodingAESKey: push.DefaultOAAESKey, AppID: "wx1"}, true},
		{"no token", wxoa.Config{EncodingAESKey: push.DefaultOAAESKey, AppID: "wx1"}, false},
		{"no appid", wxoa.Config{Token: "t", EncodingAESKey: push.DefaultOAAESKey}, false},
		{"42-char key", wxoa.Config{Token: "t", EncodingAESKey: push.DefaultOAAESKey[:42], AppID: "wx1"}, false},
		{"44-char key", wxoa.Config{Token: "t", EncodingAESKey: push.DefaultOAAESKey + "=", AppID: "wx1"}, false},
		{"non-base64 key", wxoa.Config{Token: "t", EncodingAESKey: "!" + push.DefaultOAAESKey[1:], AppID: "wx1"}, false},
	}
	for _, tt := range tests {
		_, err := wxoa.New(tt.cfg)
		if (err == nil) != tt.ok || (err != nil && !errs.Is(errs.Invalid, err)) {
			t.Errorf("%s: New err = %v, want ok=%v or invalid", tt.name, err, tt.ok)
		}
		if err != nil && strings.Contains(err.Error(), push.DefaultOAAESKey[5:30]) {
			t.Errorf("%s: error shows the key: %v", tt.name, err)
		}
	}
}

func TestRequireAES(t *testing.T) {
	s, err := wxoa.New(wxoa.Config{Token: push.DefaultOAToken, EncodingAESKey: push.DefaultOAAESKey,
		AppID: push.DefaultOAAppID, Now: fixedClock, RequireAES: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		mode push.Mode
		want errs.Kind
	}{{push.Plain, errs.Unauthorized}, {push.Compat, errs.Other}, {push.Safe, errs.Other}} {
		p := build(t, sim(tt.mode), push.OAScan("o", "1"))
		if _, err := s.Parse(p.Query(), p.Body); errs.KindOf(err) != tt.want || (err == nil) != (tt.want == errs.Other) {
			t.Errorf("%v: Parse err = %v, want kind %v", tt.mode, err, tt.want)
		}
	}
}

// TestParseMsgIDFullRange checks that a MsgId above the int64 range parses
// and keys the message.
func TestParseMsgIDFullRange(t *testing.T) {
	s := newServer(t)
	p, err := sim(push.Plain).Wrap(target, "o", []byte("<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>18446744073709551615</MsgId></xml>"), "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Parse(p.Query(), p.Body)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got, want := m.DedupKey(), "msg:18446744073709551615"; got != want {
		t.Errorf("DedupKey() = %q, want %q", got, want)
	}
}
