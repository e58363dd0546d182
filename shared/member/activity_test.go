package member_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/store"
)

// cursorRace is a store on which the archive cursor moves under a run once,
// as when an overlapping run saves it first: before the first write of the
// cursor reaches the store, the same cursor is written by "the other run",
// so the run's own versioned write loses the race.
type cursorRace struct {
	store.Store
	mu   sync.Mutex
	lost int
}

var archiveCursor = store.K("cursor#member-archive", "cursor")

func (c *cursorRace) Write(ctx context.Context, ms ...store.Mutation) error {
	c.mu.Lock()
	first := c.lost == 0 && len(ms) == 1 && ms[0].Key == archiveCursor
	if first {
		c.lost++
	}
	c.mu.Unlock()
	if first {
		// The other run moved the cursor to the same day first.
		if err := c.Store.Write(ctx, store.Put(archiveCursor, ms[0].Data)); err != nil {
			return err
		}
	}
	return c.Store.Write(ctx, ms...)
}

// TestArchiveSweepLosesCursorRace: a run that loses the race to save the
// archive cursor reads the cursor again and goes on, instead of stopping
// with "more" and no progress (which left the sweep's report unfinished).
func TestArchiveSweepLosesCursorRace(t *testing.T) {
	svc, c, st := newClocked(t)
	ctx := context.Background()
	if _, _, err := svc.ArchiveInactive(ctx, c.Now(), 100); err != nil { // First run sets the cursor.
		t.Fatal(err)
	}
	idle, _ := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{openid("mp", "idle")}})
	c.Add(181 * 24 * time.Hour)
	race := &cursorRace{Store: st}
	box, _ := pii.New([]byte("0123456789abcdef0123456789abcdef"))
	raced := member.NewService(race, box, c.Now, member.NewID)
	n, more, err := raced.ArchiveInactive(ctx, c.Now(), 1000)
	if race.lost != 1 {
		t.Fatalf("the cursor race was set up %d times, want 1", race.lost)
	}
	if err != nil || n != 1 || more {
		t.Fatalf("ArchiveInactive after a lost cursor race = %d, %v, %v; want 1 archived, no more", n, more, err)
	}
	if m, _ := svc.Get(ctx, idle.Member.ID); m.Status != member.Archived {
		t.Fatalf("idle member status %s, want archived", m.Status)
	}
	if n, more, err := svc.ArchiveInactive(ctx, c.Now(), 1000); err != nil || n != 0 || more {
		t.Fatalf("next run = %d, %v, %v; want nothing left", n, more, err)
	}
}
