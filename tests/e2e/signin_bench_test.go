package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/wemember/wemember/shared/lambda"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/store/storetest"
	"github.com/wemember/wemember/tests/eventfix"
	"github.com/wemember/wemember/tests/wxsim"
)

// BenchmarkSignIn is POST /member-api/sign-in with a valid session token,
// through the Lambda adapter: "first" is a member's first sign-in of the
// day (a new member each iteration, registered untimed), "repeat" the same
// member again that day, "streak-day" a first sign-in that also earns the
// streak coupon (streak_days 1). Besides the meter's figures it reports the
// store's atomic writes and single-item reads per sign-in (writes/op,
// gets/op).
func BenchmarkSignIn(b *testing.B) {
	benchBackends(b, func(b *testing.B, e *env, ddb *ddbCounter) {
		invoke := lambda.Invoke(e.handlers["member-api"])
		ctx := context.Background()
		run, n := rand.Text(), 0
		// newMember registers a member of the mini-program and returns the
		// sign-in event of its session.
		newMember := func() json.RawMessage {
			n++
			openid := wxsim.OpenID(mpAppID, "signin-"+run+"-"+strconv.Itoa(n))
			res, err := e.deps.Members.Arrive(ctx, member.Arrival{
				Identities: []member.Identity{{Kind: member.OpenID, Scope: mpAppID, Value: openid}}})
			if err != nil {
				b.Fatal(err)
			}
			token, _ := e.deps.Sessions.Issue(res.Member.ID)
			return signInEvent(b, token)
		}
		signIn := func(raw json.RawMessage, repeat bool) {
			out, err := invoke(ctx, raw)
			status, body := httpReply(b, out, err)
			var got struct {
				AlreadySignedIn bool `json:"already_signed_in"`
			}
			if err := json.Unmarshal(body, &got); err != nil || status != http.StatusOK || got.AlreadySignedIn != repeat {
				b.Fatalf("sign-in: status %d (%v), want 200 with already_signed_in %v: %s", status, err, repeat, body)
			}
		}
		first := func(b *testing.B) {
			for range warmUp {
				signIn(newMember(), false)
			}
			m := startMeter(b, ddb)
			s := startStoreMeter(b, e.store)
			for b.Loop() {
				var raw json.RawMessage
				s.untimed(m, func() { raw = newMember() })
				signIn(raw, false)
			}
			m.report()
			s.report()
		}
		b.Run("first", first)
		b.Run("repeat", func(b *testing.B) {
			raw := newMember()
			signIn(raw, false)
			for range warmUp {
				signIn(raw, true)
			}
			m := startMeter(b, ddb)
			s := startStoreMeter(b, e.store)
			for b.Loop() {
				signIn(raw, true)
			}
			m.report()
			s.report()
		})
		r, err := e.deps.Loyalty.Rules(ctx)
		if err != nil {
			b.Fatal(err)
		}
		r.Coupons.StreakDays = 1
		if _, err := e.deps.Loyalty.SetRules(ctx, r, "bench"); err != nil {
			b.Fatal(err)
		}
		b.Run("streak-day", first)
	})
}

// signInEvent is the API Gateway v2 event of POST /member-api/sign-in with
// token, made from the fixture of GET /member-api/me.
func signInEvent(b *testing.B, token string) json.RawMessage {
	raw, err := eventfix.Load("lambda-http-v2-me.json", map[string]string{"token": token})
	if err != nil {
		b.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		b.Fatal(err)
	}
	ev.RawPath, ev.RequestContext.HTTP.Path = "/member-api/sign-in", "/member-api/sign-in"
	ev.RouteKey, ev.RequestContext.RouteKey = "POST /member-api/{proxy+}", "POST /member-api/{proxy+}"
	ev.RequestContext.HTTP.Method, ev.PathParameters = http.MethodPost, map[string]string{"proxy": "sign-in"}
	out, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// storeMeter reports what the measured requests asked of the deployment's
// store: atomic writes and single-item reads per operation, leaving out
// what untimed set-up asked.
type storeMeter struct {
	b     *testing.B
	store *storetest.Faults
	start storetest.Counts
	setUp storetest.Counts
}

func startStoreMeter(b *testing.B, f *storetest.Faults) *storeMeter {
	return &storeMeter{b: b, store: f, start: f.Counts()}
}

// untimed runs f with the benchmark timer stopped, leaving its CPU time,
// DynamoDB calls and store calls out of the figures of m and s.
func (s *storeMeter) untimed(m *benchMeter, f func()) {
	s.b.StopTimer()
	cpu, calls, before := cpuTime(s.b), m.ddb.snapshot(), s.store.Counts()
	f()
	m.cpu += cpuTime(s.b) - cpu
	for api, c := range m.ddb.snapshot() {
		m.calls[api] += c - calls[api]
	}
	d := s.store.Since(before)
	s.setUp.Writes += d.Writes
	s.setUp.Gets += d.Gets
	s.b.StartTimer()
}

func (s *storeMeter) report() {
	n := float64(s.b.N)
	if n == 0 {
		return
	}
	d := s.store.Since(s.start)
	s.b.ReportMetric(float64(d.Writes-s.setUp.Writes)/n, "writes/op")
	s.b.ReportMetric(float64(d.Gets-s.setUp.Gets)/n, "gets/op")
}
