package e2e_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/wemember/wemember/functions/expiry-sweep/sweep"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/parallel"
	"github.com/wemember/wemember/shared/reqlog"
)

// The expiry sweeps, measured as the expiry-sweep function runs them: one
// sweep run (sweep.Sweeper with its default limit) of one job over b.N due
// items seeded beforehand, reporting items/s; an operation is one item, so
// commits/op and reads/op are per item settled.
//
//	go test -run '^$' -bench Sweep -benchtime 2000x ./tests/e2e/

// sweepMembers is how many members the due items belong to: a member's
// lots or coupons often fall due on the same day (year-end expiry).
const sweepMembers = 100

// sweepYardsticks is how many yardstick writes precede the timed run.
const sweepYardsticks = 20

// seedWorkers is how many goroutines seed the due items (untimed).
const seedWorkers = 16

// BenchmarkSweep: "points-expire" expires b.N due point lots,
// "coupons-expire" b.N coupons past their validity.
func BenchmarkSweep(b *testing.B) {
	benchBackends(b, func(b *testing.B, e *env, ddb *ddbCounter) {
		ctx := context.Background()
		tpl := benchTemplate(b, e)
		b.Run("points-expire", func(b *testing.B) {
			run := rand.Text()
			benchSweep(b, e, ddb, "points-expire", 5*24*time.Hour, func(i int) error {
				_, err := e.deps.Loyalty.Earn(ctx, loyalty.EarnCmd{MemberID: fmt.Sprintf("x-%s-%d", run, i%sweepMembers),
					Points: 3, Key: run + "-" + strconv.Itoa(i), Expiry: &loyalty.ExpiryRule{Mode: loyalty.ExpireRolling, Days: 1 + i%3}})
				return err
			})
		})
		b.Run("coupons-expire", func(b *testing.B) {
			run := rand.Text()
			benchSweep(b, e, ddb, "coupons-expire", 8*24*time.Hour, func(i int) error {
				_, err := e.deps.Coupons.Issue(ctx, coupons.IssueCmd{TemplateID: tpl, MemberID: fmt.Sprintf("x-%s-%d", run, i%sweepMembers),
					Reason: "bench", Key: run + "-" + strconv.Itoa(i)})
				return err
			})
		})
	})
}

// benchSweep runs the sweep job named job once to start its cursor, seeds
// b.N due items with seed (item i of member i%sweepMembers; each member's
// items from one goroutine), moves the clock on by due, and times one
// sweep run of the job, which must settle every item; its x-write3 is the
// time per item over the median of the yardstick writes made just before.
func benchSweep(b *testing.B, e *env, ddb *ddbCounter, job string, due time.Duration, seed func(i int) error) {
	ctx := reqlog.With(context.Background(), e.deps.Log) // The deployment's log, which discards.
	var jobs []sweep.Job
	for _, j := range sweep.Jobs(sweep.Services{Loyalty: e.deps.Loyalty, Coupons: e.deps.Coupons}) {
		if j.Name == job {
			jobs = append(jobs, j)
		}
	}
	if len(jobs) != 1 {
		b.Fatalf("sweep job %q: found %d", job, len(jobs))
	}
	s := sweep.New(jobs, e.clock.Now, sweep.WithBudget(10*time.Minute))
	if _, err := s.Run(ctx); err != nil { // A first run starts the job's cursor.
		b.Fatal(err)
	}
	err := parallel.Each(ctx, seedWorkers, min(b.N, sweepMembers), func(ctx context.Context, m int) error {
		for i := m; i < b.N; i += sweepMembers {
			if err := seed(i); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
	e.clock.Advance(due)
	m := startMeter(b, e, ddb)
	m.yardsticks(sweepYardsticks)
	start := time.Now()
	rep, err := s.Run(ctx)
	b.StopTimer()
	elapsed := time.Since(start)
	if err != nil || rep.Failed || rep.More || rep.Jobs[0].Items != b.N {
		b.Fatalf("sweep run: %+v, %v; want %d items settled, nothing left", rep, err, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "items/s")
	m.reportRun(elapsed)
}
