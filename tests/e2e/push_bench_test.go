package e2e_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/web"
	"github.com/wemember/wemember/tests/wxsim/push"
)

// The Official Account and WeCom pushes, measured end to end through the function's full
// handler (standard middleware, routes): signature checks, AES decryption,
// XML parsing, the idempotency guard, the user/info or externalcontact/get
// call over loopback HTTP to the simulator, the member registration with
// its identity index, follow, pending attribution and registration coupon
// in the store, and (OA) the encrypted passive reply. The pushes are signed
// and encrypted before the timer starts.
//
//	go test -run '^$' -bench 'Push' -benchmem ./tests/e2e/
//
// The dynamo variants run when WEMEMBER_DYNAMO_ENDPOINT names a DynamoDB
// Local and are skipped otherwise. Each reports what benchMeter describes,
// and pushes/s.

// pushBench runs f once per backend over a fresh deployment (on dynamo
// through the counting relay, as benchBackends).
func pushBench(b *testing.B, f func(b *testing.B, e *env, ddb *ddbCounter)) {
	benchBackends(b, func(b *testing.B, e *env, ddb *ddbCounter) {
		cfg := e.deps.Config
		sim.AddCorp(cfg.WeComCorpID, cfg.WeComSecret, false)
		f(b, e, ddb)
	})
}

// deliver runs prepared pushes through a function's handler, metered, and
// checks each answer.
func deliver(b *testing.B, e *env, ddb *ddbCounter, function string, ps []*push.Push, check func(status int, body []byte) bool) {
	h := e.handlers[function]
	ctx := context.Background()
	m := startMeter(b, e, ddb)
	start := time.Now()
	for _, p := range ps {
		m.time(func() {
			resp, err := h(ctx, web.NewRequest(p.Method, p.URL.RequestURI(), p.Body))
			if err != nil || !check(resp.Status, resp.Body) {
				b.Fatalf("%s: %v %+v", function, err, resp)
			}
		})
	}
	b.StopTimer()
	b.ReportMetric(float64(len(ps))/time.Since(start).Seconds(), "pushes/s")
	m.report()
}

// BenchmarkOAPush: "subscribe" is a new follower scanning a scene QR per
// iteration (a new member; the welcome reply); "text" is a keyword message
// from an existing follower (the encrypted link reply, no member write).
func BenchmarkOAPush(b *testing.B) {
	pushBench(b, func(b *testing.B, e *env, ddb *ddbCounter) {
		cfg := e.deps.Config
		oa := e.oa()
		run := rand.Text()[:8]
		target := e.url("oa-callback")
		b.Run("subscribe", func(b *testing.B) {
			ps := make([]*push.Push, b.N)
			for i := range ps {
				f := sim.Follow(cfg.OAAppID, "oa-bench-"+run+"-"+strconv.Itoa(b.N)+"-"+strconv.Itoa(i), "bench-scene")
				p, err := oa.Build(target, push.OASubscribe(f.OpenID, "bench-scene"))
				if err != nil {
					b.Fatal(err)
				}
				ps[i] = p
			}
			deliver(b, e, ddb, "oa-callback", ps, func(s int, body []byte) bool { return s == http.StatusOK && len(body) > 100 })
		})
		b.Run("text", func(b *testing.B) {
			f := sim.Follow(cfg.OAAppID, "oa-bench-text-"+run, "")
			ps := make([]*push.Push, b.N)
			base := time.Now().UnixNano()
			for i := range ps {
				p, err := oa.Build(target, push.OAText(f.OpenID, "会员", base+int64(i)))
				if err != nil {
					b.Fatal(err)
				}
				ps[i] = p
			}
			deliver(b, e, ddb, "oa-callback", ps, func(s int, body []byte) bool { return s == http.StatusOK && len(body) > 100 })
		})
	})
}

// BenchmarkWeComPush: "add" is a new customer adding a sales rep with a
// state per iteration (a new member and a welcome message through
// send_welcome_msg); "del" is a customer removing the rep (a follow ended).
func BenchmarkWeComPush(b *testing.B) {
	pushBench(b, func(b *testing.B, e *env, ddb *ddbCounter) {
		cfg := e.deps.Config
		wc := e.wecom()
		run := rand.Text()[:8]
		target := e.url("wecom-callback")
		var added []string
		b.Run("add", func(b *testing.B) {
			ps := make([]*push.Push, b.N)
			added = added[:0]
			for i := range ps {
				c, code := sim.AddContact(cfg.WeComCorpID, "wecom-bench-"+run+"-"+strconv.Itoa(b.N)+"-"+strconv.Itoa(i), "bench-rep", "bench-state")
				ev := push.WeComAdd("bench-rep", c.ExternalUserID, "bench-state")
				ev.WelcomeCode = code
				p, err := wc.Build(target, ev)
				if err != nil {
					b.Fatal(err)
				}
				ps[i], added = p, append(added, c.ExternalUserID)
			}
			deliver(b, e, ddb, "wecom-callback", ps, func(s int, body []byte) bool { return s == http.StatusOK && string(body) == "success" })
		})
		b.Run("del", func(b *testing.B) {
			ps := make([]*push.Push, b.N)
			for i := range ps {
				ev := push.WeComDelFollow("bench-rep", added[i%len(added)])
				ev.CreateTime = time.Now().Unix() + int64(i) // Distinct events.
				p, err := wc.Build(target, ev)
				if err != nil {
					b.Fatal(err)
				}
				ps[i] = p
			}
			deliver(b, e, ddb, "wecom-callback", ps, func(s int, body []byte) bool { return s == http.StatusOK && string(body) == "success" })
		})
	})
}
