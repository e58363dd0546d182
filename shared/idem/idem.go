// Package idem makes a command run once per idempotency key however often,
// and however concurrently, it is delivered — the design of Powertools
// idempotency over the store port:
//
//   - acquire: one conditional write (IfAbsent) of an "in progress" record
//     whose expiry is a lease, so a crashed worker's claim lapses by itself;
//   - run the command; on success replace the record with the answer,
//     kept for the key's lifetime, so a duplicate gets the first answer;
//   - on failure delete the record so a retry can run;
//   - a duplicate that arrives while the first is running waits a bounded
//     time for its answer, then fails with errs.InProgress.
//
// The command's effects must themselves be exactly once (domain commands
// write their own idempotency record in the same atomic write as their
// effects); this layer makes the answer stable and stops duplicate work.
package idem

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/reqlog"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/web"
)

// Options tune a Guard.
type Options struct {
	TTL   time.Duration // How long an answer is kept; default 24h.
	Lease time.Duration // Longest a run may hold the key; default 30s or the context deadline.
	Wait  time.Duration // How long a duplicate waits for a running first; default 3s.
	Poll  time.Duration // How often it looks; default 50ms.
	Now   func() time.Time
}

// Guard runs commands once per key within a scope.
type Guard struct {
	st    store.Store
	scope string
	o     Options
}

// New returns a guard for one scope ("oa", "wecom", "pay", …).
func New(st store.Store, scope string, o Options) *Guard {
	if o.TTL <= 0 {
		o.TTL = 24 * time.Hour
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Second
	}
	if o.Wait <= 0 {
		o.Wait = 3 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 50 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Guard{st: st, scope: scope, o: o}
}

type status string

const (
	running status = "running"
	done    status = "done"
)

// record is the stored state of one key.
type record struct {
	Status status        `json:"status"`
	Resp   *web.Response `json:"resp,omitempty"`
	At     time.Time     `json:"at"`
}

// Key is the store key of an idempotency key in a scope; keys are hashed so
// their length and content never matter.
func Key(scope, key string) store.Key {
	h := sha256.Sum256([]byte(key))
	return store.K("idem#"+scope+"#"+hex.EncodeToString(h[:16]), "idem")
}

// Do runs fn once for key. A duplicate gets the first run's response; a
// duplicate during the first run waits for it, then fails with
// errs.InProgress. A failed run leaves no trace, so a retry runs again.
func (g *Guard) Do(ctx context.Context, key string, fn func(ctx context.Context) (*web.Response, error)) (*web.Response, error) {
	const op = "idem.Do"
	if key == "" {
		return nil, errs.E(op, errs.Invalid, "idempotency key is empty")
	}
	k := Key(g.scope, key)
	claim := store.PutJSON(k, record{Status: running, At: g.o.Now()}).IfAbsent().ExpiresAt(g.lease(ctx))
	if err := g.st.Write(ctx, claim); err != nil {
		if !errs.Is(errs.Conflict, err) {
			return nil, errs.E(op, err)
		}
		return g.await(ctx, k)
	}
	resp, err := fn(ctx)
	if err != nil {
		// Let a retry run. The lease would lapse anyway; deleting is faster.
		return nil, g.release(ctx, op, k, err)
	}
	fin := g.answer(k, resp)
	fctx, fcancel := store.Detach(ctx)
	defer fcancel()
	if werr := g.st.Write(fctx, fin); werr != nil {
		// The effects happened; only the stored answer is missing, so the
		// answer stands. A duplicate waits for the lease, then runs again;
		// its domain commands are idempotent.
		reqlog.From(ctx).ErrorContext(ctx, "idempotent answer not stored; a duplicate runs again after the lease",
			slog.String("scope", g.scope), slog.String("kind", errs.KindOf(werr).String()), slog.String("error", werr.Error()))
		return resp, nil
	}
	return resp, nil
}

// await waits for a running first delivery's answer.
func (g *Guard) await(ctx context.Context, k store.Key) (*web.Response, error) {
	const op = "idem.Do"
	deadline := time.Now().Add(g.o.Wait)
	for {
		var r record
		_, err := store.GetJSON(ctx, g.st, k, &r)
		switch {
		case err == nil && r.Status == done && r.Resp != nil:
			return r.Resp, nil
		case errs.Is(errs.NotExist, err):
			// The first run failed and let go: this delivery is the retry.
			return nil, errs.E(op, errs.InProgress, "a previous delivery failed; retry")
		case err != nil:
			return nil, errs.E(op, err)
		}
		if time.Now().After(deadline) {
			return nil, errs.E(op, errs.InProgress, "the same request is being processed; retry later")
		}
		t := time.NewTimer(g.o.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, errs.E(op, errs.Transient, ctx.Err())
		case <-t.C:
		}
	}
}

// Middleware runs a handler once per request carrying an Idempotency-Key
// header (requests without one pass straight through). Error responses are
// not stored: the client may retry them.
func (g *Guard) Middleware() web.Middleware {
	return func(next web.Handler) web.Handler {
		return func(ctx context.Context, r *web.Request) (*web.Response, error) {
			key := r.Header.Get("Idempotency-Key")
			if key == "" {
				return next(ctx, r)
			}
			if len(key) > 256 {
				return nil, errs.E("idem.Middleware", errs.Invalid, "Idempotency-Key is too long")
			}
			resp, err := g.Do(ctx, r.Method+" "+r.Path+" "+key, func(ctx context.Context) (*web.Response, error) {
				resp, err := next(ctx, r)
				if err == nil && resp != nil && resp.Status >= http.StatusBadRequest {
					return nil, errResponse{resp}
				}
				return resp, err
			})
			var er errResponse
			if errors.As(err, &er) {
				return er.resp, nil
			}
			return resp, err
		}
	}
}

// errResponse carries a handler's error response through Do without
// storing it.
type errResponse struct{ resp *web.Response }

func (e errResponse) Error() string { return "error response " + http.StatusText(e.resp.Status) }
