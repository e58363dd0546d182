package member_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/store/storetest"
)

// arriveMany registers n members and returns their ids and, by id, the
// openid value each arrives with.
func arriveMany(t *testing.T, svc *member.Service, n int) ([]string, map[string]string) {
	t.Helper()
	ids, open := make([]string, n), map[string]string{}
	for i := range n {
		v := fmt.Sprintf("o%03d", i)
		r, err := svc.Arrive(context.Background(), member.Arrival{Identities: []member.Identity{openid("mp", v)}})
		if err != nil {
			t.Fatal(err)
		}
		ids[i], open[r.Member.ID] = r.Member.ID, v
	}
	return ids, open
}

func counted(st store.Store, c *clock) (*member.Service, *storetest.Faults) {
	f := &storetest.Faults{Store: st}
	box, _ := pii.New([]byte("0123456789abcdef0123456789abcdef"))
	return member.NewService(f, box, c.Now, member.NewID), f
}

func wantStatus(t *testing.T, svc *member.Service, ids []string, want member.Status, except string) {
	t.Helper()
	for _, id := range ids {
		if id == except {
			continue
		}
		if m, err := svc.Get(context.Background(), id); err != nil || m.Status != want {
			t.Fatalf("member %s = %s, %v; want %s", id, m.Status, err, want)
		}
	}
}

// TestArchiveShardedIndex spreads a day's activity over the day's shards,
// still archives a member whose index item an earlier release put in the
// day's own partition, and settles a partition's members in one write.
func TestArchiveShardedIndex(t *testing.T) {
	svc, c, st := newClocked(t)
	ctx := context.Background()
	if _, _, err := svc.ArchiveInactive(ctx, c.Now(), 100); err != nil { // First run sets the cursor.
		t.Fatal(err)
	}
	ids, _ := arriveMany(t, svc, 120)
	day := calendar.Day(c.Now())
	pks := svc.ActivePartitions(day)
	used := 0
	for i, pk := range pks {
		pg, err := st.Query(ctx, store.Query{PK: pk})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 && len(pg.Items) != 0 {
			t.Errorf("the day's own partition holds %d members, want 0", len(pg.Items))
		}
		if len(pg.Items) > 0 {
			used++
		}
	}
	if used < store.Shards/2 {
		t.Errorf("a day's 120 members are in %d partitions, want them spread over at least %d", used, store.Shards/2)
	}
	old := ids[5] // As an earlier release wrote it.
	if err := st.Write(ctx, store.Delete(store.K(store.Sharded("active#"+day, old), old)),
		store.Put(store.K("active#"+day, old), nil)); err != nil {
		t.Fatal(err)
	}
	c.Add(181 * 24 * time.Hour)
	csvc, f := counted(st, c)
	n, more, err := csvc.ArchiveInactive(ctx, c.Now(), 1000)
	if err != nil || n != 120 || more {
		t.Fatalf("ArchiveInactive = %d, %v, %v; want all 120 archived", n, more, err)
	}
	wantStatus(t, svc, ids, member.Archived, "")
	if got := f.Counts(); got.Writes > len(pks)+1 {
		t.Errorf("run made %d writes, want at most %d: one per partition and the cursor", got.Writes, len(pks)+1)
	}
	if n, more, err := svc.ArchiveInactive(ctx, c.Now(), 1000); err != nil || n != 0 || more {
		t.Fatalf("next run = %d, %v, %v; want nothing left", n, more, err)
	}
}

// TestArchiveContendedBatch brings one member of a batch back while the
// sweep writes it: the batch fails, and item by item the sweep archives
// every other member once and leaves the returning one active.
func TestArchiveContendedBatch(t *testing.T) {
	svc, c, st := newClocked(t)
	ctx := context.Background()
	if _, _, err := svc.ArchiveInactive(ctx, c.Now(), 100); err != nil {
		t.Fatal(err)
	}
	ids, open := arriveMany(t, svc, 40)
	c.Add(181 * 24 * time.Hour)
	csvc, f := counted(st, c)
	var back string
	var once sync.Once
	f.BeforeWrite = func(ctx context.Context, ms []store.Mutation) error {
		if len(ms) >= 4 {
			once.Do(func() {
				back = ms[1].Key.SK // The first member's index item.
				if _, err := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", open[back])}}); err != nil {
					t.Errorf("Arrive: %v", err)
				}
			})
		}
		return nil
	}
	n, more, err := csvc.ArchiveInactive(ctx, c.Now(), 1000)
	if err != nil || n != 39 || more {
		t.Fatalf("ArchiveInactive = %d, %v, %v; want 39 archived", n, more, err)
	}
	if m, _ := svc.Get(ctx, back); m.Status != member.Active {
		t.Errorf("returning member %s is %s, want active", back, m.Status)
	}
	wantStatus(t, svc, ids, member.Archived, back)
}

// TestArchiveOverlappingRuns runs two archive sweeps at once: every member
// is archived once.
func TestArchiveOverlappingRuns(t *testing.T) {
	svc, c, _ := newClocked(t)
	ctx := context.Background()
	if _, _, err := svc.ArchiveInactive(ctx, c.Now(), 100); err != nil {
		t.Fatal(err)
	}
	ids, _ := arriveMany(t, svc, 60)
	c.Add(181 * 24 * time.Hour)
	var mu sync.Mutex
	var wg sync.WaitGroup
	total := 0
	for range 2 {
		wg.Go(func() {
			for range 100 {
				n, more, err := svc.ArchiveInactive(ctx, c.Now(), 7)
				if err != nil {
					t.Errorf("ArchiveInactive: %v", err)
					return
				}
				mu.Lock()
				total += n
				mu.Unlock()
				if !more {
					return
				}
			}
		})
	}
	wg.Wait()
	if total != 60 {
		t.Errorf("two overlapping runs archived %d, want each of 60 once", total)
	}
	wantStatus(t, svc, ids, member.Archived, "")
}

// BenchmarkArchiveInactive measures the archive sweep over b.N inactive
// members, registered untimed, in members archived per second.
func BenchmarkArchiveInactive(b *testing.B) {
	c := &clock{now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	st, err := bolt.Open(b.TempDir()+"/m.db", bolt.WithClock(c.Now))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	box, _ := pii.New([]byte("0123456789abcdef0123456789abcdef"))
	svc := member.NewService(st, box, c.Now, member.NewID)
	ctx := context.Background()
	if _, _, err := svc.ArchiveInactive(ctx, c.Now(), 100); err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := g; i < b.N; i += 32 {
				if _, err := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", fmt.Sprintf("o%d", i))}}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	c.Add(181 * 24 * time.Hour)
	b.ResetTimer()
	start, done := time.Now(), 0
	for {
		n, more, err := svc.ArchiveInactive(ctx, c.Now(), 1000)
		if err != nil {
			b.Fatal(err)
		}
		done += n
		if !more {
			break
		}
	}
	b.StopTimer()
	if done != b.N {
		b.Fatalf("archived %d, want %d", done, b.N)
	}
	b.ReportMetric(float64(done)/time.Since(start).Seconds(), "items/s")
}
