// Package adminapi is the admin-api function: what the merchant's operators
// do through the admin API. Every route runs behind auth.Operator.
//
// It serves the offline member import (imports.go), the rules operators
// change without a deploy (rules.go) and the store clerk's coupon redemption
// (clerk.go).
package adminapi

import (
	"net/http"
	"time"

	"github.com/wemember/wemember/shared/auth"
	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/funnel"
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
	Funnel   *funnel.Service // Reports the invitation funnel.
	Now      func() time.Time
	// ImportSlice is how long one request may spend advancing an import job
	// (DefaultImportSlice when zero); the request's deadline shortens it.
	ImportSlice time.Duration
}

// DefaultImportSlice is the time a request spends advancing an import job
// when the handler does not say otherwise: well inside an API gateway's
// 29-second limit.
const DefaultImportSlice = 5 * time.Second

// New makes the function's handler: every route behind the operator bearer
// token operatorToken. sessions verifies coupon QR tokens. Its routes take
// the function's body limit, except the import (see BodyLimits).
func New(m *member.Service, im *imports.Service, l *loyalty.Service, c *coupons.Service, ch *channels.Service,
	sessions *session.Issuer, operatorToken string, now func() time.Time, f *funnel.Service) web.Handler {
	h := &Handler{Members: m, Imports: im, Loyalty: l, Coupons: c, Channels: ch, Sessions: sessions, Now: now, Funnel: f}
	return auth.Operator(operatorToken)(h.Mux().Serve)
}

// ImportBodyLimit is the largest body POST /members/import takes. A job of
// the most rows an import may hold (100 000) is about 2–4 MB as CSV, over the
// 1 MiB every other route keeps; 5 MiB stays under the 6 MB synchronous
// request payload of AWS Lambda and of Tencent SCF behind API gateway, with
// room for the event around the body. As JSON the same rows are 5–6 MB:
// large files go as CSV.
const ImportBodyLimit = 5 << 20

// BodyLimits are the routes that take a larger body than the function's
// limit: the member import. The wiring passes them to the standard
// middleware (web.Standard) and to the platform adapter.
func BodyLimits() []web.RouteLimit {
	return []web.RouteLimit{{Method: http.MethodPost, Path: "/members/import", Bytes: ImportBodyLimit}}
}

// Mux routes the function's requests.
func (h *Handler) Mux() *web.Mux {
	mux := web.NewMux("/admin-api")
	h.importRoutes(mux)
	h.ruleRoutes(mux)
	h.clerkRoutes(mux)
	h.reportRoutes(mux)
	return mux
}

func (h *Handler) importSlice() time.Duration {
	if h.ImportSlice > 0 {
		return h.ImportSlice
	}
	return DefaultImportSlice
}
