package runner

import (
	"log/slog"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/web"
)

// sweepFailure is what the log says about a scheduled sweep that failed:
// the request id, the status and the error, or, when the sweep answered a
// report of failed jobs, the report (job names and safe messages only).
func sweepFailure(req *web.Request, resp *web.Response, err error) []any {
	attrs := []any{slog.String("request_id", req.RequestID)}
	if resp != nil {
		attrs = append(attrs, slog.Int("status", resp.Status))
	}
	switch {
	case err != nil:
		attrs = append(attrs, slog.String("kind", errs.KindOf(err).String()), slog.String("error", err.Error()))
	case resp == nil:
		attrs = append(attrs, slog.String("error", "no answer"))
	default:
		const most = 2000
		report := resp.Body
		if len(report) > most {
			report = report[:most]
		}
		attrs = append(attrs, slog.String("report", string(report)))
	}
	return attrs
}
