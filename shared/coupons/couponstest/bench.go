package couponstest

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/store"
)

// BenchOpener returns a fresh, empty store for one benchmark; the benchmark
// closes it.
type BenchOpener func(b *testing.B) store.Store

func benchEnv(b *testing.B, open BenchOpener, t coupons.Template) (*coupons.Service, *clock) {
	b.Helper()
	st := open(b)
	b.Cleanup(func() { _ = st.Close() })
	clk := &clock{t: t0()}
	svc := coupons.New(st, coupons.Config{Now: clk.Now})
	if _, err := svc.SaveTemplate(context.Background(), t, "bench"); err != nil {
		b.Fatal(err)
	}
	return svc, clk
}

// BenchIssue measures issuing coupons of one template to distinct members,
// one at a time.
func BenchIssue(b *testing.B, open BenchOpener) {
	svc, _ := benchEnv(b, open, tpl("bench"))
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := svc.Issue(ctx, coupons.IssueCmd{TemplateID: "bench", MemberID: fmt.Sprintf("m%d", i),
			Reason: "bench", Key: fmt.Sprintf("k%d", i)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchIssueContended measures issuing one limited-stock template from many
// goroutines at once, with one stock counter and with shards, so the cost of
// a hot counter on the backend shows.
func BenchIssueContended(b *testing.B, open BenchOpener) {
	for _, shards := range []int{1, 8} {
		b.Run(fmt.Sprintf("shards=%d", shards), func(b *testing.B) {
			x := tpl("hot")
			x.Stock, x.Shards = 1_000_000_000, shards
			svc, _ := benchEnv(b, open, x)
			ctx := context.Background()
			var n atomic.Int64
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					if _, err := svc.Issue(ctx, coupons.IssueCmd{TemplateID: "hot", MemberID: fmt.Sprintf("m%d", i),
						Reason: "bench", Key: fmt.Sprintf("k%d", i)}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// issueN issues n coupons of template "bench" before the timer starts.
func issueN(b *testing.B, svc *coupons.Service, n int) []coupons.Instance {
	b.Helper()
	out := make([]coupons.Instance, n)
	parallel(n, 4, func(i int) {
		got, err := svc.Issue(context.Background(), coupons.IssueCmd{TemplateID: "bench",
			MemberID: fmt.Sprintf("m%d", i%500), Reason: "bench", Key: fmt.Sprintf("k%d", i)})
		if err != nil {
			b.Error(err)
		}
		out[i] = got.Instance
	})
	return out
}

// BenchRedeem measures redeeming distinct coupons.
func BenchRedeem(b *testing.B, open BenchOpener) {
	svc, _ := benchEnv(b, open, tpl("bench"))
	ins := issueN(b, svc, b.N)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if _, err := svc.Redeem(ctx, coupons.RedeemCmd{InstanceID: ins[i].ID, MemberID: ins[i].MemberID,
			Clerk: "clerk", Key: "r"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchExpireDue measures the sweep over b.N due coupons, seeded untimed,
// in coupons expired per second and in this process's CPU time per coupon
// (a remote store's own work is not in it).
func BenchExpireDue(b *testing.B, open BenchOpener) {
	svc, _ := benchEnv(b, open, tpl("bench"))
	issueN(b, svc, b.N)
	ctx := context.Background()
	// A first sweep walks back Config.Lookback days once and stores its
	// cursor; steady-state sweeps start from there.
	if _, err := svc.ExpireDue(ctx, t0(), 1); err != nil {
		b.Fatal(err)
	}
	now := t0().Add(week + time.Second)
	b.ResetTimer()
	start, cpu, done := time.Now(), cpuTime(), 0
	for {
		p, err := svc.ExpireDue(ctx, now, 1000)
		if err != nil {
			b.Fatal(err)
		}
		done += p.Expired
		if !p.More {
			break
		}
	}
	b.StopTimer()
	if done != b.N {
		b.Fatalf("expired %d, want %d", done, b.N)
	}
	b.ReportMetric(float64(done)/time.Since(start).Seconds(), "items/s")
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(done), "cpu-µs/item")
}

// cpuTime is the CPU time, user and system, this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
