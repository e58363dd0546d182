// Command coldstart measures the cold start of wemember's Lambda functions on
// this machine: for each function it builds the binary for the host
// (go build -tags lambda.norpc -trimpath -ldflags "-s -w", as infra/package.sh
// builds the deployed one), execs it the way the Lambda service does — with
// AWS_LAMBDA_RUNTIME_API pointing at a fake Runtime API on 127.0.0.1 that
// delivers one event — and times exec → first GET next (init) and exec →
// first answer posted (init and the first invocation), N times.
//
//	go run ./tests/coldstart [-n 5] [-store bolt|dynamo] dist/aws/*.zip
//	go run ./tests/coldstart mp-login member-api        # function names
//	go run ./tests/coldstart path/to/host/binary         # a prebuilt binary
//
// With no argument it measures every function under functions/ but local.
// A zip (or a binary for another architecture, such as the arm64 bootstrap
// in dist/aws/<fn>/) names the function: the host build is measured and the
// deployed binary's size is reported beside it.
//
// The events are the golden fixtures in events/: mp-login gets the API
// Gateway login event with a fresh js_code from an in-process WeChat
// simulator (a full login: code2session, member registration, token);
// expiry-sweep gets the EventBridge schedule; every other function the GET
// /member-api/me event with a placeholder token (a quick 401 or 404). Every
// start gets a fresh bbolt file, or with -store dynamo a fresh table per
// function on the DynamoDB Local named by WEMEMBER_DYNAMO_ENDPOINT, seeded
// (untimed) with the default rules and coupon templates a live deployment
// holds. All traffic is loopback.
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
	events, err := eventfix.Dir()
	if err != nil {
		return err
	}
	root := filepath.Dir(events)
	targets, err := resolve(root, fs.Args())
	if err != nil {
		return err
	}

	work, err := os.MkdirTemp("", "coldstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	fmt.Fprintf(os.Stderr, "building %d functions for linux/%s…\n", len(targets), runtime.GOARCH)
	if err := build(ctx, root, work, targets); err != nil {
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
	} else if *storeKind != "bolt" {
		return fmt.Errorf("-store %q: want bolt or dynamo", *storeKind)
	}

	m := &measurer{sim: sim, stores: stores, vars: vars, n: *n, timeout: *timeout, event: *event, seeded: map[string]bool{}}
	var rows []row
	var failed []string
	for _, t := range targets {
		r, err := m.measure(ctx, t)
		if err != nil {
			return err
		}
		if r.failed {
			failed = append(failed, t.name)
		}
		rows = append(rows, r)
	}
	printTable(os.Stdout, rows, *storeKind)
	if len(failed) > 0 {
		return fmt.Errorf("failed to start: %v", failed)
	}
	return nil
}

// measurer runs the cold starts of one function after another.
type measurer struct {
	sim     *wxsim.Sim
	stores  *dynamoTables // Nil on bolt.
	vars    map[string]string
	n       int
	timeout time.Duration
	event   string          // Fixture override.
	seeded  map[string]bool // Tables seeded.
}

// measure cold-starts t n times. A start that fails ends t's series (row
// marked failed, the cause on stderr); only interruption and store set-up
// failures are errors.
func (m *measurer) measure(ctx context.Context, t target) (row, error) {
	env := copyMap(m.vars)
	if m.stores != nil {
		table, err := m.stores.Create(ctx)
		if err != nil {
			return row{}, err
		}
		env["WEMEMBER_STORE"] = "dynamo:" + table
	}
	r := row{target: t}
	if fi, err := os.Stat(t.binary); err == nil {
		r.hostSize = fi.Size()
	}
	for i := range m.n {
		fixture, fvars := eventFor(t.name, m.event, m.sim, i)
		raw, err := eventfix.Load(fixture, fvars)
		if err != nil {
			return r, err
		}
		res, err := coldStart(ctx, launch{Function: t.name, Binary: t.binary, Event: raw, Env: env, Timeout: m.timeout, Prepare: m.prepare})
		if ctx.Err() != nil {
			return r, ctx.Err()
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s #%d failed: %v\n", t.name, i+1, err)
			r.failed = true
			break
		}
		fmt.Fprintf(os.Stderr, "%s #%d: init %s, first answer %s (%s)\n", t.name, i+1, ms(res.Init), ms(res.First), res.Answer)
		r.runs = append(r.runs, res)
	}
	return r, nil
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

// eventFor picks a function's fixture and placeholder values for run i.
func eventFor(function, override string, sim *wxsim.Sim, i int) (string, map[string]string) {
	name := "coldstart-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.Itoa(i)
	openid, unionid := wxsim.OpenID(mpAppID, name), wxsim.UnionID(name)
	vars := map[string]string{"openid": openid, "unionid": unionid, "code": sim.LoginCode(mpAppID, openid, unionid)}
	switch {
	case override != "":
		return override, vars
	case function == "mp-login":
		return "lambda-http-v2.json", vars
	case function == "expiry-sweep":
		return "eventbridge-schedule.json", vars
	}
	return "lambda-http-v2-me.json", vars
}

// row is one function's results.
type row struct {
	target
	hostSize int64
	runs     []measurement
	failed   bool
}

func printTable(out *os.File, rows []row, store string) {
	fmt.Fprintf(out, "\ncold start on linux/%s, %s store, %d CPUs (exec → first GET next = init; exec → answer posted = first)\n\n", runtime.GOARCH, store, runtime.NumCPU())
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "function\tbinary (host)\tdeployed\tinit min\tinit median\tfirst min\tfirst median\tanswer\tn\t")
	for _, r := range rows {
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
		stats := []string{"-", "-", "-", "-"}
		if len(r.runs) > 0 {
			stats = []string{ms(minOf(inits)), ms(median(inits)), ms(minOf(firsts)), ms(median(firsts))}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n", r.name, mib(r.hostSize), deployed,
			stats[0], stats[1], stats[2], stats[3], answer, len(r.runs))
	}
	w.Flush()
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
