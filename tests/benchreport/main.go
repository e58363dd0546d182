// Command benchreport reads the output of `go test -bench` (plain, or
// `go test -json`) and prints one table per store backend: for each hot path
// its median latency, the store commits and reads per request, the
// DynamoDB calls per request (dynamo), the ratio of its latency to the
// store's own 3-item atomic write measured in the same run, and for the
// sweeps the items settled per second.
//
//	go test -run '^$' -bench . -benchtime 100x ./tests/e2e/ | tee bench.txt
//	go run ./tests/benchreport bench.txt
//
// A benchmark belongs to a backend when a level of its name is one
// (BenchmarkLogin/dynamo/new is "Login/new" on dynamo); others are left out.
// The metrics are those the benchmarks report: p50-ns (else ns/op) for the
// latency, commits/op, reads/op, ddb-calls/op and items/s. The ratio is the
// benchmark's own x-write3 (each request over a 3-item write made just
// before it, the median of those ratios); without it, p50 over the
// reference benchmark's p50, or for a benchmark without p50 ns/op over the
// reference's ns/op. A benchmark run more than once (-count) shows the
// median of its runs.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

func main() {
	backends := flag.String("backends", "bolt,dynamo", "the name levels that are backends, comma-separated, in table order")
	ref := flag.String("ref", "Write3", "the reference benchmark every latency is divided by (its name without the backend)")
	flag.Parse()
	var in []io.Reader
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchreport:", err)
			os.Exit(2)
		}
		defer f.Close()
		in = append(in, f)
	}
	if len(in) == 0 {
		in = append(in, os.Stdin)
	}
	results, err := parse(io.MultiReader(in...))
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(2)
	}
	if err := report(os.Stdout, results, strings.Split(*backends, ","), *ref); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

// result is one benchmark line: its name without "Benchmark" and the
// GOMAXPROCS suffix, its iterations and its metrics by unit.
type result struct {
	name    string
	n       int
	metrics map[string]float64
}

// event is the part of a `go test -json` line that carries output.
type event struct {
	Action  string
	Package string
	Output  string
}

// parse reads benchmark results from plain or -json output. A result line
// may follow its name on a later line when the benchmark logged in between.
func parse(r io.Reader) ([]result, error) {
	var text strings.Builder
	byPackage := map[string]*strings.Builder{}
	var packages []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "{") {
			text.WriteString(line + "\n")
			continue
		}
		var ev event
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Action != "output" {
			continue
		}
		b := byPackage[ev.Package]
		if b == nil {
			b = &strings.Builder{}
			byPackage[ev.Package] = b
			packages = append(packages, ev.Package)
		}
		b.WriteString(ev.Output)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	out := parseText(text.String())
	for _, p := range packages {
		out = append(out, parseText(byPackage[p].String())...)
	}
	return out, nil
}

// parseText reads the results of plain benchmark output.
func parseText(s string) []result {
	var out []result
	pending := ""
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if strings.HasPrefix(f[0], "Benchmark") {
			pending = benchName(f[0])
			f = f[1:]
		}
		if pending == "" || len(f) < 3 || len(f)%2 == 0 {
			continue
		}
		n, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		res := result{name: pending, n: n, metrics: map[string]float64{}}
		for i := 1; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				res.metrics = nil
				break
			}
			res.metrics[f[i+1]] = v
		}
		if res.metrics != nil {
			out = append(out, res)
			pending = ""
		}
	}
	return out
}

// benchName drops "Benchmark" and the "-<GOMAXPROCS>" suffix.
func benchName(s string) string {
	s = strings.TrimPrefix(s, "Benchmark")
	if i := strings.LastIndexByte(s, '-'); i > 0 {
		if _, err := strconv.Atoi(s[i+1:]); err == nil {
			s = s[:i]
		}
	}
	return s
}

// row is one hot path on one backend, its metrics the medians of its runs.
type row struct {
	path    string
	metrics map[string]float64
}

// table groups the results of backend by path, in order of appearance.
func table(results []result, backend string) []row {
	var rows []row
	runs := map[string][]map[string]float64{}
	for _, r := range results {
		levels := strings.Split(r.name, "/")
		i := slices.Index(levels, backend)
		if i < 0 {
			continue
		}
		path := strings.Join(slices.Delete(levels, i, i+1), "/")
		if _, ok := runs[path]; !ok {
			rows = append(rows, row{path: path})
		}
		m := maps.Clone(r.metrics)
		m["n"] = float64(r.n)
		runs[path] = append(runs[path], m)
	}
	for i := range rows {
		rows[i].metrics = medians(runs[rows[i].path])
	}
	return rows
}

// medians is, per unit, the median of the runs' values.
func medians(runs []map[string]float64) map[string]float64 {
	vals := map[string][]float64{}
	for _, m := range runs {
		for unit, v := range m {
			vals[unit] = append(vals[unit], v)
		}
	}
	out := map[string]float64{}
	for unit, vs := range vals {
		slices.Sort(vs)
		out[unit] = vs[len(vs)/2]
	}
	return out
}

// latency is a row's latency: p50 when measured, else the mean.
func (r row) latency() (float64, bool) {
	if v, ok := r.metrics["p50-ns"]; ok {
		return v, true
	}
	v, ok := r.metrics["ns/op"]
	return v, ok
}

// ratio is r's latency in 3-item writes: the paired median the benchmark
// measured (x-write3), else r's latency over the reference row's, like for
// like (p50 over p50, or for a benchmark without p50 ns/op over ns/op).
func ratio(r row, ref *row) (float64, bool) {
	if v, ok := r.metrics["x-write3"]; ok {
		return v, true
	}
	if ref == nil {
		return 0, false
	}
	unit := "ns/op"
	if _, ok := r.metrics["p50-ns"]; ok {
		unit = "p50-ns"
	}
	a, okA := r.metrics[unit]
	b, okB := ref.metrics[unit]
	if !okA || !okB || b == 0 {
		return 0, false
	}
	return a / b, true
}

// report prints a table per backend that has results, the reference
// first; it fails when no backend has any.
func report(w io.Writer, results []result, backends []string, ref string) error {
	printed := 0
	for _, be := range backends {
		rows := table(results, be)
		if len(rows) == 0 {
			continue
		}
		var refRow *row
		if at := slices.IndexFunc(rows, func(r row) bool { return r.path == ref }); at >= 0 {
			refRow = &row{path: rows[at].path, metrics: rows[at].metrics}
			rows = append([]row{*refRow}, slices.Delete(rows, at, at+1)...)
		}
		if printed > 0 {
			fmt.Fprintln(w)
		}
		printed++
		dynamo := slices.ContainsFunc(rows, func(r row) bool { _, ok := r.metrics["ddb-calls/op"]; return ok })
		fmt.Fprintf(w, "%s: latency p50 (sweeps: mean per item); × %s: latency over one 3-item atomic write on %s\n", be, ref, be)
		width := len("path")
		for _, r := range rows {
			width = max(width, utf8.RuneCountInString(r.path))
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		head := fmt.Sprintf("%-*s", width, "path") + "\tlatency\t× " + ref + "\tcommits/op\treads/op\t"
		if dynamo {
			head += "ddb-calls/op\t"
		}
		fmt.Fprintln(tw, head+"items/s\tn\t")
		for _, r := range rows {
			lat, _ := r.latency()
			path := fmt.Sprintf("%-*s", width, r.path) // Left-aligned in a right-aligned table.
			cells := []string{path, duration(lat), "-", count(r.metrics, "commits/op"), count(r.metrics, "reads/op")}
			if x, ok := ratio(r, refRow); ok {
				cells[2] = strconv.FormatFloat(x, 'g', 2, 64)
			}
			if dynamo {
				cells = append(cells, count(r.metrics, "ddb-calls/op"))
			}
			items := "-"
			if v, ok := r.metrics["items/s"]; ok {
				items = strconv.FormatFloat(v, 'f', 0, 64)
			}
			cells = append(cells, items, count(r.metrics, "n"))
			fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if printed == 0 {
		return fmt.Errorf("no results for the backends %s", strings.Join(backends, ", "))
	}
	return nil
}

// duration formats nanoseconds with three significant digits.
func duration(ns float64) string {
	if ns <= 0 {
		return "-"
	}
	d := time.Duration(ns)
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{time.Second, "s"}, {time.Millisecond, "ms"}, {time.Microsecond, "µs"}} {
		if d >= u.d {
			return strconv.FormatFloat(ns/float64(u.d), 'g', 3, 64) + " " + u.name
		}
	}
	return strconv.FormatFloat(ns, 'g', 3, 64) + " ns"
}

// count formats a per-operation count, or "-" when not reported.
func count(m map[string]float64, unit string) string {
	v, ok := m[unit]
	switch {
	case !ok:
		return "-"
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
