package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/wemember/wemember/shared/lambda"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/tests/backends"
	"github.com/wemember/wemember/tests/eventfix"
	"github.com/wemember/wemember/tests/wxsim"
)

// The member hot paths, measured through the real chain a Lambda
// invocation takes: the event JSON as the platform delivers it, the Lambda
// adapter, the standard middleware (request id, JSON log, errors, recover,
// body limit), the function's routes, and — for mp-login — code2session over
// loopback HTTP through silenceper to the simulator and the member
// registration or lookup in the store.
//
//	go test -run '^$' -bench . -benchmem ./tests/e2e/
//
// `make bench` runs them with fixed iteration counts and prints them as one
// table per backend (tests/benchreport). The dynamo variants run when
// WEMEMBER_DYNAMO_ENDPOINT names a DynamoDB Local (make bench starts one)
// and are skipped otherwise.
//
// Every benchmark reports what benchMeter describes: the median latency
// (p50-ns), the store commits and reads per operation as the deployment's
// counting store sees them, the process's CPU time per operation, and on
// dynamo the DynamoDB calls per operation, the figures that carry over to
// the real service. BenchmarkWrite3 is the yardstick: one 3-item atomic
// write on the same kind of store in the same run. The allocations and CPU
// time include the in-process simulator's side of code2session, not
// DynamoDB Local's.

// codeMark stands for the js_code in the login event template; each
// iteration replaces it with a fresh code from the simulator.
const codeMark = "BENCHJSCODEMARK"

// perMinute is how many logins one user makes in one simulated minute:
// below the simulator's code2session quota of 100 per user per minute.
const perMinute = 90

// warmUp is how many untimed calls precede each measurement.
const warmUp = 5

// benchBackends runs f once per backend, as sub-benchmarks <name>/bolt and
// <name>/dynamo, each over one fresh deployment.
//
// On dynamo the deployment reaches DynamoDB Local through a counting relay,
// so each measurement also reports DynamoDB calls per operation.
func benchBackends(b *testing.B, f func(b *testing.B, e *env, ddb *ddbCounter)) {
	for _, be := range backends.All() {
		b.Run(be.Name, func(b *testing.B) {
			var ddb *ddbCounter
			if be.Name == "dynamo" {
				ddb = countDynamo(b)
			}
			f(b, newEnv(b, be), ddb)
		})
	}
}

// BenchmarkLogin is a full mini-program login per iteration: a fresh js_code
// from the simulator, the function URL event carrying it, code2session,
// member registration ("new") or lookup ("returning"), and the session
// token.
func BenchmarkLogin(b *testing.B) {
	benchBackends(b, func(b *testing.B, e *env, ddb *ddbCounter) {
		b.Run("new", func(b *testing.B) { benchLogin(b, e, ddb, false) })
		b.Run("returning", func(b *testing.B) { benchLogin(b, e, ddb, true) })
	})
}

// BenchmarkCard is GET /member-api/me with a valid session token: token
// check, member and card read, JSON answer.
func BenchmarkCard(b *testing.B) {
	benchBackends(b, func(b *testing.B, e *env, ddb *ddbCounter) {
		login := newMPLogin(b, e)
		openid, unionid := wxsim.OpenID(mpAppID, "card-bench"), wxsim.UnionID("card-bench")
		got := login.call(b, sim.LoginCode(mpAppID, openid, unionid))
		raw, err := eventfix.Load("lambda-http-v2-me.json", map[string]string{"openid": openid, "unionid": unionid, "token": got.Token})
		if err != nil {
			b.Fatal(err)
		}
		invoke := lambda.Invoke(e.handlers["member-api"])
		ctx := context.Background()
		card := func() {
			out, err := invoke(ctx, raw)
			status, body := httpReply(b, out, err)
			var card struct {
				Member struct {
					ID string `json:"id"`
				} `json:"member"`
			}
			if err := json.Unmarshal(body, &card); err != nil || status != http.StatusOK || card.Member.ID != got.MemberID {
				b.Fatalf("card: status %d, member %q (%v); want 200, %q: %s", status, card.Member.ID, err, got.MemberID, body)
			}
		}
		for range warmUp {
			card()
		}
		m := startMeter(b, e, ddb)
		for b.Loop() {
			m.time(card)
		}
		m.report()
	})
}

// benchLogin logs in a new member per iteration, or the same returning
// member every iteration.
func benchLogin(b *testing.B, e *env, ddb *ddbCounter, returning bool) {
	login := newMPLogin(b, e)
	run := rand.Text() // New members are unique across runs over one store.
	openid, unionid := wxsim.OpenID(mpAppID, "returning-"+run), wxsim.UnionID("returning-"+run)
	var want string
	if returning {
		want = login.call(b, sim.LoginCode(mpAppID, openid, unionid)).MemberID
	}
	for i := range warmUp { // Untimed: connections, caches, DynamoDB Local's JIT.
		login.call(b, sim.LoginCode(mpAppID, wxsim.OpenID(mpAppID, "warm-"+run+strconv.Itoa(i)), ""))
	}
	m := startMeter(b, e, ddb)
	defer m.report()
	n := 0
	for b.Loop() {
		if returning && n > 0 && n%perMinute == 0 {
			b.StopTimer()
			sim.Advance(time.Minute) // A fresh code2session quota window.
			b.StartTimer()
		}
		if !returning {
			name := "new-" + run + "-" + strconv.Itoa(n)
			openid, unionid = wxsim.OpenID(mpAppID, name), wxsim.UnionID(name)
		}
		var got loginReply
		code := sim.LoginCode(mpAppID, openid, unionid)
		m.time(func() { got = login.call(b, code) })
		switch {
		case got.Created == returning:
			b.Fatalf("login %d: created=%v; want %v", n, got.Created, !returning)
		case returning && got.MemberID != want:
			b.Fatalf("login %d: member %q; want the returning %q", n, got.MemberID, want)
		}
		n++
	}
}

// mpLogin invokes mp-login through the Lambda adapter with a function URL
// event.
type mpLogin struct {
	invoke func(ctx context.Context, raw json.RawMessage) (any, error)
	event  []byte // The event with codeMark for its js_code.
}

func newMPLogin(b *testing.B, e *env) *mpLogin {
	b.Helper()
	// Every iteration comes from the fixture's one address: lift the login
	// limit, whose counting each login still pays.
	rules, err := e.deps.Members.Rules(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	rules.LoginLimit.Calls = member.MaxLoginCalls
	if _, err := e.deps.Members.SetRules(context.Background(), rules, "bench"); err != nil {
		b.Fatal(err)
	}
	raw, err := eventfix.Load("lambda-function-url.json", map[string]string{"code": codeMark})
	if err != nil {
		b.Fatal(err)
	}
	if bytes.Count(raw, []byte(codeMark)) != 1 {
		b.Fatalf("lambda-function-url.json: want one {{code}} in a plain body, got %s", raw)
	}
	return &mpLogin{invoke: lambda.Invoke(e.handlers["mp-login"]), event: raw}
}

// call logs in with code and returns the answer, failing b unless it is a
// 200 with a token and a member id.
func (l *mpLogin) call(b *testing.B, code string) loginReply {
	raw := bytes.Replace(l.event, []byte(codeMark), []byte(code), 1)
	out, err := l.invoke(context.Background(), raw)
	status, body := httpReply(b, out, err)
	var got loginReply
	if err := json.Unmarshal(body, &got); err != nil || status != http.StatusOK || got.Token == "" || got.MemberID == "" {
		b.Fatalf("mp-login: status %d (%v): %s", status, err, body)
	}
	return got
}

// httpReply is the status and body of a Lambda HTTP answer.
func httpReply(b *testing.B, out any, err error) (int, []byte) {
	if err != nil {
		b.Fatalf("invoke: %v", err)
	}
	switch r := out.(type) {
	case events.LambdaFunctionURLResponse:
		return r.StatusCode, replyBody(b, r.Body, r.IsBase64Encoded)
	case events.APIGatewayV2HTTPResponse:
		return r.StatusCode, replyBody(b, r.Body, r.IsBase64Encoded)
	}
	b.Fatalf("invoke answered %T, not an HTTP response", out)
	return 0, nil
}

func replyBody(b *testing.B, s string, b64 bool) []byte {
	if !b64 {
		return []byte(s)
	}
	out, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b.Fatalf("answer body is not base64: %v", err)
	}
	return out
}

// ddbCounter is a loopback TCP relay in front of DynamoDB Local that counts
// the calls through it by API, reading the X-Amz-Target header as the bytes
// pass. It parses no HTTP and reuses one buffer per connection, so it adds
// next to nothing to the allocations and CPU time the benchmark reports.
type ddbCounter struct {
	mu    sync.Mutex
	calls map[string]*int // By pointer: counting a known API allocates nothing.
}

// targetMark precedes the API name in every DynamoDB request.
var targetMark = []byte("X-Amz-Target: DynamoDB_20120810.")

// countDynamo relays the DynamoDB Local endpoint through a counter for the
// rest of b (b's deployment is opened after it), or returns nil without an
// endpoint (the dynamo benchmark then skips).
func countDynamo(b *testing.B) *ddbCounter {
	endpoint := os.Getenv(backends.EndpointVar)
	if endpoint == "" {
		return nil
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		b.Fatalf("%s: %v", backends.EndpointVar, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	c := &ddbCounter{calls: map[string]*int{}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", u.Host)
			if err != nil {
				in.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, in, out)
			mu.Unlock()
			wg.Go(func() { io.Copy(in, out); in.Close() })
			wg.Go(func() { c.relay(out, in); out.Close() })
		}
	})
	b.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, conn := range conns {
			conn.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	b.Setenv(backends.EndpointVar, "http://"+ln.Addr().String())
	return c
}

// relay copies requests from in to out, counting the APIs they call. A
// header split across two reads is found in the carried tail of the first.
func (c *ddbCounter) relay(out io.Writer, in io.Reader) {
	buf := make([]byte, 32<<10)
	scan := make([]byte, 0, len(buf)+128)
	var carry []byte
	for {
		n, err := in.Read(buf)
		if n > 0 {
			scan = append(append(scan[:0], carry...), buf[:n]...)
			for at := 0; ; {
				k := bytes.Index(scan[at:], targetMark)
				if k < 0 {
					break
				}
				start := at + k + len(targetMark)
				end := bytes.IndexByte(scan[start:], '\r')
				if end < 0 {
					break
				}
				if start+end >= len(carry) { // Not counted with the previous read.
					c.count(scan[start : start+end])
				}
				at = start + end
			}
			carry = append(carry[:0], scan[max(0, len(scan)-128):]...)
			if _, werr := out.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (c *ddbCounter) count(api []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.calls[string(api)]; n != nil {
		*n++
		return
	}
	n := 1
	c.calls[string(api)] = &n
}

// snapshot copies the counts so far (nil for a nil counter).
func (c *ddbCounter) snapshot() map[string]int {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.calls))
	for k, v := range c.calls {
		out[k] = *v
	}
	return out
}
