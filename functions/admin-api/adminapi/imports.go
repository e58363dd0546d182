package adminapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/wemember/wemember/shared/auth"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/imports"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/web"
)

// importRoutes registers the offline import routes:
//
//	POST /members/import   rows as JSON {"rows":[…]} or CSV (text/csv)
//	GET  /imports?id=…     a job's progress, advancing it first
func (h *Handler) importRoutes(mux *web.Mux) {
	mux.Handle(http.MethodPost, "/members/import", h.ImportMembers)
	mux.Handle(http.MethodGet, "/imports", h.ImportProgress)
}

// ImportRequest is the JSON body of POST /members/import. Batch optionally
// names a synchronous import so that a retried call gives the first answer.
type ImportRequest struct {
	Rows  []member.ImportRow `json:"rows"`
	Batch string             `json:"batch,omitempty"`
}

// JobView is an import job's progress as the admin API shows it, with the
// first invalid rows (masked).
type JobView struct {
	imports.Job
	InvalidRows []member.InvalidRow `json:"invalid_rows"`
	Poll        string              `json:"poll,omitempty"` // Where to ask for progress.
}

// maxShownInvalid bounds the invalid rows a progress answer lists.
const maxShownInvalid = 100

// ImportMembers answers POST /members/import. Up to the member rules'
// import.batch_rows rows are imported at once (200 with the result); a
// larger file, up to import.job_rows rows, becomes a job that is started at
// once and answered 202 with its progress and where to poll.
//
// A CSV body has one row per line: phone,name[,birthday[,external_id]], or
// any columns named by a header line (phone, name, birthday, external_id).
// Row numbers in answers count data rows from 1.
func (h *Handler) ImportMembers(ctx context.Context, r *web.Request) (*web.Response, error) {
	const op = "adminapi.ImportMembers"
	in, err := decodeImport(r)
	if err != nil {
		return nil, errs.E(op, err)
	}
	rules, err := h.Members.Rules(ctx)
	if err != nil {
		return nil, errs.E(op, err)
	}
	switch n, limit := len(in.Rows), rules.Import; {
	case n == 0:
		return nil, errs.E(op, errs.Invalid, "no rows to import")
	case n > limit.JobRows:
		return nil, errs.E(op, errs.TooLarge, fmt.Sprintf("at most %d rows per import", limit.JobRows))
	case n <= limit.BatchRows:
		var res member.ImportResult
		if in.Batch != "" {
			if !validBatch(in.Batch) {
				return nil, errs.E(op, errs.Invalid, "batch must be 1–64 letters, digits, - or _")
			}
			res, err = h.Members.ImportBatch(ctx, in.Batch, in.Rows)
		} else {
			res, err = h.Members.Import(ctx, in.Rows)
		}
		if err != nil {
			return nil, errs.E(op, err)
		}
		return web.JSON(http.StatusOK, res), nil
	}
	job, err := h.Imports.Create(ctx, operator(ctx), in.Rows)
	if err != nil {
		return nil, errs.E(op, err)
	}
	view, err := h.advance(ctx, job.ID)
	if err != nil {
		return nil, errs.E(op, err)
	}
	resp := web.JSON(http.StatusAccepted, view)
	resp.Header.Set("Location", view.Poll)
	return resp, nil
}

// ImportProgress answers GET /imports?id=…: the job's progress after
// advancing it by a slice of the request's time. Polling is what drives a
// job forward between sweeps.
func (h *Handler) ImportProgress(ctx context.Context, r *web.Request) (*web.Response, error) {
	const op = "adminapi.ImportProgress"
	id := r.Query.Get("id")
	if id == "" {
		return nil, errs.E(op, errs.Invalid, "query parameter id is required")
	}
	view, err := h.advance(ctx, id)
	if err != nil {
		return nil, errs.E(op, err)
	}
	return web.JSON(http.StatusOK, view), nil
}

// advance works on a job for a slice of time and shows its progress.
func (h *Handler) advance(ctx context.Context, id string) (JobView, error) {
	job, err := h.Imports.Advance(ctx, id, h.importSlice())
	if err != nil {
		return JobView{}, err
	}
	view := JobView{Job: job, InvalidRows: []member.InvalidRow{}, Poll: "/admin-api/imports?id=" + job.ID}
	if job.Invalid > 0 {
		if view.InvalidRows, err = h.Imports.InvalidRows(ctx, id, maxShownInvalid); err != nil {
			return JobView{}, err
		}
	}
	if job.Status == imports.Done {
		view.Poll = ""
	}
	return view, nil
}

func operator(ctx context.Context) string {
	if name := auth.OperatorName(ctx); name != "" {
		return name
	}
	return "operator"
}

func validBatch(b string) bool {
	if b == "" || len(b) > 64 {
		return false
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// decodeImport reads the rows from a JSON or CSV body.
func decodeImport(r *web.Request) (ImportRequest, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "text/csv" {
		var in ImportRequest
		err := web.DecodeStrict(r, &in)
		return in, err
	}
	rows, err := parseCSV(r.Body)
	return ImportRequest{Rows: rows}, err
}

// csvColumns are the columns a CSV body may name in its header.
var csvColumns = []string{"phone", "name", "birthday", "external_id"}

// parseCSV reads import rows from CSV, with or without a header line.
func parseCSV(body []byte) ([]member.ImportRow, error) {
	const op = "adminapi.parseCSV"
	body = bytes.TrimPrefix(body, []byte("\ufeff")) // Spreadsheet byte-order mark.
	cr := csv.NewReader(bytes.NewReader(body))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	cols := []int{0, 1, 2, 3} // Field index of phone, name, birthday, external id.
	var rows []member.ImportRow
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errs.E(op, errs.Invalid, fmt.Sprintf("CSV line %d is malformed", line), err)
		}
		if line == 1 {
			if h := headerColumns(rec); h[0] >= 0 {
				cols = h
				continue
			}
		}
		if len(rows) >= imports.MaxRows {
			return nil, errs.E(op, errs.TooLarge, fmt.Sprintf("at most %d rows per import", imports.MaxRows))
		}
		field := func(c int) string {
			if cols[c] < 0 || cols[c] >= len(rec) {
				return ""
			}
			return rec[cols[c]]
		}
		rows = append(rows, member.ImportRow{Phone: field(0), Name: field(1), Birthday: field(2), ExternalID: field(3)})
	}
	return rows, nil
}

// headerColumns maps a header line to the field index of each column in
// csvColumns, -1 for a column it lacks.
func headerColumns(header []string) []int {
	cols := []int{-1, -1, -1, -1}
	for i, h := range header {
		for c, name := range csvColumns {
			if strings.EqualFold(strings.TrimSpace(h), name) {
				cols[c] = i
			}
		}
	}
	return cols
}
