package adminapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/wemember/wemember/shared/auth"
	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/web"
)

// ruleRoutes registers the rules an operator reads and changes without a
// deploy: loyalty (levels, growth, points, sign-in), identity binding, the
// Official Account's replies, QR scenes and coupon templates.
func (h *Handler) ruleRoutes(mux *web.Mux) {
	mux.Handle(http.MethodGet, "/rules/loyalty", h.getLoyaltyRules)
	mux.Handle(http.MethodPut, "/rules/loyalty", h.putLoyaltyRules)
	mux.Handle(http.MethodGet, "/rules/loyalty/history", h.loyaltyRulesHistory)
	mux.Handle(http.MethodGet, "/rules/members", h.getMemberRules)
	mux.Handle(http.MethodPut, "/rules/members", h.putMemberRules)
	mux.Handle(http.MethodGet, "/rules/oa-replies", h.getReplies)
	mux.Handle(http.MethodPut, "/rules/oa-replies", h.putReplies)
	mux.Handle(http.MethodPut, "/scenes", h.putScene)
	mux.Handle(http.MethodGet, "/coupon-templates", h.listTemplates)
	mux.Handle(http.MethodPut, "/coupon-templates", h.putTemplate)
}

// getLoyaltyRules answers the loyalty rules, with their version as ETag.
func (h *Handler) getLoyaltyRules(ctx context.Context, r *web.Request) (*web.Response, error) {
	rules, err := h.Loyalty.Rules(ctx)
	if err != nil {
		return nil, err
	}
	return versioned(web.JSON(http.StatusOK, rules), rules.Version), nil
}

// putLoyaltyRules replaces the loyalty rules. The version edited comes in
// the body or as If-Match (the ETag of GET); it is required (400) and must
// be the current one (409 otherwise), and the rules must validate (400).
// Unknown fields are refused, so a misspelt rule is not silently dropped,
// and so are missing or null ones, so a rule left out is not taken as 0.
func (h *Handler) putLoyaltyRules(ctx context.Context, r *web.Request) (*web.Response, error) {
	const op = "adminapi.putLoyaltyRules"
	var rules loyalty.Rules
	if err := web.DecodeDocument(r, &rules, "version", "installed_at", "updated_at", "updated_by"); err != nil {
		return nil, errs.E(op, err)
	}
	v, err := editedVersion(r, rules.Version)
	if err != nil {
		return nil, errs.E(op, err)
	}
	rules.Version = v
	got, err := h.Loyalty.SetRules(ctx, rules, auth.OperatorName(ctx))
	if err != nil {
		return nil, errs.E(op, err)
	}
	return versioned(web.JSON(http.StatusOK, got), got.Version), nil
}

// editedVersion is the version of a document a PUT edited: the body's, or
// the If-Match header's (the ETag of GET), which must agree when both are
// given.
func editedVersion(r *web.Request, body int64) (int64, error) {
	m := r.Header.Get("If-Match")
	if m == "" {
		return body, nil
	}
	v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(m, "W/"), `"`), 10, 64)
	switch {
	case err != nil || v <= 0:
		return 0, errs.E(errs.Invalid, `If-Match must be the version of the rules edited, as "3"`)
	case body != 0 && body != v:
		return 0, errs.E(errs.Invalid, fmt.Sprintf("If-Match %d and version %d disagree", v, body))
	}
	return v, nil
}

// versioned sets a document's version as the answer's ETag.
func versioned(resp *web.Response, version int64) *web.Response {
	resp.Header.Set("ETag", `"`+strconv.FormatInt(version, 10)+`"`)
	return resp
}

func (h *Handler) loyaltyRulesHistory(ctx context.Context, r *web.Request) (*web.Response, error) {
	changes, next, err := h.Loyalty.RulesHistory(ctx, r.Query.Get("cursor"), 20)
	if err != nil {
		return nil, err
	}
	return web.JSON(http.StatusOK, map[string]any{"changes": changes, "next": next}), nil
}

// getMemberRules answers the identity rules, with their version as ETag.
func (h *Handler) getMemberRules(ctx context.Context, r *web.Request) (*web.Response, error) {
	rules, err := h.Members.Rules(ctx)
	if err != nil {
		return nil, err
	}
	return versioned(web.JSON(http.StatusOK, rules), rules.Version), nil
}

// putMemberRules replaces the identity rules, versioned as the loyalty
// rules are (putLoyaltyRules).
func (h *Handler) putMemberRules(ctx context.Context, r *web.Request) (*web.Response, error) {
	const op = "adminapi.putMemberRules"
	var rules member.Rules
	if err := web.DecodeDocument(r, &rules, "version", "updated_at", "updated_by"); err != nil {
		return nil, errs.E(op, err)
	}
	v, err := editedVersion(r, rules.Version)
	if err != nil {
		return nil, errs.E(op, err)
	}
	rules.Version = v
	got, err := h.Members.SetRules(ctx, rules, auth.OperatorName(ctx))
	if err != nil {
		return nil, errs.E(op, err)
	}
	return versioned(web.JSON(http.StatusOK, got), got.Version), nil
}

func (h *Handler) getReplies(ctx context.Context, r *web.Request) (*web.Response, error) {
	rep, err := h.Channels.Replies(ctx)
	if err != nil {
		return nil, err
	}
	return web.JSON(http.StatusOK, rep), nil
}

func (h *Handler) putReplies(ctx context.Context, r *web.Request) (*web.Response, error) {
	var rep channels.Replies
	if err := web.DecodeStrict(r, &rep); err != nil {
		return nil, err
	}
	got, err := h.Channels.SetReplies(ctx, rep, auth.OperatorName(ctx))
	if err != nil {
		return nil, errs.E("adminapi.putReplies", err)
	}
	return web.JSON(http.StatusOK, got), nil
}

// putScene registers a QR scene or WeCom contact-way state.
func (h *Handler) putScene(ctx context.Context, r *web.Request) (*web.Response, error) {
	var sc channels.Scene
	if err := web.DecodeStrict(r, &sc); err != nil {
		return nil, err
	}
	got, err := h.Channels.Save(ctx, sc, auth.OperatorName(ctx))
	if err != nil {
		return nil, errs.E("adminapi.putScene", err)
	}
	return web.JSON(http.StatusOK, got), nil
}

func (h *Handler) listTemplates(ctx context.Context, r *web.Request) (*web.Response, error) {
	ts, next, err := h.Coupons.Templates(ctx, r.Query.Get("cursor"), 50)
	if err != nil {
		return nil, err
	}
	if ts == nil {
		ts = []coupons.Template{}
	}
	return web.JSON(http.StatusOK, map[string]any{"templates": ts, "next": next}), nil
}

// putTemplate creates (version 0) or updates (the current version) a coupon
// template.
func (h *Handler) putTemplate(ctx context.Context, r *web.Request) (*web.Response, error) {
	var t coupons.Template
	if err := web.DecodeStrict(r, &t); err != nil {
		return nil, err
	}
	got, err := h.Coupons.SaveTemplate(ctx, t, auth.OperatorName(ctx))
	if err != nil {
		return nil, errs.E("adminapi.putTemplate", err)
	}
	return web.JSON(http.StatusOK, got), nil
}
