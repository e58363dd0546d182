package wxwork_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/wxwork"
)

// The official WXBizMsgCrypt sample vectors (WeCom developer docs, the
// samples of every language): an independent check of the edge's crypto.
const (
	sampleToken  = "QDG6eK"
	sampleAESKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	sampleCorpID = "wx5823bf96d3bd56c7"
	sampleEcho   = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
	samplePost   = `<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==]]></Encrypt>
<AgentID><![CDATA[218]]></AgentID>
</xml>`
)

func sampleServer(t *testing.T, at int64) *wxwork.Server {
	t.Helper()
	s, err := wxwork.New(wxwork.Config{Token: sampleToken, EncodingAESKey: sampleAESKey, CorpID: sampleCorpID,
		Now: func() time.Time { return time.Unix(at, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOfficialVectors(t *testing.T) {
	get := url.Values{"msg_signature": {"5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"}, "timestamp": {"1409659589"},
		"nonce": {"263014780"}, "echostr": {sampleEcho}}
	echo, err := sampleServer(t, 1409659589).VerifyURL(get)
	if err != nil || string(echo) != "1616140317555161061" {
		t.Errorf("VerifyURL(official sample) = %q, %v; want 1616140317555161061", echo, err)
	}
	post := url.Values{"msg_signature": {"477715d11cdb4164915debcba66cb864d751f3e6"}, "timestamp": {"1409659813"}, "nonce": {"1372623149"}}
	ev, err := sampleServer(t, 1409659813).Parse(post, []byte(samplePost))
	if err != nil {
		t.Fatalf("Parse(official sample): %v", err)
	}
	want := wxwork.Event{ToUserName: sampleCorpID, FromUserName: "mycreate", CreateTime: 1409659813, MsgType: "text"}
	if *ev != want {
		t.Errorf("Parse(official sample) = %+v, want %+v", *ev, want)
	}
	if _, err := sampleServer(t, 1409659813+301).Parse(post, []byte(samplePost)); err == nil {
		t.Error("the official sample, replayed 301 s later, was accepted")
	}
}
