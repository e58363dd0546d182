package adminapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/funnel"
	"github.com/wemember/wemember/shared/web"
)

// reportRoutes registers the reports.
func (h *Handler) reportRoutes(mux *web.Mux) {
	mux.Handle(http.MethodGet, "/reports/funnel", h.funnelReport)
}

// funnelReport answers GET /reports/funnel?from=YYYY-MM-DD&to=YYYY-MM-DD
// [&by=trigger|channel|code|inviter][&limit=n]: the invitation funnel
// (shares, opens, registrations, first orders) with its conversion rates
// and mean time to each step, over Shanghai days from from to to, in total
// or per value of by (a funnel.Report). A bad range (reversed, over
// funnel.MaxDays), dimension or limit is 400.
func (h *Handler) funnelReport(ctx context.Context, r *web.Request) (*web.Response, error) {
	const op = "adminapi.funnelReport"
	if h.Funnel == nil {
		return nil, errs.E(op, errs.Unimplemented, "the funnel report is not configured")
	}
	limit := 0
	if s := r.Query.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, errs.E(op, errs.Invalid, "limit must be a whole number")
		}
		limit = n
	}
	rep, err := h.Funnel.Report(ctx, r.Query.Get("from"), r.Query.Get("to"), funnel.Dimension(r.Query.Get("by")), limit)
	if err != nil {
		return nil, errs.E(op, err)
	}
	return web.JSON(http.StatusOK, rep), nil
}
