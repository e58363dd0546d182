package wxoa_test

import (
	"net/url"
	"testing"
	"unicode/utf8"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/wxoa"
	"github.com/wemember/wemember/tests/wxsim/push"
)

// Ways FuzzParse turns its input into a push, so that the fuzzer reaches past
// the signature check into decryption and XML parsing.
const (
	asReceived   = iota // a is the raw query, b the body.
	signedPlain         // b is a plain body, correctly signed.
	sealedInner         // b is the plaintext XML, correctly encrypted and signed.
	signedBase64        // a is the Encrypt value, correctly signed.
	rawFrame            // b is the decrypted frame (random‖len‖msg‖appid‖pad), encrypted as is.
	ways
)

// FuzzParse checks that no input panics, every refusal has one of the edge's
// kinds and no message, and every accepted push is well formed and can be
// answered with a reply WeChat can open.
func FuzzParse(f *testing.F) {
	s := newServer(f)
	for _, mode := range []push.Mode{push.Plain, push.Compat, push.Safe} {
		for _, ev := range []push.OAEvent{push.OASubscribe("o-alice", "123"), push.OAScan("o-bob", "inv:K"), push.OAText("o-c", "会员", 9)} {
			p := build(f, sim(mode), ev)
			f.Add(uint8(asReceived), p.URL.RawQuery, p.Body)
			inner, _ := sim(mode).XML(ev)
			f.Add(uint8(signedPlain), "", inner)
			f.Add(uint8(sealedInner), "", inner)
			enc, _ := sim(mode).Encrypt(inner)
			f.Add(uint8(signedBase64), enc, []byte(nil))
			f.Add(uint8(rawFrame), "", padTo32(frame(uint32(len(inner)), string(inner), push.DefaultOAAppID, nil)))
		}
	}
	f.Add(uint8(rawFrame), "", padTo32(frame(6, "<xml/>", push.DefaultOAAppID, nil)))
	f.Add(uint8(signedBase64), "AAAA", []byte(nil))
	f.Fuzz(func(t *testing.T, how uint8, a string, b []byte) {
		q, body, o := fuzzPush(t, how, a, b)
		if q == nil {
			return
		}
		m, err := s.Parse(q, body)
		if err != nil {
			switch errs.KindOf(err) {
			case errs.Invalid, errs.Unauthorized, errs.TooLarge:
			default:
				t.Fatalf("Parse error of kind %v: %v", errs.KindOf(err), err)
			}
			if m != nil {
				t.Fatalf("Parse returned %+v with error %v", m, err)
			}
			return
		}
		if m.FromUserName == "" || m.ToUserName == "" || m.MsgType == "" || m.CreateTime <= 0 {
			t.Fatalf("accepted an incomplete message: %+v", m)
		}
		if sc, ok := m.Scene(); ok && (sc == "" || sc == "0" || utf8.RuneCountInString(sc) > wxoa.MaxScene) {
			t.Fatalf("bad scene %q accepted", sc)
		}
		if m.DedupKey() == "" {
			t.Fatal("empty DedupKey")
		}
		reply, err := s.ReplyText(m, "ok")
		if err != nil {
			t.Fatalf("ReplyText: %v", err)
		}
		if m.Encrypted {
			if _, err := o.OpenReply(reply); err != nil {
				t.Fatalf("WeChat cannot open the reply: %v", err)
			}
		}
	})
}

// fuzzPush builds the push for one fuzz input; q is nil when the input
// cannot make one (e.g. a raw frame that is not whole blocks).
func fuzzPush(t *testing.T, how uint8, a string, b []byte) (url.Values, []byte, push.OA) {
	safe := sim(push.Safe)
	wrap := func(o push.OA, body []byte, enc string) *push.Push {
		p, err := o.Wrap(target, "o", body, enc)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	switch how % ways {
	case asReceived:
		q, err := url.ParseQuery(a)
		if err != nil {
			return nil, nil, safe
		}
		return q, b, safe
	case signedPlain:
		p := wrap(sim(push.Plain), b, "")
		return p.Query(), p.Body, safe
	case sealedInner:
		enc, err := safe.Encrypt(b)
		if err != nil {
			t.Fatal(err)
		}
		p := wrap(safe, nil, enc)
		return p.Query(), p.Body, safe
	case signedBase64:
		p := wrap(safe, nil, a)
		return p.Query(), p.Body, safe
	default:
		b = b[:len(b)/16*16]
		if len(b) == 0 {
			return nil, nil, safe
		}
		enc, err := safe.EncryptRaw(b)
		if err != nil {
			t.Fatal(err)
		}
		p := wrap(safe, nil, enc)
		return p.Query(), p.Body, safe
	}
}
