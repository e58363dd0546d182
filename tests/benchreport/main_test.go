package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// plain is `go test -bench` output as the e2e benchmarks print it, with a
// log line between a benchmark's name and its result.
const plain = `goos: linux
goarch: amd64
pkg: github.com/wemember/wemember/tests/e2e
BenchmarkLogin/bolt/new-2         	     200	  20795411 ns/op	         4.000 commits/op	  19919775 p50-ns	         6.000 reads/op	  105171 B/op	     884 allocs/op
BenchmarkWrite3/bolt-2            	     200	   3773510 ns/op	         1.000 commits/op	   2000000 p50-ns	         0 reads/op
BenchmarkLogin/dynamo/new-2       	     100	 332462169 ns/op	         4.000 commits/op	        10.00 ddb-calls/op	 30000000 p50-ns	         6.000 reads/op
BenchmarkWrite3/dynamo-2          	     100	  35027256 ns/op	         1.000 commits/op	         1.000 ddb-calls/op	  10000000 p50-ns	         0 reads/op
BenchmarkSweep/bolt/points-expire-2         	2026/12/02 14:21:46 INFO sweep run more=false
    2000	   1000000 ns/op	         1.050 commits/op	       1000 items/s	         2.400 reads/op
PASS
ok  	github.com/wemember/wemember/tests/e2e	7.718s
`

func TestParsePlain(t *testing.T) {
	got, err := parse(strings.NewReader(plain))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range got {
		names = append(names, r.name)
	}
	want := "Login/bolt/new Write3/bolt Login/dynamo/new Write3/dynamo Sweep/bolt/points-expire"
	if strings.Join(names, " ") != want {
		t.Fatalf("names = %q, want %q", strings.Join(names, " "), want)
	}
	sweep := got[4]
	if sweep.n != 2000 || sweep.metrics["items/s"] != 1000 || sweep.metrics["commits/op"] != 1.05 {
		t.Errorf("sweep = %+v; want 2000 iterations, 1000 items/s, 1.05 commits/op (its result follows a log line)", sweep)
	}
}

// TestParseJSON reads the same results from go test -json, whose output
// events split a benchmark's name from its figures.
func TestParseJSON(t *testing.T) {
	var b strings.Builder
	for _, line := range strings.SplitAfter(plain, "\n") {
		name, rest, split := strings.Cut(line, "\t")
		outs := []string{line}
		if split && strings.HasPrefix(name, "Benchmark") {
			outs = []string{name + "\t", rest}
		}
		for _, out := range outs {
			raw, err := json.Marshal(event{Action: "output", Package: "example.com/e2e", Output: out})
			if err != nil {
				t.Fatal(err)
			}
			b.Write(raw)
			b.WriteByte('\n')
		}
	}
	b.WriteString(`{"Action":"pass","Package":"example.com/e2e"}` + "\n")
	got, err := parse(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || got[2].name != "Login/dynamo/new" || got[2].metrics["ddb-calls/op"] != 10 {
		t.Fatalf("parse(-json) = %+v; want the 5 results of the plain output", got)
	}
}

func TestReportTablePerBackend(t *testing.T) {
	results, err := parse(strings.NewReader(plain))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := report(&out, results, []string{"bolt", "dynamo"}, "Write3"); err != nil {
		t.Fatal(err)
	}
	bolt, dynamo, ok := strings.Cut(out.String(), "\n\n")
	if !ok {
		t.Fatalf("want two tables:\n%s", out.String())
	}
	for _, c := range []struct {
		table, row string
		want       []string
	}{
		// p50 over the reference's p50: 19.9 ms / 2 ms.
		{bolt, "Login/new", []string{"19.9 ms", "10", "4", "6"}},
		{bolt, "Write3", []string{"2 ms", "1", "1", "0"}},
		// A sweep has no p50: its mean per item over the reference's mean.
		{bolt, "Sweep/points-expire", []string{"1 ms", "0.27", "1.05", "2.4", "1000", "2000"}},
		{dynamo, "Login/new", []string{"30 ms", "3", "4", "6", "10", "-", "100"}},
	} {
		line := rowOf(c.table, c.row)
		got, want := strings.Join(strings.Fields(line)[1:], " "), strings.Join(c.want, " ")
		if !strings.HasPrefix(got+" ", want+" ") {
			t.Errorf("row %s = %q; want it to start %q\n%s", c.row, got, want, c.table)
		}
	}
	if strings.Contains(bolt, "ddb-calls/op") || !strings.Contains(dynamo, "ddb-calls/op") {
		t.Errorf("ddb-calls/op belongs to the dynamo table only:\n%s", out.String())
	}
}

// rowOf is the line of table whose first cell is path.
func rowOf(table, path string) string {
	for _, line := range strings.Split(table, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == path {
			return line
		}
	}
	return ""
}

func TestReportMedianOfRuns(t *testing.T) {
	runs := `BenchmarkWrite3/bolt-2 	 10	 1000 ns/op	 1000 p50-ns
BenchmarkWrite3/bolt-2 	 10	 9000 ns/op	 9000 p50-ns
BenchmarkWrite3/bolt-2 	 10	 2000 ns/op	 2000 p50-ns
`
	results, err := parse(strings.NewReader(runs))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := report(&out, results, []string{"bolt"}, "Write3"); err != nil {
		t.Fatal(err)
	}
	if line := rowOf(out.String(), "Write3"); !strings.Contains(line, "2 µs") {
		t.Errorf("Write3 run three times = %q; want the median 2 µs", line)
	}
}

// TestReportPairedRatio prefers the ratio a benchmark paired itself
// (x-write3) to one across benchmarks, and shows none when it has neither.
func TestReportPairedRatio(t *testing.T) {
	lines := `BenchmarkCard/bolt-2 	 10	 1000 ns/op	 800 p50-ns	 0.25 x-write3
BenchmarkSignIn/bolt/first-2 	 10	 1000 ns/op	 800 p50-ns
`
	for _, c := range []struct {
		name, write3       string
		wantCard, wantSign string
	}{
		{"with Write3", "BenchmarkWrite3/bolt-2 \t 10\t 500 ns/op\t 400 p50-ns\n", "0.25", "2"},
		{"without Write3", "", "0.25", "-"},
	} {
		results, err := parse(strings.NewReader(lines + c.write3))
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		if err := report(&out, results, []string{"bolt"}, "Write3"); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		card, sign := strings.Fields(rowOf(out.String(), "Card")), strings.Fields(rowOf(out.String(), "SignIn/first"))
		if len(card) < 4 || len(sign) < 4 || card[3] != c.wantCard || sign[3] != c.wantSign {
			t.Errorf("%s: × Write3 of Card, SignIn/first = %q, %q; want %s, %s\n%s", c.name, card, sign, c.wantCard, c.wantSign, out.String())
		}
	}
}

func TestReportNeedsResults(t *testing.T) {
	var out strings.Builder
	if err := report(&out, nil, []string{"bolt"}, "Write3"); err == nil {
		t.Errorf("no results at all: no error, printed %q", out.String())
	}
}
