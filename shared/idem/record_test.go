package idem_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/idem"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/store/storetest"
	"github.com/wemember/wemember/shared/web"
)

// command writes its effect and the key's record in one write: the record
// as a rider would, with Lost and Written told the outcome.
func command(st store.Store, effect store.Key, answer string) func(ctx context.Context, rec *idem.Record) (*web.Response, error) {
	return func(ctx context.Context, rec *idem.Record) (*web.Response, error) {
		resp := web.Text(200, answer)
		rec.Answer(resp)
		err := st.Write(ctx, append(rec.Mutations(), store.Put(effect, []byte(answer)))...)
		if k, ok := store.FailedKey(err); ok {
			if _, lerr := rec.Lost(k); lerr != nil {
				return nil, lerr
			}
		}
		if err != nil {
			return nil, err
		}
		rec.Written()
		return resp, nil
	}
}

// TestRunCommitsOnce: a command that writes the key's record with its
// effect commits once; a duplicate gets the first answer from one read,
// without running; a command that writes nothing of its own gets the record
// written after it.
func TestRunCommitsOnce(t *testing.T) {
	st := &storetest.Faults{Store: open(t)}
	g := idem.New(st, "test", idem.Options{})
	ctx := context.Background()
	effect := store.K("effect", "1")
	before := st.Counts()
	resp, err := g.Run(ctx, "msg-1", command(st, effect, "first"))
	if err != nil || string(resp.Body) != "first" {
		t.Fatalf("Run = %v, %v", resp, err)
	}
	if got, want := st.Since(before), (storetest.Counts{Writes: 1, Mutations: 2, Gets: 1}); got != want {
		t.Errorf("a command writing its record asked the store %+v; want %+v", got, want)
	}
	before = st.Counts()
	resp, err = g.Run(ctx, "msg-1", func(context.Context, *idem.Record) (*web.Response, error) {
		t.Error("a duplicate ran")
		return nil, nil
	})
	if err != nil || string(resp.Body) != "first" {
		t.Errorf("duplicate = %v, %v; want the first answer", resp, err)
	}
	if got, want := st.Since(before), (storetest.Counts{Gets: 1}); got != want {
		t.Errorf("a duplicate asked the store %+v; want %+v", got, want)
	}
	before = st.Counts()
	resp, err = g.Run(ctx, "msg-2", func(context.Context, *idem.Record) (*web.Response, error) { return web.Text(200, "plain"), nil })
	if err != nil || string(resp.Body) != "plain" {
		t.Fatalf("Run = %v, %v", resp, err)
	}
	if got, want := st.Since(before), (storetest.Counts{Writes: 1, Mutations: 1, Gets: 1}); got != want {
		t.Errorf("a command writing nothing of its own asked the store %+v; want %+v", got, want)
	}
}

// TestRunFailedCommandLeavesNothing: a command whose write fails leaves no
// record, so the retry runs; one that fails after its write (holding the
// key) gives the key back.
func TestRunFailedCommandLeavesNothing(t *testing.T) {
	st := &storetest.Faults{Store: open(t)}
	g := idem.New(st, "test", idem.Options{})
	ctx := context.Background()
	disk := errors.New("disk unplugged")
	st.BeforeWrite = func(context.Context, []store.Mutation) error { return errs.E("store.Write", errs.Transient, disk) }
	if _, err := g.Run(ctx, "msg-1", command(st, store.K("effect", "1"), "first")); !errors.Is(err, disk) {
		t.Fatalf("Run on a failing store = %v; want the store's error", err)
	}
	st.BeforeWrite = nil
	if resp, err := g.Run(ctx, "msg-1", command(st, store.K("effect", "1"), "retry")); err != nil || string(resp.Body) != "retry" {
		t.Errorf("retry = %v, %v; want it run", resp, err)
	}

	sendFailed := errs.E("send", errs.Transient, "busy")
	_, err := g.Run(ctx, "msg-2", func(ctx context.Context, rec *idem.Record) (*web.Response, error) {
		if err := st.Write(ctx, rec.Mutations()...); err != nil { // Holds the key: no answer yet.
			return nil, err
		}
		rec.Written()
		return nil, sendFailed
	})
	if !errors.Is(err, sendFailed) {
		t.Fatalf("Run = %v; want the command's error", err)
	}
	if _, err := st.Get(ctx, idem.Key("test", "msg-2")); !errs.Is(errs.NotExist, err) {
		t.Errorf("record after a failed command: %v; want none", err)
	}
}

// TestRunConcurrentDeliveries: deliveries of one key at once run until one
// writes; every one answers the first write's answer and one effect stands.
func TestRunConcurrentDeliveries(t *testing.T) {
	st := open(t)
	g := idem.New(st, "test", idem.Options{Wait: 5 * time.Second, Poll: 5 * time.Millisecond})
	ctx := context.Background()
	var wg sync.WaitGroup
	var n atomic.Int32
	bodies := make([]string, 8)
	for i := range bodies {
		wg.Go(func() {
			answer := string(rune('a' + n.Add(1)))
			resp, err := g.Run(ctx, "msg-1", command(st, store.K("effect", answer), answer))
			if err != nil {
				t.Errorf("delivery %d: %v", i, err)
				return
			}
			bodies[i] = string(resp.Body)
		})
	}
	wg.Wait()
	page, err := st.Query(ctx, store.Query{PK: "effect"})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("effects = %d, %v; want 1", len(page.Items), err)
	}
	for i, b := range bodies {
		if b != string(page.Items[0].Data) {
			t.Errorf("delivery %d answered %q; want the first write's %q", i, b, page.Items[0].Data)
		}
	}
}
