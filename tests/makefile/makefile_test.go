// Package makefile_test checks the commands a newcomer types: every target
// the Makefile declares exists and is listed by `make help`, `make fuzz`
// covers every fuzz target, `make run` stops when it is killed, `make reset`
// keeps the caches, and `make test` runs each package in the right group.
package makefile_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// root is the repository's top directory.
const root = "../.."

// makeCmd runs make in the repository with args and answers its output.
func makeCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("make", append([]string{"--no-print-directory", "-C", root}, args...)...)
	cmd.Env = makeEnv()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// makeEnv is the environment without the settings of the make that runs
// these tests (make test), so that each make here starts afresh.
func makeEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return name == "MAKEFLAGS" || name == "MFLAGS" || name == "MAKELEVEL" || name == "MAKEOVERRIDES"
	})
}

// phony answers the targets the Makefile declares .PHONY.
func phony(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, ".PHONY:"); ok {
			targets = append(targets, strings.Fields(rest)...)
		}
	}
	if len(targets) == 0 {
		t.Fatal("the Makefile declares no .PHONY targets")
	}
	return targets
}

func TestHelpListsEveryTarget(t *testing.T) {
	help, err := makeCmd(t, "help")
	if err != nil {
		t.Fatalf("make help: %v\n%s", err, help)
	}
	for _, target := range phony(t) {
		if !regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(target) + `\s`).MatchString(help) {
			t.Errorf("make help does not list %q:\n%s", target, help)
		}
	}
	def, err := makeCmd(t)
	if err != nil {
		t.Fatalf("make: %v\n%s", err, def)
	}
	if def != help {
		t.Errorf("make with no target = %q, want the help %q", def, help)
	}
}

func TestPhonyTargetsExist(t *testing.T) {
	for _, target := range phony(t) {
		out, err := makeCmd(t, "-n", target)
		if err != nil || strings.Contains(out, "Nothing to be done") {
			t.Errorf("make -n %s: %v\n%s", target, err, out)
		}
	}
}

// TestMakeTestPrintsSummaryOnce checks that make test leaves the summary
// to tests/run.sh, which prints it as its last line.
func TestMakeTestPrintsSummaryOnce(t *testing.T) {
	out, err := makeCmd(t, "-n", "test")
	if err != nil {
		t.Fatalf("make -n test: %v\n%s", err, out)
	}
	if strings.Contains(out, "go-test.summary") {
		t.Errorf("make test prints the summary tests/run.sh printed already:\n%s", out)
	}
}

// fuzzTargets finds every Fuzz function under the repository as
// "./dir:FuzzName".
func fuzzTargets(t *testing.T) []string {
	t.Helper()
	fuzzFunc := regexp.MustCompile(`(?m)^func (Fuzz\w*)\(`)
	var found []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		for _, m := range fuzzFunc.FindAllStringSubmatch(string(raw), -1) {
			found = append(found, "./"+filepath.ToSlash(rel)+":"+m[1])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestFuzzRunsEveryFuzzTarget(t *testing.T) {
	targets := fuzzTargets(t)
	if len(targets) == 0 {
		t.Fatal("no Fuzz functions found")
	}
	plan, err := makeCmd(t, "-n", "fuzz", "FUZZTIME=3s")
	if err != nil {
		t.Fatalf("make -n fuzz: %v\n%s", err, plan)
	}
	for _, target := range targets {
		if !strings.Contains(plan, target) {
			t.Errorf("make fuzz does not run %s:\n%s", target, plan)
		}
	}
	if !strings.Contains(plan, "-fuzztime 3s") {
		t.Errorf("make fuzz ignores FUZZTIME:\n%s", plan)
	}
}

func TestResetKeepsCache(t *testing.T) {
	plan, err := makeCmd(t, "-n", "reset")
	if err != nil {
		t.Fatalf("make -n reset: %v\n%s", err, plan)
	}
	if strings.Contains(plan, ".cache") {
		t.Errorf("make reset touches .cache:\n%s", plan)
	}
	data := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "wemember.db"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := makeCmd(t, "reset", "WEMEMBER_DATA_DIR="+data); err != nil {
		t.Fatalf("make reset: %v\n%s", err, out)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("after make reset, %s: %v; want it gone", data, err)
	}
	for _, dir := range []string{"", "/", "."} {
		if out, err := makeCmd(t, "-n", "reset", "WEMEMBER_DATA_DIR="+dir); err == nil && strings.Contains(out, "rm ") {
			t.Errorf("make reset WEMEMBER_DATA_DIR=%q would remove it:\n%s", dir, out)
		}
	}
}

// freePort answers a loopback port nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func TestKillingMakeRunStopsTheServer(t *testing.T) {
	port, simPort := freePort(t), freePort(t)
	cmd := exec.Command("make", "--no-print-directory", "-C", root, "run", "PORT="+port)
	// GOFLAGS=-race reuses the packages make test has built already.
	cmd.Env = append(makeEnv(), "GOFLAGS=-race", "PORT="+port, "SIM_PORT="+simPort,
		"WEMEMBER_DATA_DIR="+t.TempDir(), "WEMEMBER_LOG_LEVEL=warn")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() { syscall.Kill(-pgid, syscall.SIGKILL) }) // Whatever survived the test.
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	base := "http://127.0.0.1:" + port
	deadline := time.Now().Add(3 * time.Minute) // The first build takes a while.
	for {
		res, err := http.Get(base + "/member-api/me")
		if err == nil {
			res.Body.Close()
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("make run exited before serving: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("make run did not serve %s in time:\n%s", base, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}

	if err := syscall.Kill(pgid, syscall.SIGTERM); err != nil { // make only, as `kill <pid>` does.
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("make run still running 30 s after SIGTERM:\n%s", out.String())
	}
	for _, addr := range []string{"127.0.0.1:" + port, "127.0.0.1:" + simPort} {
		var err error
		for range 50 {
			var c net.Conn
			if c, err = net.Dial("tcp", addr); err != nil {
				break
			}
			c.Close()
			time.Sleep(100 * time.Millisecond)
		}
		if err == nil {
			t.Errorf("%s still answers after make run was killed", addr)
		}
	}
}

// plan answers the groups tests/run.sh would run for mode, keyed by group
// name, and the go test flags of each group.
func plan(t *testing.T, mode string) (groups map[string][]string, flags map[string]string) {
	t.Helper()
	script, err := os.ReadFile(filepath.Join(root, "tests/run.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(script, []byte("plan")) {
		t.Fatal("tests/run.sh has no plan mode: it cannot say what it runs without running it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(root, "tests/run.sh"), "plan", mode).CombinedOutput()
	if err != nil {
		t.Fatalf("tests/run.sh plan %s: %v\n%s", mode, err, out)
	}
	// Each line: <group> <flags…> -- <packages…>
	groups, flags = map[string][]string{}, map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f, pkgs, ok := strings.Cut(sc.Text(), " -- ")
		if !ok {
			t.Fatalf("plan line %q: want <group> <flags> -- <packages>", sc.Text())
		}
		name, fl, _ := strings.Cut(f, " ")
		groups[name], flags[name] = strings.Fields(pkgs), fl
	}
	return groups, flags
}

func TestMakeTestRunsEveryPackageOnce(t *testing.T) {
	out, err := exec.Command("go", "list", "github.com/wemember/wemember/...").Output()
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Fields(string(out))
	groups, flags := plan(t, "all")
	seen := map[string]string{}
	for name, pkgs := range groups {
		if !strings.Contains(flags[name], "-race") {
			t.Errorf("group %s runs without -race: %s", name, flags[name])
		}
		for _, p := range pkgs {
			if g, dup := seen[p]; dup {
				t.Errorf("%s runs in groups %s and %s", p, g, name)
			}
			seen[p] = name
		}
	}
	for _, p := range all {
		if _, ok := seen[p]; !ok {
			t.Errorf("%s is not run by make test", p)
		}
	}
	const mod = "github.com/wemember/wemember/"
	for p, want := range map[string]string{
		mod + "tests/domain": "fresh", mod + "tests/e2e": "fresh", mod + "shared/dynamo": "fresh",
		mod + "tests/layers": "fresh", mod + "shared/loyalty": "cached", mod + "shared/member": "cached",
	} {
		if seen[p] != want {
			t.Errorf("%s runs in group %q, want %q", p, seen[p], want)
		}
	}
	if !strings.Contains(flags["fresh"], "-count=1") {
		t.Errorf("fresh group flags %q lack -count=1", flags["fresh"])
	}
	if strings.Contains(flags["cached"], "-count=") {
		t.Errorf("cached group flags %q defeat the test cache", flags["cached"])
	}

	unit, _ := plan(t, "unit")
	for _, p := range unit["fresh"] {
		if p == mod+"tests/domain" || p == mod+"tests/e2e" || p == mod+"shared/dynamo" {
			t.Errorf("make test-unit runs %s, which needs DynamoDB Local", p)
		}
	}
	dyn, _ := plan(t, "dynamo")
	if len(dyn["cached"]) != 0 || !slices.Contains(dyn["fresh"], mod+"tests/e2e") {
		t.Errorf("make test-dynamo plan = %v, want only the packages that need DynamoDB Local", dyn)
	}
}

// TestDomainSuitesRunOncePerBackend checks that tests/domain does not run
// again on bbolt the suites their own packages run on bbolt.
func TestDomainSuitesRunOncePerBackend(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-race", "-count=1", "-v", "-run", "Suite", ".")
	cmd.Dir = filepath.Join(root, "tests/domain")
	cmd.Env = append(os.Environ(), "WEMEMBER_DYNAMO_ENDPOINT=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stdout)
	var log strings.Builder
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(&log, line)
		if strings.HasPrefix(line, "=== RUN") && strings.HasSuffix(line, "/bolt") {
			t.Fatalf("tests/domain runs %s: its package already runs it on bbolt", strings.Fields(line)[2])
		}
	}
	if !strings.Contains(log.String(), "/dynamo") {
		t.Errorf("tests/domain ran no suite on DynamoDB:\n%s", log.String())
	}
}
