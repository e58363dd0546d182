package e2e_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/store/storetest"
)

// benchMeter reports, besides ns/op and allocations:
//   - p50-ns, the median latency of one operation (timed one by one with
//     benchMeter.time; a shared machine's outliers move the mean, not it);
//   - x-write3, the median over the operations of the ratio of each one's
//     latency to a 3-item atomic write on the same store just before it
//     (untimed, and left out of every count): paired, so that a machine
//     busier at one moment than at another skews it little; write3-p50-ns
//     is those writes' median;
//   - commits/op, mutations/op and reads/op (gets and query pages), what the
//     deployment asked of its store per operation, counted by e.store;
//   - cpu-ns/op, the process's CPU time (user and system) per operation — on
//     a shared machine the wall clock includes waiting for a CPU, the CPU
//     time much less so; it covers the whole test process (handler chain and
//     in-process simulator), not DynamoDB Local;
//   - on dynamo, the DynamoDB calls per operation, in all (ddb-calls/op) and
//     by API (e.g. GetItem/op).
//
// Everything between startMeter and report counts, so a benchmark prepares
// its members, pushes or due items before startMeter.
type benchMeter struct {
	b      *testing.B
	cpu    time.Duration
	ddb    *ddbCounter
	calls  map[string]int
	store  *storetest.Faults
	counts storetest.Counts
	laps   []time.Duration
	// The yardstick writes: their store, latencies, latency ratios and the
	// DynamoDB calls they made, which are not the operations'.
	yard      *write3
	yardLaps  []time.Duration
	ratios    []float64
	yardCalls map[string]int
}

// startMeter resets the benchmark timer and allocation counters and starts
// metering e's store and, on dynamo, ddb.
func startMeter(b *testing.B, e *env, ddb *ddbCounter) *benchMeter {
	m := &benchMeter{b: b, ddb: ddb, store: e.store, yard: newWrite3(e.store.Store), yardCalls: map[string]int{}}
	m.yardstick() // The yardstick's partition and connection warm.
	m.yardLaps, m.yardCalls = nil, map[string]int{}
	b.ReportAllocs()
	b.ResetTimer()
	m.cpu, m.calls, m.counts = cpuTime(b), ddb.snapshot(), e.store.Counts()
	return m
}

// time runs one operation, timed, after an untimed yardstick write.
func (m *benchMeter) time(op func()) {
	m.b.StopTimer()
	ref := m.yardstick()
	m.b.StartTimer()
	start := time.Now()
	op()
	d := time.Since(start)
	m.laps = append(m.laps, d)
	m.ratios = append(m.ratios, float64(d)/float64(ref))
}

// yardsticks makes n untimed yardstick writes, for a benchmark whose one
// timed operation is a run over many items (a sweep).
func (m *benchMeter) yardsticks(n int) {
	m.b.StopTimer()
	defer m.b.StartTimer()
	for range n {
		m.yardstick()
	}
}

// yardstick makes one 3-item write on the deployment's store beneath its
// counter and answers its latency; its DynamoDB calls are set aside.
func (m *benchMeter) yardstick() time.Duration {
	before := m.ddb.snapshot()
	d := m.yard.write(m.b)
	for api, c := range m.ddb.snapshot() {
		if n := c - before[api]; n > 0 {
			m.yardCalls[api] += n
		}
	}
	m.yardLaps = append(m.yardLaps, d)
	return d
}

// report reports the metrics per operation, an operation being one of
// b.N iterations (a request, or for a sweep one due item).
func (m *benchMeter) report() {
	if m.b.N == 0 {
		return
	}
	n := float64(m.b.N)
	m.b.ReportMetric(float64(cpuTime(m.b)-m.cpu)/n, "cpu-ns/op")
	c := m.store.Since(m.counts)
	m.b.ReportMetric(float64(c.Writes)/n, "commits/op")
	m.b.ReportMetric(float64(c.Mutations)/n, "mutations/op")
	m.b.ReportMetric(float64(c.Reads())/n, "reads/op")
	if len(m.laps) > 0 {
		m.b.ReportMetric(float64(median(m.laps)), "p50-ns")
	}
	if len(m.yardLaps) > 0 {
		m.b.ReportMetric(float64(median(m.yardLaps)), "write3-p50-ns")
	}
	if len(m.ratios) > 0 {
		m.b.ReportMetric(median(m.ratios), "x-write3")
	}
	if m.ddb == nil {
		return
	}
	total := 0
	for api, c := range m.ddb.snapshot() {
		if d := c - m.calls[api] - m.yardCalls[api]; d > 0 {
			m.b.ReportMetric(float64(d)/n, api+"/op")
			total += d
		}
	}
	m.b.ReportMetric(float64(total)/n, "ddb-calls/op")
}

// reportRun reports, for a benchmark timed as one run over b.N items,
// x-write3 as the time per item over the median yardstick write.
func (m *benchMeter) reportRun(elapsed time.Duration) {
	if len(m.yardLaps) > 0 && m.b.N > 0 {
		m.b.ReportMetric(float64(elapsed)/float64(m.b.N)/float64(median(m.yardLaps)), "x-write3")
	}
	m.report()
}

func median[T time.Duration | float64](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// write3 makes the yardstick write: an item, its index entry and a counter,
// as a command writes them (the same write as storetest.Bench's Write3),
// each time in a new sort key of its own partition.
type write3 struct {
	st   store.Store
	pk   string
	n    int
	data []byte
}

func newWrite3(st store.Store) *write3 {
	return &write3{st: st, pk: "write3bench/" + rand.Text(),
		data: []byte(`{"member":"m_0123456789","level":3,"points":1200,"tags":["a","b"]}`)}
}

// write makes one write and answers its latency.
func (w *write3) write(b *testing.B) time.Duration {
	w.n++
	sk := fmt.Sprintf("w3#%09d", w.n)
	start := time.Now()
	err := w.st.Write(context.Background(),
		store.Put(store.K(w.pk, sk), w.data).IfAbsent(),
		store.Put(store.K(w.pk+"#index", sk), []byte(sk)).IfAbsent(),
		store.Add(store.K(w.pk, "count"), 1))
	if err != nil {
		b.Fatalf("Write: %v", err)
	}
	return time.Since(start)
}
