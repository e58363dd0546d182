package invitetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/invite"
	"github.com/wemember/wemember/shared/store"
)

// BenchRedeem measures one redemption at registration with its rewards
// (both sides' points, the red packet until its cap), one after another
// on one inviter's code: the latency of the command.
func BenchRedeem(b *testing.B, st store.Store) {
	e := newEnv(b, st)
	code := e.code("bench-inviter")
	b.ResetTimer()
	for i := range b.N {
		if _, err := e.svc.Redeem(e.ctx, invite.RedeemCmd{Code: code, Invitee: fmt.Sprintf("b%07d", i), Registration: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchHotCode runs the hot code race once per iteration on a fresh store:
// o.Race invitees redeem one code capped at o.Cap over o.Workers
// goroutines. It reports the race's wall time and redemptions per second.
func BenchHotCode(b *testing.B, open func(b *testing.B) store.Store, o Options) {
	o = o.withDefaults()
	var total time.Duration
	for i := range b.N {
		b.StopTimer()
		e := newEnv(b, open(b))
		e.rules(func(r *invite.Rules) {
			k := r.Kinds[invite.KindMPShare]
			k.Cap = int64(o.Cap)
			r.Kinds[invite.KindMPShare] = k
		})
		code := e.code(fmt.Sprintf("hot%d", i))
		cmds := make([]invite.RedeemCmd, o.Race)
		for j := range cmds {
			cmds[j] = invite.RedeemCmd{Code: code, Invitee: fmt.Sprintf("h%05d", j), Registration: true}
		}
		b.StartTimer()
		out, took := e.race(cmds, o.Workers)
		total += took
		if len(out.errs) > 0 || len(out.ok) != o.Cap {
			b.Fatalf("bound %d (want %d), errors %v", len(out.ok), o.Cap, out.errs)
		}
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/race")
	b.ReportMetric(float64(o.Race*b.N)/total.Seconds(), "redemptions/s")
}
