package idem_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/idem"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/web"
)

func open(t *testing.T) store.Store {
	s, err := bolt.Open(t.TempDir() + "/i.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestDoOnceConcurrently(t *testing.T) {
	g := idem.New(open(t), "test", idem.Options{Wait: 5 * time.Second, Poll: 5 * time.Millisecond})
	var runs atomic.Int32
	var wg sync.WaitGroup
	bodies := make([]string, 10)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := g.Do(context.Background(), "msg-1", func(ctx context.Context) (*web.Response, error) {
				n := runs.Add(1)
				time.Sleep(50 * time.Millisecond) // Overlap the duplicates.
				return web.Text(200, "first-"+string(rune('0'+n))), nil
			})
			if err != nil {
				t.Errorf("delivery %d: %v", i, err)
				return
			}
			bodies[i] = string(resp.Body)
		}()
	}
	wg.Wait()
	if got := runs.Load(); got != 1 {
		t.Fatalf("ran %d times, want 1", got)
	}
	for i, b := range bodies {
		if b != "first-1" {
			t.Fatalf("delivery %d got %q, want the first answer", i, b)
		}
	}
}

func TestDoFailureLetsRetryRun(t *testing.T) {
	g := idem.New(open(t), "test", idem.Options{})
	boom := errors.New("boom")
	_, err := g.Do(context.Background(), "k", func(context.Context) (*web.Response, error) { return nil, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("first run: %v", err)
	}
	resp, err := g.Do(context.Background(), "k", func(context.Context) (*web.Response, error) { return web.Text(200, "ok"), nil })
	if err != nil || string(resp.Body) != "ok" {
		t.Fatalf("retry = %v, %v; want it to run", resp, err)
	}
}

func TestDoInProgressAndLeaseLapse(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	s, err := bolt.Open(t.TempDir()+"/i.db", bolt.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	g := idem.New(s, "test", idem.Options{Lease: 10 * time.Second, Wait: 20 * time.Millisecond, Poll: 5 * time.Millisecond, Now: clock})
	started, release := make(chan struct{}), make(chan struct{})
	go g.Do(context.Background(), "k", func(context.Context) (*web.Response, error) {
		close(started)
		<-release // A worker that hangs (or died).
		return nil, errors.New("late")
	})
	<-started
	_, err = g.Do(context.Background(), "k", func(context.Context) (*web.Response, error) { return web.Text(200, "dup"), nil })
	if !errs.Is(errs.InProgress, err) {
		t.Fatalf("duplicate during the first run: %v, want in_progress", err)
	}
	now = now.Add(11 * time.Second) // The hung worker's lease lapses.
	resp, err := g.Do(context.Background(), "k", func(context.Context) (*web.Response, error) { return web.Text(200, "second"), nil })
	if err != nil || string(resp.Body) != "second" {
		t.Fatalf("after the lease: %v, %v; want a fresh run", resp, err)
	}
	close(release)
}

func TestMiddleware(t *testing.T) {
	g := idem.New(open(t), "http", idem.Options{})
	var runs atomic.Int32
	h := g.Middleware()(func(ctx context.Context, r *web.Request) (*web.Response, error) {
		n := runs.Add(1)
		if string(r.Body) == "bad" {
			return web.Text(http.StatusBadRequest, "bad"), nil
		}
		return web.Text(200, string(rune('0'+n))), nil
	})
	call := func(key, body string) *web.Response {
		r := web.NewRequest("POST", "/x", []byte(body))
		if key != "" {
			r.Header.Set("Idempotency-Key", key)
		}
		resp, _ := h(context.Background(), r)
		return resp
	}
	if a, b := call("k1", "x"), call("k1", "x"); string(a.Body) != "1" || string(b.Body) != "1" {
		t.Fatalf("same key: %s then %s, want 1 and 1", a.Body, b.Body)
	}
	if c := call("", "x"); string(c.Body) != "2" {
		t.Fatalf("no key: %s, want a fresh run", c.Body)
	}
	if r := call("k2", "bad"); r == nil || r.Status != http.StatusBadRequest {
		t.Fatalf("error answer = %+v, want the handler's 400", r)
	}
	if runs.Load() != 3 {
		t.Fatalf("runs = %d", runs.Load())
	}
	call("k2", "bad") // Error answers are not stored: a retry runs.
	if runs.Load() != 4 {
		t.Fatalf("an error answer was replayed instead of retried: runs = %d", runs.Load())
	}
}
