package shortlinktest

import (
	"bytes"
	"sync"
	"testing"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/shortlink"
	"github.com/wemember/wemember/shared/store"
)

// chunks is a random source that hands out one chunk a read (a link id
// takes the first 8 bytes of one read), then repeats its last chunk.
type chunks struct {
	mu sync.Mutex
	cs [][]byte
}

func (c *chunks) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := copy(p, c.cs[0])
	if len(c.cs) > 1 {
		c.cs = c.cs[1:]
	}
	return n, nil
}

// id8 is the 8 random bytes that make the id of 8 times charset[b%32].
func id8(b byte) []byte { return bytes.Repeat([]byte{b}, 8) }

// testIDCollision draws the first link's id again for a second share: the
// write is refused, the first link stays, and the second gets a fresh id.
func testIDCollision(t *testing.T, open Opener) {
	e := newEnv(t, open, &chunks{cs: [][]byte{id8(0), id8(0), id8(1)}})
	first := e.create(share())
	other := share()
	other.Channel = "poster"
	second := e.create(other)
	if first.ID != "22222222" || second.ID != "33333333" {
		t.Errorf("ids = %q, %q; want 22222222, then 33333333 after the collision", first.ID, second.ID)
	}
	e.resolves(first.ID, first)
	e.resolves(second.ID, second)
	if n := e.st.writes.Load(); n != 3 {
		t.Errorf("%d writes, want 3 (one refused)", n)
	}
}

// testIDsExhausted draws only taken ids: Create gives up, bounded, and
// leaves the first link alone.
func testIDsExhausted(t *testing.T, open Opener) {
	e := newEnv(t, open, &chunks{cs: [][]byte{id8(5)}})
	first := e.create(share())
	other := share()
	other.Inviter = "m-bob"
	_, err := e.svc.Create(e.ctx, other)
	wantKind(t, "Create with only taken ids", err, errs.Transient)
	if n := e.st.writes.Load(); n != 9 {
		t.Errorf("%d writes, want 1 and 8 tries", n)
	}
	e.resolves(first.ID, first)
}

// testConcurrentSameShare lets racers create the same share at once: all
// get one link, and one write created it.
func testConcurrentSameShare(t *testing.T, open Opener, racers int) {
	e := newEnv(t, open, nil)
	links := make([]shortlink.Link, racers)
	errors := make([]error, racers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Go(func() {
			<-start
			links[i], errors[i] = e.svc.Create(e.ctx, share())
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errors {
		if err != nil {
			t.Fatalf("racer %d: %v", i, err)
		}
		if links[i] != links[0] {
			t.Errorf("racer %d got %+v, racer 0 %+v", i, links[i], links[0])
		}
	}
	e.resolves(links[0].ID, links[0])
	if again := e.create(share()); again != links[0] {
		t.Errorf("after the race the share has %+v, want %+v", again, links[0])
	}
}

// testPlanCreateComposes writes a planned link together with a command's
// own effect in one write, then plans the same share again.
func testPlanCreateComposes(t *testing.T, open Opener) {
	e := newEnv(t, open, nil)
	l, ms, err := e.svc.PlanCreate(e.ctx, share())
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || l.ID == "" {
		t.Fatalf("PlanCreate = %+v with %d mutations, want a new link and 2", l, len(ms))
	}
	if _, err := e.svc.Resolve(e.ctx, l.ID); !errs.Is(errs.NotExist, err) {
		t.Errorf("a planned link resolves before it is written: %v", err)
	}
	counter := store.K("funnel#test", "shares")
	if err := e.st.Write(e.ctx, append(ms, store.Add(counter, 1))...); err != nil {
		t.Fatal(err)
	}
	e.resolves(l.ID, l)
	again, ms, err := e.svc.PlanCreate(e.ctx, share())
	if err != nil || len(ms) != 0 || again != l {
		t.Errorf("PlanCreate of a made share = %+v, %d mutations, %v; want %+v and none", again, len(ms), err, l)
	}
	// A plan that lost its race fails as a whole, the command's effect too.
	lost := share()
	lost.Channel = "poster"
	_, ms1, _ := e.svc.PlanCreate(e.ctx, lost)
	_, ms2, _ := e.svc.PlanCreate(e.ctx, lost)
	if err := e.st.Write(e.ctx, ms1...); err != nil {
		t.Fatal(err)
	}
	err = e.st.Write(e.ctx, append(ms2, store.Add(counter, 1))...)
	wantKind(t, "writing a plan that lost its race", err, errs.Conflict)
	if it, err := e.st.Get(e.ctx, counter); err != nil || it.N != 1 {
		t.Errorf("counter = %d, %v; want 1", it.N, err)
	}
}
