package wxwork_test

import (
	"net/url"
	"testing"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/tests/wxsim/push"
)

// Ways FuzzParse turns its input into a callback, so that the fuzzer reaches
// past msg_signature into decryption and XML parsing.
const (
	asReceived   = iota // a is the raw query, b the body.
	sealedInner         // b is the event XML, correctly encrypted and signed.
	signedBase64        // a is the Encrypt value, correctly signed.
	rawFrame            // b is the decrypted frame, encrypted as is (whole blocks).
	echoGET             // a is an echostr, correctly signed, for VerifyURL.
	ways
)

// FuzzParse checks that no input panics, every refusal has one of the edge's
// kinds and no event, and every accepted event is well formed.
func FuzzParse(f *testing.F) {
	s := newServer(f)
	w := sim()
	for _, ev := range []push.WeComEvent{push.WeComAdd("zhangsan", "wmEXT1", "inv:K"), push.WeComDelFollow("lisi", "wmEXT2")} {
		p := build(f, w, ev)
		f.Add(uint8(asReceived), p.URL.RawQuery, p.Body)
		inner, _ := w.XML(ev)
		f.Add(uint8(sealedInner), "", inner)
		enc, _ := w.Encrypt(inner)
		f.Add(uint8(signedBase64), enc, []byte(nil))
		f.Add(uint8(rawFrame), "", frame(uint32(len(inner)), string(inner), push.DefaultWeComCorpID))
		f.Add(uint8(echoGET), enc, []byte(nil))
	}
	f.Fuzz(func(t *testing.T, how uint8, a string, b []byte) {
		var q url.Values
		var body []byte
		wrap := func(enc string) {
			p, err := w.Wrap(target, enc)
			if err != nil {
				t.Fatal(err)
			}
			q, body = p.Query(), p.Body
		}
		switch how % ways {
		case asReceived:
			var err error
			if q, err = url.ParseQuery(a); err != nil {
				return
			}
			body = b
		case sealedInner:
			enc, err := w.Encrypt(b)
			if err != nil {
				t.Fatal(err)
			}
			wrap(enc)
		case signedBase64:
			wrap(a)
		case rawFrame:
			if b = b[:len(b)/16*16]; len(b) == 0 {
				return
			}
			enc, err := w.EncryptRaw(b)
			if err != nil {
				t.Fatal(err)
			}
			wrap(enc)
		default:
			p, err := w.VerifyURLRaw(target, a)
			if err != nil {
				t.Fatal(err)
			}
			echo, err := s.VerifyURL(p.Query())
			checkErr(t, err, echo == nil)
			return
		}
		ev, err := s.Parse(q, body)
		if checkErr(t, err, ev == nil) {
			return
		}
		if ev.MsgType == "" || ev.CreateTime <= 0 || ev.DedupKey() == "" {
			t.Fatalf("accepted an incomplete event: %+v", ev)
		}
		if ev.IsExternalContact() && (ev.UserID == "" || ev.ExternalUserID == "") {
			t.Fatalf("external-contact event without ids: %+v", ev)
		}
	})
}

// checkErr fails on an error of an unexpected kind or a value returned with
// an error, and reports whether there was an error.
func checkErr(t *testing.T, err error, nothing bool) bool {
	t.Helper()
	if err == nil {
		return false
	}
	switch errs.KindOf(err) {
	case errs.Invalid, errs.Unauthorized, errs.TooLarge:
	default:
		t.Fatalf("error of kind %v: %v", errs.KindOf(err), err)
	}
	if !nothing {
		t.Fatalf("a value returned with error %v", err)
	}
	return true
}
