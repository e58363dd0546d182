// Command coldstart measures the cold start of wemember's functions on this
// machine, next to a hello-world function of each platform built and timed
// in the same run. For each platform it builds the hello world and the
// functions for the host with the tags infra/package.sh deploys them with
// (lambda,lambda.norpc,<store> for Lambda; scf,<store> for SCF; -trimpath
// -ldflags "-s -w"), execs each the way the platform does, and times exec →
// runtime ready (init) and exec → first answer, N rounds of every binary
// once, so a function and its hello world are timed side by side:
//
//   - Lambda: AWS_LAMBDA_RUNTIME_API points at a fake Runtime API on
//     127.0.0.1 that delivers one event; init ends at the first GET next.
//   - SCF (Go1): the binary listens on _LAMBDA_SERVER_PORT and is driven
//     over net/rpc as the platform does; init ends at the first Ping
//     answered, then one Function.Invoke delivers the event.
//
// The table gives per function the init median and the median over rounds
// of its init over its hello world's (paired ratio), with the goals.
//
//	go run ./tests/coldstart [-n 5] [-store bolt|dynamo] [-platform lambda,scf] [function…]
//	go run ./tests/coldstart mp-login member-api        # function names
//	go run ./tests/coldstart dist/aws/*.zip              # deployed sizes beside the host builds
//	go run ./tests/coldstart path/to/host/binary         # a prebuilt binary, started on Lambda
//
// With no argument it measures every function under functions/ but local.
// A zip (or a binary for another architecture, such as the arm64 bootstrap
// in dist/aws/<fn>/) names the function: the host build is measured and the
// deployed binary's size is reported beside it.
//
// The events are the golden fixtures in events/: mp-login gets the login
// event (API Gateway on Lambda, function URL on SCF) with a fresh js_code
// from an in-process WeChat simulator (a full login: code2session, member
// registration, token); expiry-sweep gets the schedule (EventBridge, SCF
// timer); every other function the GET /member-api/me event with a
// placeholder token (a quick 401 or 404). Every start gets a fresh bbolt
// file, or with -store dynamo a fresh table per function and platform on the
// DynamoDB Local named by WEMEMBER_DYNAMO_ENDPOINT, seeded (untimed) with
// the default rules and coupon templates a live deployment holds. All
// traffic is loopback.
//
// Must run from inside the module (it builds ./functions/<fn> and reads
// events/). Each start is killed after its first answer or after -timeout;
// temporary files are removed on exit and on interrupt.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/wemember/wemember/shared/boot"
	"github.com/wemember/wemember/shared/config"
	"github.com/wemember/wemember/tests/eventfix"
	"github.com/wemember/wemember/tests/wxsim"
)

// mpAppID is the mini-program the fixtures' referers name.
const mpAppID = "wxFIXTUREAPPID"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("coldstart", flag.ContinueOnError)
	n := fs.Int("n", 5, "cold starts per function")
	storeKind := fs.String("store", "bolt", "store backend: bolt (a fresh file per start) or dynamo (WEMEMBER_DYNAMO_ENDPOINT)")
	platformList := fs.String("platform", "lambda,scf", "platforms to build for and start on, comma-separated: lambda, scf")
	timeout := fs.Duration("timeout", 30*time.Second, "limit on one cold start (init and first answer)")
	event := fs.String("event", "", "events/ fixture every function gets instead of its default")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 {
		return errors.New("-n must be at least 1")
	}
	if runtime.GOOS != "linux" {
		return fmt.Errorf("the functions are linux binaries; this host is %s", runtime.GOOS)
	}
	if *storeKind != "bolt" && *storeKind != "dynamo" {
		return fmt.Errorf("-store %q: want bolt or dynamo", *storeKind)
	}
	var platforms []string
	for _, p := range strings.Split(*platformList, ",") {
		if p != "lambda" && p != "scf" {
			return fmt.Errorf("-platform %q: want lambda, scf or both", *platformList)
		}
		platforms = append(platforms, p)
	}
	events, err := eventfix.Dir()
	if err != nil {
		return err
	}
	root := filepath.Dir(events)
	functions, err := resolve(root, fs.Args())
	if err != nil {
		return err
	}
	targets := onPlatforms(functions, platforms)

	work, err := os.MkdirTemp("", "coldstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	fmt.Fprintf(os.Stderr, "building %d binaries for linux/%s…\n", len(targets), runtime.GOARCH)
	if err := build(ctx, root, work, *storeKind, targets); err != nil {
		return err
	}

	sim := wxsim.New()
	simSrv := httptest.NewServer(sim.Handler())
	defer simSrv.Close()
	vars := config.Dev("{{tmp}}", simSrv.URL)
	vars["WEMEMBER_MP_APPID"] = mpAppID
	sim.AddApp(mpAppID, vars["WEMEMBER_MP_SECRET"])
	sim.AddApp(vars["WEMEMBER_OA_APPID"], vars["WEMEMBER_OA_SECRET"])

	var stores *dynamoTables
	if *storeKind == "dynamo" {
		if stores, err = newDynamoTables(); err != nil {
			return err
		}
		defer stores.Close()
		vars["WEMEMBER_DYNAMO_ENDPOINT"] = stores.endpoint
	}

	m := &measurer{sim: sim, stores: stores, vars: vars, timeout: *timeout, event: *event, seeded: map[string]bool{}}
	rows := make([]row, len(targets))
	for i, t := range targets {
		if rows[i], err = m.prepareRow(ctx, t); err != nil {
			return err
		}
	}
	// Rounds: every target once a round, so a function and its platform's
	// hello world are timed side by side and their ratio holds when the
	// machine's speed drifts.
	for round := range *n {
		for i := range rows {
			if err := m.measure(ctx, &rows[i], round); err != nil {
				return err
			}
		}
	}
	printTable(os.Stdout, rows, *storeKind)
	var failed []string
	for _, r := range rows {
		if r.failed {
			failed = append(failed, r.platform+"/"+r.name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("failed to start: %v", failed)
	}
	return nil
}

// onPlatforms is each platform's hello world followed by the functions
// built for it. A prebuilt binary is started as a Lambda function.
func onPlatforms(functions []target, platforms []string) []target {
	var out []target
	for _, p := range platforms {
		out = append(out, target{name: "hello-world", platform: p, hello: true, pkg: helloPkg(p)})
		for _, f := range functions {
			if f.pkg == "" && p != "lambda" {
				continue
			}
			f.platform = p
			out = append(out, f)
		}
	}
	return out
}

// measurer runs the cold starts.
type measurer struct {
	sim     *wxsim.Sim
	stores  *dynamoTables // Nil on bolt.
	vars    map[string]string
	timeout time.Duration
	event   string          // Fixture override.
	seeded  map[string]bool // Tables seeded.
}

// prepareRow makes a target's row: its configuration, with a fresh table
// on DynamoDB.
func (m *measurer) prepareRow(ctx context.Context, t target) (row, error) {
	r := row{target: t, env: copyMap(m.vars)}
	if m.stores != nil && !t.hello {
		table, err := m.stores.Create(ctx)
		if err != nil {
			return r, err
		}
		r.env["WEMEMBER_STORE"] = "dynamo:" + table
	}
	if fi, err := os.Stat(t.binary); err == nil {
		r.hostSize = fi.Size()
	}
	return r, nil
}

// measure cold-starts r's target once. A start that fails ends its series
// (row marked failed, the cause on stderr); only interruption and store
// set-up failures are errors.
func (m *measurer) measure(ctx context.Context, r *row, round int) error {
	if r.failed {
		return nil
	}
	fixture, fvars := eventFor(r.name, r.platform, m.event, m.sim, round)
	raw, err := eventfix.Load(fixture, fvars)
	if err != nil {
		return err
	}
	l := launch{Function: r.name, Platform: r.platform, Binary: r.binary, Event: raw, Env: r.env, Timeout: m.timeout}
	if !r.hello {
		l.Prepare = m.prepare
	}
	res, err := coldStart(ctx, l)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s %s #%d failed: %v\n", r.platform, r.name, round+1, err)
		r.failed = true
		return nil
	}
	fmt.Fprintf(os.Stderr, "%s %s #%d: init %s, first answer %s (%s)\n", r.platform, r.name, round+1, ms(res.Init), ms(res.First), res.Answer)
	r.runs = append(r.runs, res)
	return nil
}

// prepare seeds the store of a start: a bbolt file is new for every start;
// a table is seeded once (seeding it again only makes DynamoDB Local refuse
// the conditional writes, which the SDK logs as checksum warnings).
func (m *measurer) prepare(ctx context.Context, env map[string]string) error {
	if st := env["WEMEMBER_STORE"]; strings.HasPrefix(st, "dynamo:") {
		if m.seeded[st] {
			return nil
		}
		m.seeded[st] = true
	}
	return seed(ctx, env)
}

// eventFor picks a function's fixture and placeholder values for run i on
// a platform.
func eventFor(function, platform, override string, sim *wxsim.Sim, i int) (string, map[string]string) {
	name := "coldstart-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.Itoa(i)
	openid, unionid := wxsim.OpenID(mpAppID, name), wxsim.UnionID(name)
	vars := map[string]string{"openid": openid, "unionid": unionid, "code": sim.LoginCode(mpAppID, openid, unionid)}
	scf := platform == "scf"
	switch {
	case override != "":
		return override, vars
	case function == "mp-login" && scf:
		return "scf-function-url.json", vars
	case function == "mp-login":
		return "lambda-http-v2.json", vars
	case function == "expiry-sweep" && scf:
		return "scf-timer.json", vars
	case function == "expiry-sweep":
		return "eventbridge-schedule.json", vars
	case scf:
		return "scf-apigw-me.json", vars
	}
	return "lambda-http-v2-me.json", vars
}

// row is one target's results.
type row struct {
	target
	env      map[string]string // The function's configuration.
	hostSize int64
	runs     []measurement
	failed   bool
}

// Goals of INIT against the platform's hello world, paired medians.
const (
	goalLambdaDynamo = 1.5
	goalOther        = 1.3
)

func printTable(out *os.File, rows []row, store string) {
	fmt.Fprintf(out, "\ncold start on linux/%s, %s store, %d CPUs (init = exec → runtime ready: first GET next on Lambda, first Ping answered on SCF; first = exec → first answer)\n", runtime.GOARCH, store, runtime.NumCPU())
	hello := map[string]*row{}
	for i := range rows {
		if rows[i].hello {
			hello[rows[i].platform] = &rows[i]
		}
	}
	platform := ""
	var w *tabwriter.Writer
	for _, r := range rows {
		if r.platform != platform {
			if w != nil {
				w.Flush()
			}
			platform = r.platform
			goal := goalOther
			if platform == "lambda" && store == "dynamo" {
				goal = goalLambdaDynamo
			}
			fmt.Fprintf(out, "\n%s build (-tags %s; a prebuilt binary as given); goal: init ≤ %.1f× hello world\n\n", platform, buildTags(platform, store), goal)
			w = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(w, "function\tbinary (host)\tdeployed\tinit min\tinit median\t× hello (paired median)\t× hello (min/min)\tfirst median\tanswer\tn\t")
		}
		var inits, firsts []time.Duration
		for _, m := range r.runs {
			inits, firsts = append(inits, m.Init), append(firsts, m.First)
		}
		deployed := "-"
		if r.deployedSize > 0 {
			deployed = mib(r.deployedSize)
			if r.deployedArch != "" {
				deployed += " " + r.deployedArch
			}
		}
		answer := "-"
		if len(r.runs) > 0 {
			answer = r.runs[len(r.runs)-1].Answer
		}
		if r.failed {
			answer = "FAILED"
		}
		stats := []string{"-", "-", "-", "-", "-"}
		if len(r.runs) > 0 {
			stats = []string{ms(minOf(inits)), ms(median(inits)), ratioText(r, hello[r.platform]), minRatioText(r, hello[r.platform]), ms(median(firsts))}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n", r.name, mib(r.hostSize), deployed,
			stats[0], stats[1], stats[2], stats[3], stats[4], answer, len(r.runs))
	}
	if w != nil {
		w.Flush()
	}
}

// ratioText is the median over rounds of r's init over its hello world's
// init in the same round.
func ratioText(r row, hello *row) string {
	if hello == nil || r.hello {
		return "-"
	}
	var ratios []float64
	for i := range min(len(r.runs), len(hello.runs)) {
		if h := hello.runs[i].Init; h > 0 {
			ratios = append(ratios, float64(r.runs[i].Init)/float64(h))
		}
	}
	if len(ratios) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", medianOf(ratios))
}

// minRatioText is r's fastest init over its hello world's fastest: on a
// busy machine other work only adds time, so the minima are the least
// disturbed figures.
func minRatioText(r row, hello *row) string {
	if hello == nil || r.hello || len(hello.runs) == 0 {
		return "-"
	}
	inits := func(rs []measurement) []time.Duration {
		var out []time.Duration
		for _, m := range rs {
			out = append(out, m.Init)
		}
		return out
	}
	h := minOf(inits(hello.runs))
	if h <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", float64(minOf(inits(r.runs)))/float64(h))
}

// medianOf is the middle value of xs, or the mean of the two middle ones.
func medianOf(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minOf(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	m := ds[0]
	for _, d := range ds[1:] {
		m = min(m, d)
	}
	return m
}

// median of ds: the middle value, or the mean of the two middle ones.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func mib(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// seed installs the default rules and coupon templates in the function's
// store, as a live deployment has them (expiry-sweep installs them on every
// run): on an empty store mp-login cannot register a member.
func seed(ctx context.Context, env map[string]string) error {
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		return err
	}
	d, err := boot.Open(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	return errors.Join(d.EnsureDefaults(ctx), d.Store.Close())
}
