package idem

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/reqlog"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/web"
)

// Record is a key's record that the command writes itself, in its own
// atomic write, rather than the guard claiming the key first (Do): the
// command's effects and the record land together or not at all. With its
// answer set (Answer) the record is final as written; without, it holds the
// key on a lease (for a command that does more after its write, such as
// sending a message) and Run writes the answer after. A Record rides in an
// atomic write as its Mutations; the write's outcome is handed to Lost or
// Written.
type Record struct {
	g       *Guard
	k       store.Key
	lease   time.Time
	answer  *web.Response
	written bool
}

// errTaken is the cause of the failure Lost reports when another delivery
// wrote the key's record first.
var errTaken = errors.New("idem: the key's record was written by another delivery")

// Answer sets the answer the record stores, making it final as written.
func (r *Record) Answer(resp *web.Response) { r.answer = resp }

// Mutations is the record, required absent: the answer with the key's
// lifetime, or, without one, a hold on the key until the lease ends.
func (r *Record) Mutations() []store.Mutation {
	if r.answer != nil {
		return []store.Mutation{r.g.answer(r.k, r.answer).IfAbsent()}
	}
	return []store.Mutation{store.PutJSON(r.k, record{Status: running, At: r.g.o.Now()}).IfAbsent().ExpiresAt(r.lease)}
}

// Lost is told the key whose condition failed the write: when it is the
// record's, another delivery of the command wrote first, and the command
// ends (Run then answers with the first delivery's answer).
func (r *Record) Lost(k store.Key) (mine bool, err error) {
	if k != r.k {
		return false, nil
	}
	return true, errs.E("idem.Record", errs.Conflict, "another delivery came first", errTaken)
}

// Written is told that the write carrying the record succeeded.
func (r *Record) Written() { r.written = true }

// Run runs fn once for key, as Do does, for a command that writes the key's
// record in its own atomic write (Record): a command whose effects are one
// write commits once, record included. It reads the key's record first: a
// duplicate of a finished command gets its answer, one of a command still
// holding the key waits for it as Do's duplicates do. Concurrent first
// deliveries both run; the one whose write finds the record written ends
// and answers with the first's answer. A command that does not write the
// record (it had nothing to write, or its path writes alone) gets it written
// after it, once it succeeded. A failed command leaves no record, so a retry
// runs again.
func (g *Guard) Run(ctx context.Context, key string, fn func(ctx context.Context, rec *Record) (*web.Response, error)) (*web.Response, error) {
	const op = "idem.Run"
	if key == "" {
		return nil, errs.E(op, errs.Invalid, "idempotency key is empty")
	}
	k := Key(g.scope, key)
	var first record
	_, err := store.GetJSON(ctx, g.st, k, &first)
	switch {
	case err == nil && first.Status == done && first.Resp != nil:
		return first.Resp, nil
	case err == nil:
		return g.await(ctx, k)
	case !errs.Is(errs.NotExist, err):
		return nil, errs.E(op, err)
	}
	rec := &Record{g: g, k: k, lease: g.lease(ctx)}
	resp, err := fn(ctx, rec)
	switch {
	case errors.Is(err, errTaken):
		return g.await(ctx, k)
	case err != nil && rec.written:
		return nil, g.release(ctx, op, k, err)
	case err != nil:
		return nil, err
	case rec.written && rec.answer != nil:
		return rec.answer, nil
	}
	// Write the answer: over the command's hold, or on its own.
	fin := g.answer(k, resp)
	if !rec.written {
		fin = fin.IfAbsent()
	}
	fctx, fcancel := store.Detach(ctx)
	defer fcancel()
	werr := g.st.Write(fctx, fin)
	if errs.Is(errs.Conflict, werr) {
		return g.await(ctx, k) // A concurrent delivery answered first: its answer stands.
	}
	if werr != nil {
		// The effects happened; only the stored answer is missing, so the
		// answer stands. A duplicate then runs again; its commands are
		// idempotent.
		reqlog.From(ctx).ErrorContext(ctx, "idempotent answer not stored; a duplicate runs again",
			slog.String("scope", g.scope), slog.String("kind", errs.KindOf(werr).String()), slog.String("error", werr.Error()))
	}
	return resp, nil
}

// answer is the key's final record, holding the command's answer for the
// guard's TTL.
func (g *Guard) answer(k store.Key, resp *web.Response) store.Mutation {
	now := g.o.Now()
	return store.PutJSON(k, record{Status: done, Resp: resp, At: now}).ExpiresAt(now.Add(g.o.TTL))
}

// lease is when a hold taken now under ctx lapses: the guard's lease, or
// just past the context's deadline if that comes first.
func (g *Guard) lease(ctx context.Context) time.Time {
	lease := g.o.Now().Add(g.o.Lease)
	if dl, ok := ctx.Deadline(); ok && dl.Before(lease) {
		lease = dl.Add(time.Second)
	}
	return lease
}

// release deletes the key's record after the command failed (err), so that
// a retry can run, and returns the error to answer.
func (g *Guard) release(ctx context.Context, op string, k store.Key, err error) error {
	// Use a fresh context: the request's may be cancelled already.
	cctx, cancel := store.Detach(ctx)
	defer cancel()
	if derr := g.st.Write(cctx, store.Delete(k)); derr != nil {
		// A retry now waits for the lease to lapse: say so, keeping the
		// command's error first (its kind is the answer's).
		reqlog.From(ctx).ErrorContext(ctx, "idempotency key not released; a retry waits for its lease",
			slog.String("scope", g.scope), slog.String("kind", errs.KindOf(derr).String()), slog.String("error", derr.Error()))
		return errors.Join(err, errs.E(op, derr))
	}
	return err
}
