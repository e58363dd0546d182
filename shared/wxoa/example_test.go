package wxoa_test

import (
	"fmt"
	"time"

	"github.com/wemember/wemember/shared/wxoa"
	"github.com/wemember/wemember/tests/wxsim/push"
)

// Example shows the oa-callback handler's use of the edge: parse a push
// (here a safe-mode SCAN built by the simulator), read its scene and
// idempotency key, and answer with a passive reply that WeChat can open.
func Example() {
	now := func() time.Time { return time.Unix(1_800_000_000, 0) }
	srv, err := wxoa.New(wxoa.Config{
		Token: push.DefaultOAToken, EncodingAESKey: push.DefaultOAAESKey, AppID: push.DefaultOAAppID, Now: now,
	})
	if err != nil {
		panic(err)
	}
	wechat := push.DefaultOA()
	wechat.Now = now
	p, err := wechat.Build("http://127.0.0.1:8080/oa-callback", push.OAScan("o-alice", "123"))
	if err != nil {
		panic(err)
	}

	m, err := srv.Parse(p.Query(), p.Body) // In the handler: req.Query, req.Body.
	if err != nil {
		panic(err) // In the handler: return err; the kind picks the status.
	}
	scene, ok := m.Scene()
	fmt.Println(m.OpenID(), m.Event, scene, ok, m.DedupKey())

	reply, err := srv.ReplyText(m, "欢迎回来")
	if err != nil {
		panic(err)
	}
	plain, err := wechat.OpenReply(reply) // What WeChat does with the answer.
	fmt.Println(string(plain), err)
	// Output:
	// o-alice SCAN 123 true evt:o-alice:1800000000:SCAN
	// <xml><ToUserName><![CDATA[o-alice]]></ToUserName><FromUserName><![CDATA[gh_wemember00001]]></FromUserName><CreateTime>1800000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[欢迎回来]]></Content></xml> <nil>
}
