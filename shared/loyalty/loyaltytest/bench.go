package loyaltytest

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/store"
)

func benchService(b *testing.B, st store.Store) (*loyalty.Service, *Clock) {
	b.Helper()
	clk := NewClock(Start)
	svc := loyalty.New(st, clk.Now, IDs())
	if _, err := svc.InstallDefaults(context.Background()); err != nil {
		b.Fatalf("InstallDefaults: %v", err)
	}
	return svc, clk
}

// BenchEarn measures Earn: one new lot per command, spread over 100 members.
func BenchEarn(b *testing.B, st store.Store) {
	svc, _ := benchService(b, st)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := svc.Earn(ctx, loyalty.EarnCmd{MemberID: fmt.Sprintf("b%d", i%100), Points: 10, Key: fmt.Sprintf("e%d", i)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchSpend measures Spend of 5 points from members holding 10-point lots,
// so each spend touches one or two lots.
func BenchSpend(b *testing.B, st store.Store) {
	svc, _ := benchService(b, st)
	ctx := context.Background()
	const members = 100
	for m := 0; m < members; m++ {
		if _, err := svc.Earn(ctx, loyalty.EarnCmd{MemberID: fmt.Sprintf("b%d", m), Points: loyalty.MaxPoints, Key: fmt.Sprintf("seed%d", m)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := svc.Spend(ctx, loyalty.SpendCmd{MemberID: fmt.Sprintf("b%d", i%members), Points: 5, Key: fmt.Sprintf("s%d", i)}); err != nil {
			b.Fatal(err)
		}
	}
}

// SweepBenchLimit is how many items BenchExpireDue lets one ExpireDue call
// settle: a call takes a few seconds of a sweep's 15 minutes, so that the
// partitions of a day are settled side by side rather than a few at a time.
const SweepBenchLimit = 5000

// BenchExpireDue measures ExpireDue over n due lots (b.N when n is 0),
// spread over 50 members, and reports items/s and the process's CPU time
// per item (which a machine shared with other work distorts less). The
// lots are seeded by one goroutine per member (untimed).
func BenchExpireDue(b *testing.B, st store.Store, n int) {
	svc, clk := benchService(b, st)
	ctx := context.Background()
	if n <= 0 {
		n = b.N
	}
	const members = 50
	var wg sync.WaitGroup
	errc := make(chan error, members)
	for m := 0; m < members; m++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := m; i < n; i += members {
				_, err := svc.Earn(ctx, loyalty.EarnCmd{MemberID: fmt.Sprintf("b%d", m), Points: 3, Key: fmt.Sprintf("e%d", i),
					Expiry: &loyalty.ExpiryRule{Mode: loyalty.ExpireRolling, Days: 1 + i%3}})
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	clk.Add(4 * 24 * time.Hour)
	b.ResetTimer()
	start, cpu, done := time.Now(), cpuTime(), 0
	for {
		res, err := svc.ExpireDue(ctx, clk.Now(), SweepBenchLimit)
		if err != nil {
			b.Fatal(err)
		}
		done += res.Items
		if !res.More {
			break
		}
	}
	b.StopTimer()
	if done != n {
		b.Fatalf("expired %d items, want %d", done, n)
	}
	b.ReportMetric(float64(done)/time.Since(start).Seconds(), "items/s")
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(done), "cpu-µs/item")
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
