// Package adminapi is the admin-api function: what the merchant's operators
// do through the admin API. Every route runs behind auth.Operator.
//
// It serves the offline member import (imports.go), the rules operators
// change without a deploy (rules.go) and the store clerk's coupon redemption
// (clerk.go).
package adminapi

import (
	"time"

	"github.com/wemember/wemember/shared/auth"
	"github.com/wemember/wemember/shared/boot"
	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/imports"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/session"
	"github.com/wemember/wemember/shared/web"
)

// Handler serves the admin API.
type Handler struct {
	Members  *member.Service
	Imports  *imports.Service
	Loyalty  *loyalty.Service
	Coupons  *coupons.Service
	Channels *channels.Service
	Sessions *session.Issuer // Verifies coupon QR tokens.
	Now      func() time.Time
	// ImportSlice is how long one request may spend advancing an import job
	// (DefaultImportSlice when zero); the request's deadline shortens it.
	ImportSlice time.Duration
}

// DefaultImportSlice is the time a request spends advancing an import job
// when the handler does not say otherwise: well inside an API gateway's
// 29-second limit.
const DefaultImportSlice = 5 * time.Second

// Build makes the function's handler from the wired dependencies.
//
// Note for deployment: a 100 000-row import is about 2 MB as CSV and 5–6 MB
// as JSON, over the default 1 MiB body limit; set WEMEMBER_BODY_LIMIT for
// admin-api to at least 8 MiB (and mind the platforms' own 6 MB request
// limit for synchronous Lambda and SCF calls: prefer CSV for large files).
func Build(d *boot.Deps) (web.Handler, error) {
	h := &Handler{
		Members:  d.Members,
		Imports:  d.Imports,
		Loyalty:  d.Loyalty,
		Coupons:  d.Coupons,
		Channels: d.Channels,
		Sessions: d.Sessions,
		Now:      d.Now,
	}
	return auth.Operator(d.Config.AdminToken)(h.Mux().Serve), nil
}

// Mux routes the function's requests.
func (h *Handler) Mux() *web.Mux {
	mux := web.NewMux("/admin-api")
	h.importRoutes(mux)
	h.ruleRoutes(mux)
	h.clerkRoutes(mux)
	return mux
}

func (h *Handler) importSlice() time.Duration {
	if h.ImportSlice > 0 {
		return h.ImportSlice
	}
	return DefaultImportSlice
}
