package imports

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
)

// leaseSlack is how long past its worker's stop time a chunk lease lasts:
// time for the worker's final write. A worker that dies holding a lease
// delays its chunk by at most the lease.
const leaseSlack = 30 * time.Second

// deadlineMargin is kept free before a context deadline for the final writes.
const deadlineMargin = 500 * time.Millisecond

// Advance processes a job's pending chunks for about budget (never past the
// context's deadline, less a margin) and returns the job's progress. Each
// chunk is claimed with a conditional write, so concurrent calls work on
// different chunks; a chunk left unfinished when time runs out records how
// far it got and is continued by the next call. Every call that finds time
// settles at least one slice of rows, so repeated calls always finish the
// job. It fails with errs.NotExist for an unknown job.
func (s *Service) Advance(ctx context.Context, id string, budget time.Duration) (Job, error) {
	const op = "imports.Advance"
	if err := s.advance(ctx, id, stopAt(ctx, budget)); err != nil {
		return Job{}, errs.E(op, err)
	}
	job, err := s.Get(ctx, id)
	if err != nil {
		return Job{}, errs.E(op, err)
	}
	return job, nil
}

// AdvanceAny advances unfinished jobs, oldest first, for about budget in all
// and returns the progress of those it touched. A job that fails does not
// stop the others; the first failure is returned with the rest's progress.
func (s *Service) AdvanceAny(ctx context.Context, budget time.Duration) ([]Job, error) {
	const op = "imports.AdvanceAny"
	stop := stopAt(ctx, budget)
	page, err := s.store.Query(ctx, store.Query{PK: pendingPK, Limit: 100})
	if err != nil {
		return nil, errs.E(op, err)
	}
	var out []Job
	var first error
	for _, it := range page.Items {
		if !time.Now().Before(stop) {
			break
		}
		err := s.advance(ctx, it.Key.SK, stop)
		if err == nil {
			var job Job
			if job, err = s.Get(ctx, it.Key.SK); err == nil {
				out = append(out, job)
			}
		}
		if err != nil && first == nil {
			first = errs.E(op, err)
		}
	}
	return out, first
}

// Drive advances unfinished jobs every interval, each round for budget,
// until ctx ends: for a long-running process such as the local runner.
// A failed round is left to the next.
func (s *Service) Drive(ctx context.Context, every, budget time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.AdvanceAny(ctx, budget)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// stopAt is when a worker given budget must stop taking on work.
func stopAt(ctx context.Context, budget time.Duration) time.Time {
	stop := time.Now().Add(budget)
	if d, ok := ctx.Deadline(); ok && d.Add(-deadlineMargin).Before(stop) {
		stop = d.Add(-deadlineMargin)
	}
	return stop
}

func (s *Service) advance(ctx context.Context, id string, stop time.Time) error {
	job, ver, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	if job.Status == Done {
		return nil
	}
	if job.Status == Pending {
		job.Status, job.StartedAt = Running, s.now().UTC()
		err := s.store.Write(ctx, store.PutJSON(jobKey(id), job).IfVersion(ver))
		if err != nil && !errs.Is(errs.Conflict, err) { // Conflict: another worker started it.
			return err
		}
	}
	q := store.Query{PK: jobPK(id), Prefix: "chunk#", Limit: 100}
	for time.Now().Before(stop) {
		page, err := s.store.Query(ctx, q)
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			if !time.Now().Before(stop) {
				break
			}
			if err := s.tryChunk(ctx, id, it, stop); err != nil {
				return err
			}
		}
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	return s.finish(ctx, id)
}

// tryChunk claims a chunk that is pending or whose lease has expired, and
// works on it until stop.
func (s *Service) tryChunk(ctx context.Context, id string, it store.Item, stop time.Time) error {
	st, err := decodeChunk(it)
	if err != nil {
		return err
	}
	now := s.now()
	if st.Status == chunkDone || st.Status == chunkLeased && now.Before(st.LeaseUntil) {
		return nil
	}
	st.Status, st.LeaseUntil, st.Runs = chunkLeased, now.Add(time.Until(stop)+leaseSlack), st.Runs+1
	err = s.store.Write(ctx, store.PutJSON(it.Key, st).IfVersion(it.Version))
	if errs.Is(errs.Conflict, err) {
		return nil // Another worker claimed it first.
	}
	if err != nil {
		return err
	}
	return s.runChunk(ctx, id, st, it.Version+1, stop)
}

// tally is what a worker counted since it claimed a chunk.
type tally struct{ processed, created, existing, invalid int }

// runChunk imports a claimed chunk slice by slice from its offset until it
// is done or stop is near, then records the progress and releases it.
func (s *Service) runChunk(ctx context.Context, id string, st chunkState, ver int64, stop time.Time) error {
	rows, err := s.rows(ctx, id, st.Index)
	if err != nil {
		return err
	}
	var t tally
	var last time.Duration
	for from := st.Offset; st.Offset < len(rows); {
		if st.Offset > from && time.Now().Add(last).After(stop) {
			break
		}
		began := time.Now()
		end := min(st.Offset+s.slice, len(rows))
		res, inv, err := s.importSlice(ctx, id, st.First+st.Offset, rows[st.Offset:end])
		if err != nil {
			// Keep what was settled before this slice; the slice is redone.
			sctx, cancel := store.Detach(ctx)
			defer cancel()
			s.save(sctx, id, st, ver, t)
			return err
		}
		st.Created += res.Created
		st.Existing += res.Existing
		st.Invalid = append(st.Invalid, inv...)
		t.processed += end - st.Offset
		t.created += res.Created
		t.existing += res.Existing
		t.invalid += len(inv)
		st.Offset = end
		last = time.Since(began)
	}
	return s.save(ctx, id, st, ver, t)
}

// rows opens a chunk's sealed rows.
func (s *Service) rows(ctx context.Context, id string, i int) ([]storedRow, error) {
	var sr sealedRows
	if _, err := store.GetJSON(ctx, s.store, rowsKey(id, i), &sr); err != nil {
		return nil, err
	}
	plain, err := s.box.Open(sr.Sealed)
	if err != nil {
		return nil, err
	}
	var rows []storedRow
	if err := json.Unmarshal([]byte(plain), &rows); err != nil {
		return nil, errs.E(errs.Internal, fmt.Errorf("decode rows of chunk %d: %w", i, err))
	}
	return rows, nil
}

// importSlice imports consecutive rows numbered from first, returning the
// counts and the invalid rows numbered as in the file.
func (s *Service) importSlice(ctx context.Context, id string, first int, part []storedRow) (member.ImportResult, []member.InvalidRow, error) {
	var in []member.ImportRow
	var rowNo []int
	inv := []member.InvalidRow{}
	for j, r := range part {
		if r.Dup > 0 {
			p, _ := pii.NormalizePhone(strings.TrimSpace(r.Phone)) // Valid: it was compared.
			inv = append(inv, member.InvalidRow{Row: first + j, Phone: pii.MaskPhone(p),
				Reason: fmt.Sprintf("phone repeats row %d", r.Dup)})
			continue
		}
		in, rowNo = append(in, r.ImportRow), append(rowNo, first+j)
	}
	if len(in) == 0 {
		return member.ImportResult{}, inv, nil
	}
	res, err := s.members.ImportBatch(ctx, id, in)
	if err != nil {
		return member.ImportResult{}, nil, err
	}
	for _, x := range res.Invalid {
		x.Row = rowNo[x.Row-1]
		inv = append(inv, x)
	}
	slices.SortFunc(inv, func(a, b member.InvalidRow) int { return a.Row - b.Row })
	return res, inv, nil
}

// save records a chunk's progress and the counts since its claim in one
// conditional write, releasing the lease or marking the chunk done (and
// deleting its rows). A lost lease is not an error: the counts are dropped
// and the chunk's new holder redoes the rows from the recorded offset.
func (s *Service) save(ctx context.Context, id string, st chunkState, ver int64, t tally) error {
	st.LeaseUntil = time.Time{}
	st.Status = chunkPending
	var extra []store.Mutation
	if st.Offset >= st.Rows {
		st.Status = chunkDone
		extra = append(extra, store.Delete(rowsKey(id, st.Index)), store.Add(countKey(id, cntChunks), 1))
	}
	ms := append([]store.Mutation{store.PutJSON(chunkKey(id, st.Index), st).IfVersion(ver)}, extra...)
	for _, c := range []struct {
		name string
		n    int
	}{{cntProcessed, t.processed}, {cntCreated, t.created}, {cntExisting, t.existing}, {cntInvalid, t.invalid}} {
		if c.n != 0 {
			ms = append(ms, store.Add(countKey(id, c.name), int64(c.n)))
		}
	}
	err := s.store.Write(ctx, ms...)
	if errs.Is(errs.Conflict, err) {
		return nil
	}
	return err
}

// finish marks a job done, and drops it from the pending index, once every
// chunk is done.
func (s *Service) finish(ctx context.Context, id string) error {
	for range retry.Tries(ctx, 8) {
		job, ver, err := s.load(ctx, id)
		if err != nil || job.Status == Done {
			return err
		}
		n, err := s.counter(ctx, id, cntChunks)
		if err != nil || n < int64(job.Chunks) {
			return err
		}
		now := s.now().UTC()
		job.Status, job.FinishedAt = Done, now
		if job.StartedAt.IsZero() {
			job.StartedAt = now
		}
		err = s.store.Write(ctx, store.PutJSON(jobKey(id), job).IfVersion(ver), store.Delete(pendingKey(id)))
		if !errs.Is(errs.Conflict, err) {
			return err
		}
	}
	return errs.E(errs.Transient, "too much contention finishing an import job")
}
