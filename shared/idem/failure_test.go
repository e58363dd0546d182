package idem_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/idem"
	"github.com/wemember/wemember/shared/reqlog"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/web"
)

// failingAfter is a store whose writes fail once ok writes have succeeded.
type failingAfter struct {
	store.Store
	ok atomic.Int32
}

var errDisk = errors.New("disk unplugged")

func (s *failingAfter) Write(ctx context.Context, ms ...store.Mutation) error {
	if s.ok.Add(-1) < 0 {
		return errs.E("store.Write", errs.Transient, errDisk)
	}
	return s.Store.Write(ctx, ms...)
}

// requestLog is a context inside request req-7 whose log lines land in buf.
func requestLog(buf *bytes.Buffer) context.Context {
	l := slog.New(slog.NewJSONHandler(buf, nil)).With(slog.String("request_id", "req-7"))
	return reqlog.With(context.Background(), l)
}

func TestDoReportsAKeyItCouldNotRelease(t *testing.T) {
	st := &failingAfter{Store: open(t)}
	st.ok.Store(1) // The claim succeeds; releasing it after the failure does not.
	var buf bytes.Buffer
	g := idem.New(st, "test", idem.Options{})
	failed := errs.E("member.Arrive", errs.Invalid, "no identity")
	_, err := g.Do(requestLog(&buf), "msg-1", func(context.Context) (*web.Response, error) { return nil, failed })
	if !errors.Is(err, failed) || !errs.Is(errs.Invalid, err) {
		t.Errorf("Do = %v, want the command's error (kind invalid)", err)
	}
	if !errors.Is(err, errDisk) {
		t.Errorf("Do = %v, want the store error returned too", err)
	}
	log := buf.String()
	if !strings.Contains(log, errDisk.Error()) || !strings.Contains(log, `"request_id":"req-7"`) {
		t.Errorf("log = %q; want the store error logged with the request id", log)
	}
}

func TestDoLogsAnAnswerItCouldNotStore(t *testing.T) {
	st := &failingAfter{Store: open(t)}
	st.ok.Store(1) // The claim succeeds; storing the answer does not.
	var buf bytes.Buffer
	g := idem.New(st, "test", idem.Options{})
	resp, err := g.Do(requestLog(&buf), "msg-1", func(context.Context) (*web.Response, error) { return web.Text(200, "done"), nil })
	if err != nil || string(resp.Body) != "done" {
		t.Errorf("Do = %v, %v; want the answer (the command's effects happened)", resp, err)
	}
	log := buf.String()
	if !strings.Contains(log, errDisk.Error()) || !strings.Contains(log, `"request_id":"req-7"`) {
		t.Errorf("log = %q; want the store error logged with the request id", log)
	}
}
