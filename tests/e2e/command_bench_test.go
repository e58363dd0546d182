package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/lambda"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/tests/eventfix"
	"github.com/wemember/wemember/tests/wxsim"
)

// The yardstick and the member commands besides login and the card: daily
// sign-in through the Lambda adapter as the mini-program sends it, and the
// coupon and points commands as the functions call them on the deployment's
// services. Each reports what benchMeter describes.
//
//	go test -run '^$' -bench 'Write3|SignIn|Coupon|Points' -benchmem ./tests/e2e/

// BenchmarkWrite3 is one 3-item atomic write per iteration on the
// deployment's store (an item, its index entry and a counter, as a command
// writes them, the same write as storetest.Bench's Write3): the yardstick
// on its own, which benchMeter makes before every other operation.
func BenchmarkWrite3(b *testing.B) {
	benchBackends(b, func(b *testing.B, e *env, ddb *ddbCounter) {
		w := newWrite3(e.store)
		for range warmUp {
			w.write(b)
		}
		m := startMeter(b, e, ddb)
		for b.Loop() {
			m.laps = append(m.laps, w.write(b))
		}
		m.report()
	})
}

// BenchmarkSignIn is POST /member-api/sign-in through the Lambda adapter:
// "first" is each member's first sign-in of the day (points, streak and
// growth credited; b.N members logged in beforehand), "repeat" the same
// member signing in again that day (the answer says so, nothing credited),
// "streak" a first sign-in of the day that completes a streak and brings
// the streak coupon (streak_days set to 2; b.N members signed in the day
// before).
func BenchmarkSignIn(b *testing.B) {
	benchBackends(b, func(b *testing.B, e *env, ddb *ddbCounter) {
		login := newMPLogin(b, e)
		invoke := lambda.Invoke(e.handlers["member-api"])
		run := rand.Text()
		member := func(name string) []byte {
			got := login.call(b, sim.LoginCode(mpAppID, wxsim.OpenID(mpAppID, name), wxsim.UnionID(name)))
			return signInEvent(b, got.Token)
		}
		b.Run("first", func(b *testing.B) {
			evs := make([][]byte, b.N)
			for i := range evs {
				evs[i] = member("signin-" + run + "-" + strconv.Itoa(b.N) + "-" + strconv.Itoa(i))
			}
			m := startMeter(b, e, ddb)
			for i := range b.N {
				m.time(func() {
					if got := signIn(b, invoke, evs[i]); got.AlreadySignedIn {
						b.Fatalf("sign-in %d: already signed in; want a first sign-in", i)
					}
				})
			}
			m.report()
		})
		b.Run("streak", func(b *testing.B) { benchStreak(b, e, ddb, login, invoke, run) })
		b.Run("repeat", func(b *testing.B) {
			ev := member("signin-again-" + run)
			signIn(b, invoke, ev)
			for range warmUp {
				signIn(b, invoke, ev)
			}
			m := startMeter(b, e, ddb)
			for b.Loop() {
				m.time(func() {
					if got := signIn(b, invoke, ev); !got.AlreadySignedIn {
						b.Fatal("repeat sign-in credited again")
					}
				})
			}
			m.report()
		})
	})
}

// benchStreak signs b.N new members in, moves the clock on a day and times
// each one's sign-in that completes a 2-day streak.
func benchStreak(b *testing.B, e *env, ddb *ddbCounter, login *mpLogin, invoke func(context.Context, json.RawMessage) (any, error), run string) {
	ctx := context.Background()
	rules, err := e.deps.Loyalty.Rules(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if rules.Coupons.StreakDays != 2 {
		rules.Coupons.StreakDays = 2
		if _, err := e.deps.Loyalty.SetRules(ctx, rules, "bench"); err != nil {
			b.Fatal(err)
		}
	}
	ids := make([]string, b.N)
	for i := range ids {
		name := "streak-" + run + "-" + strconv.Itoa(b.N) + "-" + strconv.Itoa(i)
		got := login.call(b, sim.LoginCode(mpAppID, wxsim.OpenID(mpAppID, name), wxsim.UnionID(name)))
		signIn(b, invoke, signInEvent(b, got.Token))
		ids[i] = got.MemberID
	}
	e.clock.Advance(24 * time.Hour)
	evs := make([][]byte, b.N)
	for i, id := range ids {
		token, _ := e.deps.Sessions.Issue(id) // Yesterday's session has expired.
		evs[i] = signInEvent(b, token)
	}
	m := startMeter(b, e, ddb)
	for i := range b.N {
		m.time(func() {
			if got := signIn(b, invoke, evs[i]); got.Streak != 2 || got.Coupon == nil {
				b.Fatalf("sign-in %d: streak %d, coupon %v; want 2 and the streak coupon", i, got.Streak, got.Coupon)
			}
		})
	}
	m.report()
}

// signInReply is the part of the sign-in answer the benchmark checks.
type signInReply struct {
	AlreadySignedIn bool            `json:"already_signed_in"`
	Streak          int             `json:"streak"`
	Coupon          json.RawMessage `json:"coupon"`
}

// signInEvent is the API Gateway event of a sign-in with token: the golden
// GET /member-api/me event turned into POST /member-api/sign-in.
func signInEvent(b *testing.B, token string) []byte {
	raw, err := eventfix.Load("lambda-http-v2-me.json", map[string]string{"token": token})
	if err != nil {
		b.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		b.Fatal(err)
	}
	ev.RouteKey = "POST /member-api/{proxy+}"
	ev.RequestContext.RouteKey = ev.RouteKey
	ev.RawPath, ev.RequestContext.HTTP.Path = "/member-api/sign-in", "/member-api/sign-in"
	ev.RequestContext.HTTP.Method = http.MethodPost
	ev.PathParameters = map[string]string{"proxy": "sign-in"}
	out, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func signIn(b *testing.B, invoke func(context.Context, json.RawMessage) (any, error), ev []byte) signInReply {
	out, err := invoke(context.Background(), ev)
	status, body := httpReply(b, out, err)
	var got signInReply
	if err := json.Unmarshal(body, &got); err != nil || status != http.StatusOK || got.Streak < 1 {
		b.Fatalf("sign-in: status %d (%v): %s", status, err, body)
	}
	return got
}

// benchTemplate is the coupon template the coupon benchmarks issue: 5 yuan
// off anything, valid 7 days.
func benchTemplate(b *testing.B, e *env) string {
	t := coupons.Template{ID: "bench", Name: "bench", Kind: coupons.AmountOff, AmountOff: 500,
		Scope: coupons.Scope{Kind: coupons.ScopeAll}, Validity: coupons.Validity{Kind: coupons.Relative, Days: 7},
		Status: coupons.Active}
	if _, err := e.deps.Coupons.SaveTemplate(context.Background(), t, "bench"); err != nil {
		b.Fatalf("SaveTemplate: %v", err)
	}
	return t.ID
}

// BenchmarkCoupon: "issue" is one coupon of a template to a new member per
// iteration; "redeem" a clerk redeeming one of b.N coupons issued
// beforehand.
func BenchmarkCoupon(b *testing.B) {
	benchBackends(b, func(b *testing.B, e *env, ddb *ddbCounter) {
		ctx := context.Background()
		tpl := benchTemplate(b, e)
		run := rand.Text()
		issue := func(i int, tag string) coupons.Instance {
			got, err := e.deps.Coupons.Issue(ctx, coupons.IssueCmd{TemplateID: tpl, MemberID: fmt.Sprintf("m-%s-%s%d", run, tag, i),
				Reason: "bench", Key: fmt.Sprintf("%s-%s%d", run, tag, i)})
			if err != nil {
				b.Fatalf("Issue: %v", err)
			}
			return got.Instance
		}
		b.Run("issue", func(b *testing.B) {
			for i := range warmUp {
				issue(i, "warm")
			}
			m := startMeter(b, e, ddb)
			for i := 0; b.Loop(); i++ {
				m.time(func() { issue(i, "issue") })
			}
			m.report()
		})
		b.Run("redeem", func(b *testing.B) {
			ins := make([]coupons.Instance, b.N)
			for i := range ins {
				ins[i] = issue(i, "redeem"+strconv.Itoa(b.N)+"-")
			}
			m := startMeter(b, e, ddb)
			for i, in := range ins {
				m.time(func() {
					if _, err := e.deps.Coupons.Redeem(ctx, coupons.RedeemCmd{InstanceID: in.ID, MemberID: in.MemberID,
						Clerk: "clerk", Key: "r" + strconv.Itoa(i)}); err != nil {
						b.Fatalf("Redeem: %v", err)
					}
				})
			}
			m.report()
		})
	})
}

// pointsMembers is how many members the points benchmarks spread over.
const pointsMembers = 100

// BenchmarkPoints: "earn" is one new lot of 10 points per command, spread
// over 100 members; "spend" 5 points from members holding one large lot.
func BenchmarkPoints(b *testing.B) {
	benchBackends(b, func(b *testing.B, e *env, ddb *ddbCounter) {
		ctx := context.Background()
		svc := e.deps.Loyalty
		run := rand.Text()
		memberOf := func(tag string, i int) string { return fmt.Sprintf("%s-%s-%d", tag, run, i%pointsMembers) }
		earn := func(member string, points int64, key string) {
			if _, err := svc.Earn(ctx, loyalty.EarnCmd{MemberID: member, Points: points, Key: key}); err != nil {
				b.Fatalf("Earn: %v", err)
			}
		}
		b.Run("earn", func(b *testing.B) {
			for i := range warmUp {
				earn(memberOf("earn", i), 10, run+"-warm"+strconv.Itoa(i))
			}
			m := startMeter(b, e, ddb)
			for i := 0; b.Loop(); i++ {
				m.time(func() { earn(memberOf("earn", i), 10, run+"-e"+strconv.Itoa(i)) })
			}
			m.report()
		})
		b.Run("spend", func(b *testing.B) {
			for i := range pointsMembers {
				earn(memberOf("spend", i), loyalty.MaxPoints, run+"-seed"+strconv.Itoa(i))
			}
			m := startMeter(b, e, ddb)
			for i := 0; b.Loop(); i++ {
				m.time(func() {
					if _, err := svc.Spend(ctx, loyalty.SpendCmd{MemberID: memberOf("spend", i), Points: 5, Key: run + "-s" + strconv.Itoa(i)}); err != nil {
						b.Fatalf("Spend: %v", err)
					}
				})
			}
			m.report()
		})
	})
}
