// Command testreport reads `go test -json` on its standard input and shows
// progress as it comes: one ok or FAIL line per package as it finishes and
// a line per failing test. At the end it prints the suites per backend, the
// output of what failed and one summary line counting the packages with
// tests and those answered from the test cache (-cacheable and -fresh print
// a headline first that counts them the same way); the full text log goes
// to -log, grouped by package. It exits non-zero when a test or a package
// failed, or when a suite skipped its DynamoDB run (make test starts
// DynamoDB Local: a skip there means a suite did not run).
//
//	go test -json -race ./... 2>&1 | testreport -cacheable 60 -fresh 4 -log .cache/go-test.log -summary .cache/go-test.summary
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

func main() {
	logPath := flag.String("log", "", "write the full test log here")
	summaryPath := flag.String("summary", "", "write the summary line here")
	cacheable := flag.Int("cacheable", -1, "print the headline first: how many packages with tests may answer from the test cache")
	fresh := flag.Int("fresh", 0, "with -cacheable: how many packages with tests always run")
	flag.Parse()
	if *cacheable >= 0 {
		fmt.Println(headline(*cacheable, *fresh))
	}
	var logw io.Writer = io.Discard
	if *logPath != "" {
		f, err := os.Create(*logPath)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			os.Exit(2)
		}
		defer f.Close()
		logw = f
	}
	r := report(os.Stdin, os.Stdout, logw)
	if *summaryPath != "" {
		if err := os.WriteFile(*summaryPath, []byte(r.summary+"\n"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			os.Exit(2)
		}
	}
	if !r.ok {
		os.Exit(1)
	}
}

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

// result is what a report concluded.
type result struct {
	passed, failed, skipped int
	packages, cached        int
	ok                      bool
	summary                 string
}

// suiteName matches a suite's run on one backend, e.g.
// TestLoyaltySuite/dynamo or TestStoreConformance/bolt.
var suiteName = regexp.MustCompile(`^Test\w*(Conformance|EndToEnd|Suite)\w*/(bolt|dynamo)$`)

// dynamoRun matches a test's DynamoDB subtest, which must not be skipped.
var dynamoRun = regexp.MustCompile(`^Test\w*/dynamo$`)

// report reads events from in, prints progress and the ending to out and
// the full log to logw.
func report(in io.Reader, out, logw io.Writer) result {
	var (
		r        result
		pkgLog   = map[string]*strings.Builder{} // Package output not yet in the log.
		testLog  = map[string][]string{}         // "pkg\x00test" → its output lines.
		failed   []string                        // "pkg\x00test" of failed tests, in order.
		failPkgs []string                        // Packages that failed.
		pkgTail  = map[string]string{}           // Failed package → the end of its output.
		suites   = map[string]string{}           // Suite run → its outcome.
		skipped  []string                        // DynamoDB runs that were skipped.
	)
	logOf := func(pkg string) *strings.Builder {
		b, ok := pkgLog[pkg]
		if !ok {
			b = &strings.Builder{}
			pkgLog[pkg] = b
		}
		return b
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(out, "%s\n", line) // The go command's own words, e.g. a download.
			fmt.Fprintf(logw, "%s\n", line)
			continue
		}
		key := e.Package + "\x00" + e.Test
		switch e.Action {
		case "build-output":
			fmt.Fprint(out, e.Output)
			fmt.Fprint(logw, e.Output)
		case "output":
			logOf(e.Package).WriteString(e.Output)
			if e.Test != "" {
				testLog[key] = append(testLog[key], e.Output)
			} else if strings.HasPrefix(e.Output, "ok  \t") || strings.HasPrefix(e.Output, "FAIL\t") {
				fmt.Fprint(out, e.Output) // The package's result line, as it finishes.
				if strings.Contains(e.Output, "(cached)") {
					r.cached++
				}
			}
		case "pass", "fail", "skip":
			if e.Test == "" {
				text := logOf(e.Package).String()
				fmt.Fprint(logw, text)
				delete(pkgLog, e.Package)
				if e.Action == "fail" {
					failPkgs = append(failPkgs, e.Package)
					pkgTail[e.Package] = tail(text, 40)
				}
				if e.Action != "skip" {
					r.packages++
				}
				continue
			}
			switch e.Action {
			case "pass":
				r.passed++
				delete(testLog, key)
			case "fail":
				r.failed++
				failed = append(failed, key)
				fmt.Fprintf(out, "--- FAIL: %s (%s, %.2fs)\n", e.Test, e.Package, e.Elapsed)
			case "skip":
				r.skipped++
				delete(testLog, key)
				if dynamoRun.MatchString(e.Test) {
					skipped = append(skipped, e.Package+" "+e.Test)
				}
			}
			if suiteName.MatchString(e.Test) {
				suites[e.Test] = strings.TrimSpace(suites[e.Test] + " " + strings.ToUpper(e.Action))
			}
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(out, "testreport: reading go test output:", err)
		failPkgs = append(failPkgs, "(input)")
	}
	for pkg, b := range pkgLog { // Packages that never finished, e.g. a killed run.
		fmt.Fprint(logw, b.String())
		if !slices.Contains(failPkgs, pkg) {
			failPkgs = append(failPkgs, pkg)
			pkgTail[pkg] = tail(b.String(), 40)
		}
	}

	if len(suites) > 0 {
		fmt.Fprintln(out, "== suites per backend")
		names := make([]string, 0, len(suites))
		for s := range suites {
			names = append(names, s)
		}
		slices.Sort(names)
		for _, s := range names {
			fmt.Fprintf(out, "  %-50s %s\n", s, suites[s])
		}
	}
	if len(skipped) > 0 {
		fmt.Fprintln(out, "!! some DynamoDB suites were skipped:")
		for _, s := range skipped {
			fmt.Fprintln(out, "  "+s)
		}
	}
	if len(failed) > 0 || len(failPkgs) > 0 {
		fmt.Fprintln(out, "== failures")
		for _, key := range failed {
			pkg, test, _ := strings.Cut(key, "\x00")
			if hasFailedChild(failed, key) {
				continue // Its subtest's output says why.
			}
			lines := testLog[key]
			if len(lines) > 60 {
				lines = append([]string{"…\n"}, lines[len(lines)-60:]...)
			}
			fmt.Fprintf(out, "-- %s %s\n%s", pkg, test, strings.Join(lines, ""))
		}
		for _, pkg := range failPkgs {
			fmt.Fprintf(out, "-- package %s failed; its output ends:\n%s", pkg, pkgTail[pkg])
		}
	}
	r.ok = len(failed) == 0 && len(failPkgs) == 0 && len(skipped) == 0
	r.summary = fmt.Sprintf("go-tests: %d passed, %d failed, %d skipped; %s, %d answered from the test cache",
		r.passed, r.failed, r.skipped, packages(r.packages), r.cached)
	if len(failPkgs) > 0 {
		r.summary += fmt.Sprintf("; %d packages failed", len(failPkgs))
	}
	fmt.Fprintln(out, r.summary)
	return r
}

// headline is the first line of a run: the packages with tests it will
// run, counted as the summary counts them, and how many of them Go's test
// cache may answer for (an unchanged package whose tests need nothing
// outside the process) or not (run every time).
func headline(cacheable, fresh int) string {
	return fmt.Sprintf("== go test: %s with tests, %d may answer from Go's test cache, %d always run",
		packages(cacheable+fresh), cacheable, fresh)
}

// packages is "1 package" or "n packages".
func packages(n int) string {
	if n == 1 {
		return "1 package"
	}
	return fmt.Sprintf("%d packages", n)
}

// tail answers the last n lines of text.
func tail(text string, n int) string {
	lines := strings.SplitAfter(text, "\n")
	if len(lines) > n {
		lines = append([]string{"…\n"}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "")
}

// hasFailedChild reports whether a subtest of key also failed.
func hasFailedChild(failed []string, key string) bool {
	for _, k := range failed {
		if strings.HasPrefix(k, key+"/") {
			return true
		}
	}
	return false
}
