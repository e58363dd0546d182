// Package imports runs large offline member imports (up to MaxRows rows) as
// asynchronous jobs over member.Service.ImportBatch.
//
// Create stores a job and its rows in chunks of ChunkRows rows, each sealed
// with pii.Box so no phone number rests in plain text, and lists the job in
// the index partition "imports#pending". Advance then processes pending
// chunks for a time budget: a worker claims a chunk with a conditional write
// (a lease), imports its rows slice by slice, and records the chunk's
// progress and counts in one conditional write when it finishes or runs out
// of time, so counts are added exactly once. Member import is idempotent by
// phone and counts members the job created earlier as created, so a chunk
// re-run after a crash gives the same result. The last chunk marks the job
// done and drops it from the pending index; its rows are deleted as each
// chunk finishes.
//
// A serverless function has no background threads once it has answered, so
// progress is driven by whoever calls in:
//   - the admin API advances a job by a slice of its time budget when the job
//     is created and on every progress poll;
//   - the scheduled expiry sweep calls AdvanceAny for unfinished jobs, so a
//     job completes even when nobody polls;
//   - the local runner may run Drive in a goroutine.
//
// Concurrent drivers are safe: a chunk is processed by one worker at a time,
// and a worker that dies leaves its lease to expire.
package imports

import (
	"context"
	"fmt"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/store"
)

// MaxRows is the most rows one job takes.
const MaxRows = member.MaxImportJobRows

// ChunkRows is how many rows one stored chunk holds: sealed, a chunk of long
// rows stays well under DynamoDB's 400 KB item limit.
const ChunkRows = 500

// Status is a job's state.
type Status string

// The job states.
const (
	Pending Status = "pending" // Stored; no worker has started it.
	Running Status = "running" // Some chunks are processed.
	Done    Status = "done"    // Every chunk is processed.
)

// Job is an import job and its progress.
type Job struct {
	ID         string    `json:"id"`
	Operator   string    `json:"operator"`
	Status     Status    `json:"status"`
	Total      int       `json:"total"`  // Rows in the file.
	Chunks     int       `json:"chunks"` // Stored chunks of up to ChunkRows rows.
	Processed  int       `json:"processed"`
	Created    int       `json:"created"`
	Existing   int       `json:"existing"`
	Invalid    int       `json:"invalid"`
	CreatedAt  time.Time `json:"created_at"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// Service creates, advances and reports import jobs.
type Service struct {
	store   store.Store
	box     *pii.Box
	members *member.Service
	now     func() time.Time
	newID   func() string
	// slice is how many rows a worker imports between deadline checks.
	slice int
}

// New returns an import service. box seals stored rows; members imports
// them; now is the clock and newID the source of job id suffixes.
func New(s store.Store, box *pii.Box, members *member.Service, now func() time.Time, newID func() string) *Service {
	return &Service{store: s, box: box, members: members, now: now, newID: newID, slice: 180}
}

// The store layout this package owns. A job's items share the partition
// "import#<id>": the job, a state item and a sealed rows item per chunk, and
// counters. Unfinished job ids are listed in the pending partition.
const pendingPK = "imports#pending"

// The counters of a job, each an item whose N is added to atomically.
const (
	cntProcessed = "count#processed"
	cntCreated   = "count#created"
	cntExisting  = "count#existing"
	cntInvalid   = "count#invalid"
	cntChunks    = "count#chunks" // Chunks done.
)

func jobPK(id string) string     { return "import#" + id }
func jobKey(id string) store.Key { return store.K(jobPK(id), "job") }
func chunkKey(id string, i int) store.Key {
	return store.K(jobPK(id), fmt.Sprintf("chunk#%05d", i))
}
func rowsKey(id string, i int) store.Key { return store.K(jobPK(id), fmt.Sprintf("rows#%05d", i)) }
func countKey(id, name string) store.Key { return store.K(jobPK(id), name) }
func pendingKey(id string) store.Key     { return store.K(pendingPK, id) }

// validID accepts job ids as Create makes them.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Get returns a job with its progress. It fails with errs.NotExist for an
// unknown job and errs.Invalid for a malformed id.
func (s *Service) Get(ctx context.Context, id string) (Job, error) {
	const op = "imports.Get"
	job, _, err := s.load(ctx, id)
	if err != nil {
		return Job{}, errs.E(op, err)
	}
	for _, c := range []struct {
		name string
		into *int
	}{
		{cntProcessed, &job.Processed}, {cntCreated, &job.Created},
		{cntExisting, &job.Existing}, {cntInvalid, &job.Invalid},
	} {
		n, err := s.counter(ctx, id, c.name)
		if err != nil {
			return Job{}, errs.E(op, err)
		}
		*c.into = int(n)
	}
	return job, nil
}

// load reads the stored job (without its counters) and its version.
func (s *Service) load(ctx context.Context, id string) (Job, int64, error) {
	if !validID(id) {
		return Job{}, 0, errs.E(errs.Invalid, "malformed import job id")
	}
	var job Job
	it, err := store.GetJSON(ctx, s.store, jobKey(id), &job)
	if errs.Is(errs.NotExist, err) {
		return Job{}, 0, errs.E(errs.NotExist, "import job not found", err)
	}
	return job, it.Version, err
}

// counter reads one of a job's counters; an absent counter is zero.
func (s *Service) counter(ctx context.Context, id, name string) (int64, error) {
	it, err := s.store.Get(ctx, countKey(id, name))
	if errs.Is(errs.NotExist, err) {
		return 0, nil
	}
	return it.N, err
}

// InvalidRows returns up to limit of a job's invalid rows so far, in row
// order, with masked phones and reasons.
func (s *Service) InvalidRows(ctx context.Context, id string, limit int) ([]member.InvalidRow, error) {
	const op = "imports.InvalidRows"
	if !validID(id) {
		return nil, errs.E(op, errs.Invalid, "malformed import job id")
	}
	out := []member.InvalidRow{}
	q := store.Query{PK: jobPK(id), Prefix: "chunk#", Limit: 100}
	for len(out) < limit {
		page, err := s.store.Query(ctx, q)
		if err != nil {
			return nil, errs.E(op, err)
		}
		for _, it := range page.Items {
			st, err := decodeChunk(it)
			if err != nil {
				return nil, errs.E(op, err)
			}
			out = append(out, st.Invalid...)
		}
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
