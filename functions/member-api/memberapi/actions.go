package memberapi

import (
	"cmp"
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/wemember/wemember/shared/auth"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/web"
)

// QRScope is the scope of the short-lived token a coupon QR code carries;
// admin-api's clerk endpoint verifies it.
const QRScope = "coupon"

// QRTTL is how long a coupon QR code stays valid.
const QRTTL = 5 * time.Minute

// UpdateProfile answers PUT /me/profile: nickname, avatar and — with the
// privacy agreement — birthday and gender.
func (h *Handler) UpdateProfile(ctx context.Context, r *web.Request) (*web.Response, error) {
	var u member.ProfileUpdate
	if err := web.DecodeStrict(r, &u); err != nil {
		return nil, err
	}
	m, err := h.Members.UpdateProfile(ctx, auth.MemberID(ctx), u)
	if err != nil {
		return nil, errs.E("memberapi.UpdateProfile", err)
	}
	return web.JSON(http.StatusOK, Profile{ID: m.ID, Nickname: m.Nickname, Avatar: m.Avatar, Phone: m.PhoneMask,
		Channel: m.Channel, CreatedAt: m.CreatedAt}), nil
}

// SignInReply is the answer of POST /sign-in.
type SignInReply struct {
	Day    string     `json:"day"`             // yyyymmdd, Shanghai.
	Streak int        `json:"streak"`          // Consecutive days including today.
	Points int64      `json:"points"`          // Earned by today's sign-in.
	Growth int64      `json:"growth"`          // Earned by today's sign-in.
	Entry  *EntryView `json:"entry,omitempty"` // The points entry; none when Points is 0.
	// AlreadySignedIn says this is a repeat of today's sign-in: the answer
	// is the first one's, and nothing was credited again.
	AlreadySignedIn bool        `json:"already_signed_in"`
	Coupon          *CouponView `json:"coupon,omitempty"` // The streak coupon, on the day it is earned.
}

// SignIn answers POST /sign-in: once a day (Asia/Shanghai), points by the
// streak day, and the streak coupon on every coupons.streak_days-th day in a
// row (loyalty rules), all stored in one write. A repeat that day writes
// nothing and answers the first answer.
func (h *Handler) SignIn(ctx context.Context, r *web.Request) (*web.Response, error) {
	const op = "memberapi.SignIn"
	m, ok := auth.CurrentMember(ctx)
	if !ok {
		return nil, errs.E(op, errs.Unauthorized, "a bearer session token is required")
	}
	// The person signs in by their mini-program openid, which a member
	// merged away and its survivor share: once a day, whichever of the two
	// a sign-in in flight during the merge reaches.
	res, err := h.Loyalty.SignInAs(ctx, m.ID, m.OpenIDFor(h.AppID))
	if err != nil {
		return nil, errs.E(op, err)
	}
	id := cmp.Or(res.Member, m.ID) // The survivor, when the member was merged away meanwhile.
	out := SignInReply{Day: res.Day, Streak: res.Streak, Points: res.Points, Growth: res.Growth,
		AlreadySignedIn: res.Repeat}
	if res.Points > 0 {
		e := entryView(res.Entry)
		out.Entry = &e
	}
	switch {
	case res.Inherited:
		// A streak day signed in by a member since merged into this one
		// brought its coupon to that member, and the merge moved it here.
	case res.Coupon != nil:
		c := coupons.ViewOf(*res.Coupon, h.Now())
		out.Coupon = &c
	case res.CouponMissed && res.Repeat:
		// The streak day's coupon could not be had with the sign-in (its
		// template paused or sold out): a repeat that day asks for it
		// again, in a write of its own, as the day is stored already.
		got, err := h.Coupons.OnSignInStreak(ctx, id, res.Day)
		if err != nil && !coupons.Unavailable(err) {
			return nil, errs.E(op, err)
		}
		if err == nil {
			c := coupons.ViewOf(got.Instance, h.Now())
			out.Coupon = &c
		}
	}
	return web.JSON(http.StatusOK, out), nil
}

// page reads the cursor and limit query parameters.
func page(r *web.Request) (string, int, error) {
	limit := 20
	if v := r.Query.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return "", 0, errs.E("memberapi.page", errs.Invalid, "limit must be 1–100")
		}
		limit = n
	}
	return r.Query.Get("cursor"), limit, nil
}

// Points answers GET /points: the ledger, newest first, a page at a time.
func (h *Handler) Points(ctx context.Context, r *web.Request) (*web.Response, error) {
	cursor, limit, err := page(r)
	if err != nil {
		return nil, err
	}
	entries, next, err := h.Loyalty.Ledger(ctx, auth.MemberID(ctx), cursor, limit)
	if err != nil {
		return nil, errs.E("memberapi.Points", err)
	}
	views := make([]EntryView, 0, len(entries))
	for _, e := range entries {
		views = append(views, entryView(e))
	}
	return web.JSON(http.StatusOK, map[string]any{"entries": views, "next": next}), nil
}

// CouponList answers GET /coupons?status=…: the member's coupons, a page at a time.
func (h *Handler) CouponList(ctx context.Context, r *web.Request) (*web.Response, error) {
	cursor, limit, err := page(r)
	if err != nil {
		return nil, err
	}
	st := coupons.Status(r.Query.Get("status"))
	switch st {
	case "", coupons.Available, coupons.Used, coupons.Expired, coupons.Revoked:
	default:
		return nil, errs.E("memberapi.Coupons", errs.Invalid, "status must be available, used, expired or revoked")
	}
	p, err := h.Coupons.List(ctx, coupons.ListQuery{MemberID: auth.MemberID(ctx), Status: st, Cursor: cursor, Limit: limit})
	if err != nil {
		return nil, errs.E("memberapi.Coupons", err)
	}
	return web.JSON(http.StatusOK, map[string]any{"coupons": couponViews(p.Items, h.Now()), "next": p.Next}), nil
}

// QRReply carries the content of a coupon's QR code.
type QRReply struct {
	Token     string    `json:"token"` // What the QR code encodes; a clerk scans it.
	ExpiresAt time.Time `json:"expires_at"`
}

// CouponQR answers GET /coupons/qr?id=…: a short-lived signed token naming
// the member and one of their usable coupons, shown as a QR code for a
// store clerk to redeem.
func (h *Handler) CouponQR(ctx context.Context, r *web.Request) (*web.Response, error) {
	const op = "memberapi.CouponQR"
	id := r.Query.Get("id")
	if id == "" || len(id) > 64 {
		return nil, errs.E(op, errs.Invalid, "id is required")
	}
	c, err := h.Coupons.Get(ctx, id)
	if err != nil {
		return nil, errs.E(op, err)
	}
	if c.MemberID != auth.MemberID(ctx) {
		return nil, errs.E(op, errs.NotExist, "coupon not found")
	}
	if st := c.Effective(h.Now()); st != coupons.Available {
		return nil, errs.E(op, errs.Conflict, "coupon is "+string(st))
	}
	tok, exp := h.Sessions.IssueScoped(QRScope, c.MemberID+":"+c.ID, QRTTL)
	return web.JSON(http.StatusOK, QRReply{Token: tok, ExpiresAt: exp.UTC()}), nil
}
