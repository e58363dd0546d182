package funnel_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/funnel"
	"github.com/wemember/wemember/shared/funnel/funneltest"
	"github.com/wemember/wemember/shared/store"
)

func openBolt(tb testing.TB) store.Store {
	tb.Helper()
	s, err := bolt.Open(filepath.Join(tb.TempDir(), "funnel.db"))
	if err != nil {
		tb.Fatalf("bolt.Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// TestSuite runs the funnel suite on bbolt, with 1,000 concurrent
// registrations.
func TestSuite(t *testing.T) {
	funneltest.RunSuite(t, func(t *testing.T) store.Store { return openBolt(t) })
}

// BenchmarkRecord measures recording a share carrying every dimension on
// bbolt, from 8 goroutines at once.
func BenchmarkRecord(b *testing.B) {
	svc := funnel.New(openBolt(b), funneltest.Noon)
	ctx := context.Background()
	b.SetParallelism(8)
	b.ReportAllocs()
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			err := svc.Record(ctx, funnel.Event{Step: funnel.StepShare, Trigger: "benefits", Channel: "mp-share",
				Code: "code-1", Inviter: "alice", Subject: fmt.Sprint("s", n.Add(1))})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
