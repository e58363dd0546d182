package main

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
)

// events renders go test -json lines.
func events(t *testing.T, evs ...event) string {
	t.Helper()
	var b strings.Builder
	for _, e := range evs {
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(raw)
		b.WriteByte('\n')
	}
	return b.String()
}

// passingPackage is the events of a package whose one test passed.
func passingPackage(t *testing.T, pkg, test, result string) string {
	return events(t,
		event{Action: "start", Package: pkg},
		event{Action: "run", Package: pkg, Test: test},
		event{Action: "output", Package: pkg, Test: test, Output: "=== RUN   " + test + "\n"},
		event{Action: "output", Package: pkg, Test: test, Output: "--- PASS: " + test + " (0.00s)\n"},
		event{Action: "pass", Package: pkg, Test: test},
		event{Action: "output", Package: pkg, Output: "PASS\n"},
		event{Action: "output", Package: pkg, Output: result},
		event{Action: "pass", Package: pkg},
	)
}

func TestReportShowsEachPackageAsItFinishes(t *testing.T) {
	in, feed := io.Pipe()
	outR, out := io.Pipe()
	done := make(chan result, 1)
	go func() {
		done <- report(in, out, io.Discard)
		out.Close()
	}()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func() string {
		select {
		case l := <-lines:
			return l
		case <-time.After(5 * time.Second):
			t.Fatal("no line printed after the package finished")
			return ""
		}
	}

	io.WriteString(feed, passingPackage(t, "m/a", "TestA", "ok  \tm/a\t1.5s\n"))
	if got := next(); got != "ok  \tm/a\t1.5s" {
		t.Errorf("after m/a finished, printed %q; want its ok line", got)
	}
	io.WriteString(feed, passingPackage(t, "m/b", "TestB", "ok  \tm/b\t(cached)\n"))
	if got := next(); got != "ok  \tm/b\t(cached)" {
		t.Errorf("after m/b finished, printed %q; want its ok line", got)
	}
	feed.Close()
	r := <-done
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	want := "go-tests: 2 passed, 0 failed, 0 skipped; 2 packages, 1 answered from the test cache"
	if len(rest) != 1 || rest[0] != want {
		t.Errorf("ending = %q, want only %q", rest, want)
	}
	if !r.ok || r.passed != 2 || r.cached != 1 {
		t.Errorf("result = %+v, want ok with 2 passed, 1 cached", r)
	}
}

func TestReportFailures(t *testing.T) {
	const pkg = "m/e2e"
	in := passingPackage(t, "m/a", "TestA", "ok  \tm/a\t0.1s\n") + events(t,
		event{Action: "run", Package: pkg, Test: "TestLoginEndToEnd"},
		event{Action: "run", Package: pkg, Test: "TestLoginEndToEnd/bolt"},
		event{Action: "output", Package: pkg, Test: "TestLoginEndToEnd/bolt", Output: "    login_test.go:12: got 500, want 200\n"},
		event{Action: "fail", Package: pkg, Test: "TestLoginEndToEnd/bolt", Elapsed: 0.5},
		event{Action: "run", Package: pkg, Test: "TestLoginEndToEnd/dynamo"},
		event{Action: "output", Package: pkg, Test: "TestLoginEndToEnd/dynamo", Output: "    backends.go:80: WEMEMBER_DYNAMO_ENDPOINT is not set\n"},
		event{Action: "skip", Package: pkg, Test: "TestLoginEndToEnd/dynamo"},
		event{Action: "fail", Package: pkg, Test: "TestLoginEndToEnd", Elapsed: 0.5},
		event{Action: "output", Package: pkg, Output: "FAIL\tm/e2e\t0.6s\n"},
		event{Action: "fail", Package: pkg},
	)
	var out, log strings.Builder
	r := report(strings.NewReader(in), &out, &log)
	if r.ok || r.passed != 1 || r.failed != 2 || r.skipped != 1 {
		t.Errorf("result = %+v, want not ok, 1 passed, 2 failed, 1 skipped", r)
	}
	for _, want := range []string{
		"--- FAIL: TestLoginEndToEnd/bolt (m/e2e, 0.50s)\n",
		"FAIL\tm/e2e\t0.6s\n",
		"TestLoginEndToEnd/bolt                             FAIL\n",
		"TestLoginEndToEnd/dynamo                           SKIP\n",
		"!! some DynamoDB suites were skipped:\n  m/e2e TestLoginEndToEnd/dynamo\n",
		"-- m/e2e TestLoginEndToEnd/bolt\n    login_test.go:12: got 500, want 200\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if n := strings.Count(out.String(), "go-tests:"); n != 1 {
		t.Errorf("summary printed %d times:\n%s", n, out.String())
	}
	if !strings.Contains(log.String(), "got 500, want 200") || !strings.Contains(log.String(), "--- PASS: TestA") {
		t.Errorf("log lacks the tests' output:\n%s", log.String())
	}
}

func TestReportSkippedDynamoFails(t *testing.T) {
	in := events(t,
		event{Action: "run", Package: "m/d", Test: "TestCouponsSuite"},
		event{Action: "run", Package: "m/d", Test: "TestCouponsSuite/dynamo"},
		event{Action: "skip", Package: "m/d", Test: "TestCouponsSuite/dynamo"},
		event{Action: "pass", Package: "m/d", Test: "TestCouponsSuite"},
		event{Action: "output", Package: "m/d", Output: "ok  \tm/d\t0.1s\n"},
		event{Action: "pass", Package: "m/d"},
	)
	var out strings.Builder
	if r := report(strings.NewReader(in), &out, io.Discard); r.ok {
		t.Errorf("a skipped DynamoDB suite passed the run:\n%s", out.String())
	}
}

func TestReportPackageFailureWithoutTest(t *testing.T) {
	in := "go: downloading example.com/x v1.0.0\n" + events(t,
		event{Action: "start", Package: "m/p"},
		event{Action: "output", Package: "m/p", Output: "panic: test timed out after 30m0s\n"},
		event{Action: "output", Package: "m/p", Output: "FAIL\tm/p\t1800.0s\n"},
		event{Action: "fail", Package: "m/p"},
	)
	var out strings.Builder
	r := report(strings.NewReader(in), &out, io.Discard)
	if r.ok {
		t.Error("a failed package passed the run")
	}
	for _, want := range []string{"go: downloading example.com/x v1.0.0\n", "-- package m/p failed; its output ends:\npanic: test timed out"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestHeadlineSaysWhatMayBeCached: the first line counts the packages with
// tests as the summary does, and says which may answer from the cache.
func TestHeadlineSaysWhatMayBeCached(t *testing.T) {
	cases := []struct {
		cacheable, fresh int
		want             string
	}{
		{42, 2, "== go test: 44 packages with tests, 42 may answer from Go's test cache, 2 always run"},
		{0, 3, "== go test: 3 packages with tests, 0 may answer from Go's test cache, 3 always run"},
	}
	for _, tc := range cases {
		if got := headline(tc.cacheable, tc.fresh); got != tc.want {
			t.Errorf("headline(%d, %d) = %q, want %q", tc.cacheable, tc.fresh, got, tc.want)
		}
	}
}

// TestPackagesWithoutTestsAreNotCounted: a package without test files is
// not one of the packages the summary counts, nor one the headline does.
func TestPackagesWithoutTestsAreNotCounted(t *testing.T) {
	in := passingPackage(t, "m/a", "TestA", "ok  \tm/a\t(cached)\n") + events(t,
		event{Action: "start", Package: "m/notests"},
		event{Action: "output", Package: "m/notests", Output: "?   \tm/notests\t[no test files]\n"},
		event{Action: "skip", Package: "m/notests"})
	var out strings.Builder
	r := report(strings.NewReader(in), &out, io.Discard)
	if want := "go-tests: 1 passed, 0 failed, 0 skipped; 1 package, 1 answered from the test cache"; r.summary != want {
		t.Errorf("summary = %q, want %q", r.summary, want)
	}
}
