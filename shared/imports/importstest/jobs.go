package importstest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/imports"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/store"
)

// create stores a job, failing the test on error.
func (e *env) create(in []member.ImportRow) imports.Job {
	e.t.Helper()
	job, err := e.jobs.Create(e.ctx, "op-alice", in)
	if err != nil {
		e.t.Fatalf("Create: %v", err)
	}
	return job
}

// drive advances a job with a small budget until it is done, checking that
// progress never goes back, and returns the final job and the call count.
func (e *env) drive(id string, budget time.Duration) (imports.Job, int) {
	e.t.Helper()
	var last imports.Job
	for calls := 1; calls <= 100_000; calls++ {
		job, err := e.jobs.Advance(e.ctx, id, budget)
		if err != nil {
			e.t.Fatalf("Advance %d: %v", calls, err)
		}
		if job.Processed < last.Processed || job.Created < last.Created {
			e.t.Fatalf("progress went back: %+v after %+v", job, last)
		}
		if job.Processed > job.Total || job.Created+job.Existing+job.Invalid != job.Processed {
			e.t.Fatalf("inconsistent progress %+v", job)
		}
		last = job
		if job.Status == imports.Done {
			return job, calls
		}
	}
	e.t.Fatalf("job %s not done after 100000 calls: %+v", id, last)
	return last, 0
}

// leftover counts the items of a job's partition with a sort-key prefix.
func (e *env) leftover(id, prefix string) int {
	e.t.Helper()
	page, err := e.st.Query(e.ctx, store.Query{PK: "import#" + id, Prefix: prefix})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(page.Items)
}

func testJobRefusals(t *testing.T, open Opener) {
	e := newEnv(t, open)
	_, err := e.jobs.Create(e.ctx, "op", nil)
	wantKind(t, "no rows", err, errs.Invalid)
	_, err = e.jobs.Create(e.ctx, "op", make([]member.ImportRow, imports.MaxRows+1))
	wantKind(t, "too many rows", err, errs.TooLarge)
	_, err = e.jobs.Create(e.ctx, "", rows(0, 1))
	wantKind(t, "no operator", err, errs.Invalid)
	_, err = e.jobs.Get(e.ctx, "nope")
	wantKind(t, "unknown job", err, errs.NotExist)
	_, err = e.jobs.Advance(e.ctx, "../x", time.Second)
	wantKind(t, "malformed id", err, errs.Invalid)
}

func testJobInvalidAndDuplicates(t *testing.T, open Opener) {
	e := newEnv(t, open)
	in := rows(0, 1200)
	in[4].Phone = "12345"                      // Row 5: malformed.
	in[1099].Phone = " +86 " + phone(10) + " " // Row 1100 repeats row 11, in another chunk.
	in[1150].Name = ""                         // Row 1151: no name.
	job := e.create(in)
	if job.Status != imports.Pending || job.Total != 1200 || job.Chunks != 3 || job.Operator != "op-alice" || !job.CreatedAt.Equal(e.t0) {
		t.Errorf("created job = %+v; want pending, 1200 rows in 3 chunks by op-alice at t0", job)
	}
	e.clk.Add(time.Minute)
	done, _ := e.drive(job.ID, time.Second)
	want := imports.Job{ID: job.ID, Operator: "op-alice", Status: imports.Done, Total: 1200, Chunks: 3,
		Processed: 1200, Created: 1197, Existing: 0, Invalid: 3,
		CreatedAt: e.t0, StartedAt: e.t0.Add(time.Minute), FinishedAt: e.t0.Add(time.Minute)}
	if done != want {
		t.Errorf("done job\n got %+v\nwant %+v", done, want)
	}
	inv, err := e.jobs.InvalidRows(e.ctx, job.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	wantInv := []member.InvalidRow{
		{Row: 5, Phone: "*****", Reason: "phone is not a mainland mobile number"},
		{Row: 1100, Phone: "139****0010", Reason: "phone repeats row 11"},
		{Row: 1151, Phone: "139****1150", Reason: "name is missing"},
	}
	if len(inv) != len(wantInv) {
		t.Fatalf("invalid rows = %+v, want %+v", inv, wantInv)
	}
	for i := range inv {
		if inv[i] != wantInv[i] {
			t.Errorf("invalid row %d = %+v, want %+v", i, inv[i], wantInv[i])
		}
	}
	m, err := e.byPhone(phone(10))
	if err != nil || (m.Channel.Kind != "import" || m.Channel.Value != job.ID) || e.open(m.NameSeal) != "张10" {
		t.Errorf("row 11 member = %+v, %v; want imported by the job with row 11's name", m, err)
	}
	if n := e.leftover(job.ID, "rows#"); n != 0 {
		t.Errorf("%d sealed row chunks left after the job, want 0", n)
	}
	if again, err := e.jobs.Advance(e.ctx, job.ID, time.Second); err != nil || again != done {
		t.Errorf("advance of a done job = %+v, %v; want it unchanged", again, err)
	}
}

func testJobConcurrentAdvance(t *testing.T, open Opener) {
	e := newEnv(t, open)
	const n = 4000
	job := e.create(rows(0, n))
	var wg sync.WaitGroup
	errors := make([]error, 3)
	for w := range errors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for calls := 0; calls < 10_000; calls++ {
				j, err := e.jobs.Advance(e.ctx, job.ID, 20*time.Millisecond)
				if err != nil || j.Status == imports.Done {
					errors[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for w, err := range errors {
		if err != nil {
			t.Fatalf("worker %d: %v", w, err)
		}
	}
	got, err := e.jobs.Get(e.ctx, job.ID)
	if err != nil || got.Status != imports.Done || got.Created != n || got.Processed != n || got.Existing != 0 {
		t.Fatalf("job after concurrent workers = %+v, %v; want done with %d created", got, err, n)
	}
	// Each phone was looked up exactly once: no chunk was processed twice.
	if lookups := e.st.phoneGets.Load(); lookups != n {
		t.Errorf("%d phone lookups for %d rows: chunks were processed more than once", lookups, n)
	}
}

func testJobResumesAfterFailure(t *testing.T, open Opener) {
	e := newEnv(t, open)
	const n = 1500
	job := e.create(rows(0, n))
	// The write of the pack holding row 600 fails, slowly enough that the
	// other packs of its slice land: rows written, but not yet counted.
	poison := "ident#phone##" + e.box.Hash("phone", phone(599))
	e.st.failWhen(func(ms []store.Mutation) bool {
		for _, m := range ms {
			if m.Key.PK == poison {
				time.Sleep(200 * time.Millisecond)
				return true
			}
		}
		return false
	})
	_, err := e.jobs.Advance(e.ctx, job.ID, time.Minute)
	wantKind(t, "advance while the store fails", err, errs.Transient)
	mid, err := e.jobs.Get(e.ctx, job.ID)
	if err != nil || mid.Status != imports.Running || mid.Processed == 0 || mid.Processed >= n || mid.Created != mid.Processed {
		t.Fatalf("job after the failure = %+v, %v; want running with the settled rows counted", mid, err)
	}
	// Rows of the failed slice were written before the failure, uncounted.
	uncounted := 0
	for i := mid.Processed; i < min(mid.Processed+500, n); i++ {
		if _, err := e.byPhone(phone(i)); err == nil {
			uncounted++
		}
	}
	if uncounted == 0 {
		t.Fatalf("no row after row %d was written before the failure; the test misses its point", mid.Processed)
	}
	e.st.failWhen(nil)
	done, _ := e.drive(job.ID, time.Minute)
	if done.Created != n || done.Existing != 0 || done.Processed != n {
		t.Errorf("resumed job = %+v; want exactly %d created (rows written before the failure count once)", done, n)
	}
}

func testJobLeaseExpires(t *testing.T, open Opener) {
	e := newEnv(t, open)
	const n = 600
	job := e.create(rows(0, n))
	// The worker dies after claiming: its imports and its release never land.
	e.st.failWhen(func(ms []store.Mutation) bool {
		k := ms[0].Key
		claim := strings.HasPrefix(k.SK, "chunk#") && strings.Contains(string(ms[0].Data), `"status":"leased"`)
		return strings.HasPrefix(k.PK, "member#") || strings.HasPrefix(k.SK, "chunk#") && !claim
	})
	if _, err := e.jobs.Advance(e.ctx, job.ID, 2*time.Second); err == nil {
		t.Fatal("advance with failing writes succeeded")
	}
	e.st.failWhen(nil)
	// The second chunk is free; the first is leased by the dead worker.
	j, err := e.jobs.Advance(e.ctx, job.ID, 2*time.Second)
	if err != nil || j.Status == imports.Done {
		t.Fatalf("advance during the lease = %+v, %v; want the leased chunk left alone", j, err)
	}
	e.clk.Add(time.Minute)
	done, _ := e.drive(job.ID, 2*time.Second)
	if done.Created != n || done.Processed != n {
		t.Errorf("job after the lease expired = %+v; want %d created", done, n)
	}
}

func testJobAdvanceAny(t *testing.T, open Opener) {
	e := newEnv(t, open)
	a := e.create(rows(0, 700))
	e.clk.Add(time.Second)
	b := e.create(rows(1000, 300))
	for round := 0; ; round++ {
		if round > 1000 {
			t.Fatal("AdvanceAny did not finish two small jobs")
		}
		jobs, err := e.jobs.AdvanceAny(e.ctx, 50*time.Millisecond)
		if err != nil {
			t.Fatalf("AdvanceAny: %v", err)
		}
		if len(jobs) == 0 {
			break
		}
	}
	for _, j := range []imports.Job{a, b} {
		got, err := e.jobs.Get(e.ctx, j.ID)
		if err != nil || got.Status != imports.Done || got.Created != j.Total {
			t.Errorf("job %s = %+v, %v; want done with %d created", j.ID, got, err, j.Total)
		}
	}
}

func testJobLarge(t *testing.T, open Opener, n int) {
	e := newEnv(t, open)
	in := rows(0, n)
	start := time.Now()
	job := e.create(in)
	created := time.Since(start)
	if got, err := e.jobs.Get(e.ctx, job.ID); err != nil || got.Status != imports.Pending || got.Total != n || got.Processed != 0 {
		t.Fatalf("new job = %+v, %v; want pending with %d rows, none processed", got, err, n)
	}
	done, calls := e.drive(job.ID, 250*time.Millisecond)
	if done.Created != n || done.Processed != n || done.Invalid != 0 || done.Existing != 0 {
		t.Errorf("large job = %+v; want %d created", done, n)
	}
	t.Logf("%d rows: Create %v, Advance ×%d (250ms budget) %v in all",
		n, created.Round(time.Millisecond), calls, time.Since(start).Round(time.Millisecond))
	for _, i := range []int{0, n / 2, n - 1} {
		m, err := e.byPhone(phone(i))
		if err != nil || !m.Imported || m.Channel.Value != job.ID {
			t.Errorf("row %d member = %+v, %v; want imported by the job", i+1, m, err)
		}
	}
	if n := e.leftover(job.ID, "rows#"); n != 0 {
		t.Errorf("%d sealed row chunks left, want 0", n)
	}
}
