package fraudtest

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/fraud"
)

// BenchAssess measures a redemption's anti-fraud cost on one store: Assess
// and the write of its mutations (with the redemption's own marker), one
// redemption at a time, each from its own invitee, inviter, address and
// device.
func BenchAssess(b *testing.B, open Opener) {
	e := newEnv(b, open)
	e.setRules(func(r *fraud.Rules) { r.SpikeHourly = fraud.MaxSpikeHourly })
	b.ResetTimer()
	for i := range b.N {
		e.benchRedeem(b, i)
	}
}

// BenchAssessParallel measures redemptions 16 at a time, all in one hour,
// so that they meet on the hour's spike count: spread over shards
// partitions (1 shows the unsharded counter's contention).
func BenchAssessParallel(b *testing.B, open Opener, shards int) {
	e := newEnv(b, open, fraud.WithSpikeShards(shards))
	e.setRules(func(r *fraud.Rules) { r.SpikeHourly = fraud.MaxSpikeHourly })
	var n atomic.Int64
	b.SetParallelism(8) // 16 redemptions at once on 2 cores.
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e.benchRedeem(b, int(n.Add(1)))
		}
	})
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "redemptions/s")
	b.ReportMetric(float64(e.retries.Load())/float64(n.Load()), "retries/op")
}

// benchRedeem redeems the i-th benchmark attempt as env.redeem does.
func (e *env) benchRedeem(b *testing.B, i int) {
	a := fraud.Attempt{Inviter: fmt.Sprint("inviter-", i%1000), Invitee: fmt.Sprint("m-", i),
		Client: fmt.Sprint("ip-", i), Device: fmt.Sprint("dev-", i), Platform: "ios"}
	if _, err := e.redeem(a); err != nil {
		b.Error(err)
	}
}
