package imports

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/store"
)

// rowsRetention is how long a chunk's sealed rows are kept if the job never
// finishes; a finished chunk's rows are deleted at once.
const rowsRetention = 30 * 24 * time.Hour

// createGroup is how many chunks Create writes per atomic write: a sealed
// chunk of long rows is up to ~200 KB, and a DynamoDB transaction carries at
// most 4 MB.
const createGroup = 8

// storedRow is a row as a chunk keeps it. Dup is the row number of an earlier
// row with the same phone, found across the whole file at Create.
type storedRow struct {
	member.ImportRow
	Dup int `json:"dup,omitempty"`
}

// sealedRows is the data of a chunk's rows item: the JSON of its rows,
// sealed as one value.
type sealedRows struct {
	Sealed string `json:"sealed"`
}

// chunkStatus is a chunk's state.
type chunkStatus string

const (
	chunkPending chunkStatus = "pending"
	chunkLeased  chunkStatus = "leased"
	chunkDone    chunkStatus = "done"
)

// chunkState is the small, often rewritten state item of a chunk: who holds
// it, how far it got and what it counted so far.
type chunkState struct {
	Index      int                 `json:"index"`
	First      int                 `json:"first"` // Row number of its first row (1-based).
	Rows       int                 `json:"rows"`
	Status     chunkStatus         `json:"status"`
	LeaseUntil time.Time           `json:"lease_until,omitzero"`
	Offset     int                 `json:"offset"` // Rows settled and counted.
	Created    int                 `json:"created"`
	Existing   int                 `json:"existing"`
	Invalid    []member.InvalidRow `json:"invalid,omitempty"`
	Runs       int                 `json:"runs"` // Times it was claimed.
}

func decodeChunk(it store.Item) (chunkState, error) {
	var st chunkState
	if err := json.Unmarshal(it.Data, &st); err != nil {
		return chunkState{}, errs.E(errs.Internal, fmt.Errorf("decode %s: %w", it.Key, err))
	}
	return st, nil
}

// Create stores an import job of up to MaxRows rows for operator and lists
// it as pending; Advance does the work. Rows are validated as they are
// imported, except that a phone repeating an earlier row anywhere in the
// file is marked here, so it is reported invalid like in a single batch.
// It fails with errs.Invalid for no rows or a bad operator name and
// errs.TooLarge for more than MaxRows rows.
func (s *Service) Create(ctx context.Context, operator string, rows []member.ImportRow) (Job, error) {
	const op = "imports.Create"
	switch {
	case len(rows) == 0:
		return Job{}, errs.E(op, errs.Invalid, "no rows to import")
	case len(rows) > MaxRows:
		return Job{}, errs.E(op, errs.TooLarge, fmt.Sprintf("at most %d rows per import job", MaxRows))
	case operator == "" || len(operator) > 128:
		return Job{}, errs.E(op, errs.Invalid, "operator name is missing or too long")
	}
	now := s.now().UTC()
	job := Job{
		ID:       now.Format("20060102t150405") + "-" + s.newID(),
		Operator: operator, Status: Pending, Total: len(rows),
		Chunks:    (len(rows) + ChunkRows - 1) / ChunkRows,
		CreatedAt: now,
	}
	if !validID(job.ID) {
		return Job{}, errs.E(op, errs.Internal, fmt.Errorf("id source made %q", job.ID))
	}
	stored := markDuplicates(rows)
	var ms []store.Mutation
	for i := 0; i < job.Chunks; i++ {
		lo, hi := i*ChunkRows, min((i+1)*ChunkRows, len(rows))
		plain, err := json.Marshal(stored[lo:hi])
		if err != nil {
			return Job{}, errs.E(op, errs.Internal, err)
		}
		ms = append(ms,
			store.PutJSON(rowsKey(job.ID, i), sealedRows{Sealed: s.box.Seal(string(plain))}).
				IfAbsent().ExpiresAt(now.Add(rowsRetention)),
			store.PutJSON(chunkKey(job.ID, i), chunkState{Index: i, First: lo + 1, Rows: hi - lo, Status: chunkPending}).
				IfAbsent())
		if len(ms) >= 2*createGroup || i == job.Chunks-1 {
			if err := s.store.Write(ctx, ms...); err != nil {
				return Job{}, errs.E(op, err)
			}
			ms = ms[:0]
		}
	}
	// The job appears only once all its chunks are stored.
	if err := s.store.Write(ctx,
		store.PutJSON(jobKey(job.ID), job).IfAbsent(),
		store.PutJSON(pendingKey(job.ID), pendingEntry{CreatedAt: now}).IfAbsent(),
	); err != nil {
		return Job{}, errs.E(op, err)
	}
	return job, nil
}

// pendingEntry is the data of a job's item in the pending index.
type pendingEntry struct {
	CreatedAt time.Time `json:"created_at"`
}

// markDuplicates copies rows, marking each row whose phone an earlier row
// of the file has already.
func markDuplicates(rows []member.ImportRow) []storedRow {
	out := make([]storedRow, len(rows))
	first := make(map[string]int, len(rows))
	for i, r := range rows {
		out[i].ImportRow = r
		p, err := pii.NormalizePhone(strings.TrimSpace(r.Phone))
		if err != nil {
			continue // Reported when the chunk is imported.
		}
		if f, dup := first[p]; dup {
			out[i].Dup = f
			continue
		}
		first[p] = i + 1
	}
	return out
}
