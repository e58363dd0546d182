package adminapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/wemember/wemember/shared/auth"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/web"
)

// CouponQRScope is the scope of the tokens member-api puts in coupon QR
// codes (memberapi.QRScope).
const CouponQRScope = "coupon"

// clerkRoutes registers what a store clerk does.
func (h *Handler) clerkRoutes(mux *web.Mux) {
	mux.Handle(http.MethodPost, "/clerk/redeem", h.clerkRedeem)
	mux.Handle(http.MethodPost, "/coupons/issue", h.issueCoupon)
}

// RedeemRequest is what a clerk's scanner sends.
type RedeemRequest struct {
	QR          string `json:"qr"`           // The member's coupon QR token.
	Clerk       string `json:"clerk"`        // Who scanned it.
	OrderID     string `json:"order_id"`     // Optional.
	OrderAmount int64  `json:"order_amount"` // Fen; required by a coupon with a threshold, and checked against it.
}

// clerkRedeem redeems (核销) the coupon a member's QR code names, once, and
// answers it as a CouponView. A field the request does not know (such as
// "order" for "order_id") is refused, so a scanner's mistake is not a
// redemption without its order.
//
// Scanning the same code again for the same order answers the redeemed
// coupon, not an error; the same code for another order, or another code
// for a used coupon, answers 409 "coupon already used for order …". A code
// that does not verify or has expired is 400.
func (h *Handler) clerkRedeem(ctx context.Context, r *web.Request) (*web.Response, error) {
	const op = "adminapi.clerkRedeem"
	var in RedeemRequest
	if err := web.DecodeStrict(r, &in); err != nil {
		return nil, err
	}
	if in.Clerk == "" || len(in.Clerk) > 64 || len(in.OrderID) > 64 || in.OrderAmount < 0 {
		return nil, errs.E(op, errs.Invalid, "clerk is required; order fields must be sane")
	}
	// A code that does not verify is bad input from the scanner (400): the
	// operator's own credentials were fine.
	c, err := h.Sessions.VerifyScoped(CouponQRScope, in.QR)
	if err != nil {
		return nil, errs.E(op, errs.Invalid, "qr: "+errs.SafeMessage(err), err)
	}
	memberID, couponID, ok := strings.Cut(c.MemberID, ":")
	if !ok {
		return nil, errs.E(op, errs.Invalid, "qr: invalid coupon token")
	}
	in2 := coupons.RedeemCmd{InstanceID: couponID, MemberID: memberID, Clerk: in.Clerk,
		OrderID: in.OrderID, OrderAmount: in.OrderAmount, Key: "qr#" + tokenHash(in.QR)}
	got, err := h.Coupons.Redeem(ctx, in2)
	if err != nil {
		return nil, errs.E(op, err)
	}
	return web.JSON(http.StatusOK, couponView(got, h.Now())), nil
}

// tokenHash names a scanned token in an idempotency key.
func tokenHash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:16])
}

// IssueRequest is an operator's coupon issue.
type IssueRequest struct {
	TemplateID string `json:"template_id"`
	MemberID   string `json:"member_id"`
	Key        string `json:"key"` // The operator's idempotency key for this issue.
}

// issueCoupon issues a coupon to a member by an operator, once per key, and
// answers an IssueAnswer. The
// member must exist (404 otherwise, and nothing is stored); a member merged
// into another gets it on the surviving record.
func (h *Handler) issueCoupon(ctx context.Context, r *web.Request) (*web.Response, error) {
	const op = "adminapi.issueCoupon"
	var in IssueRequest
	if err := web.DecodeStrict(r, &in); err != nil {
		return nil, err
	}
	if in.Key == "" || len(in.Key) > 128 {
		return nil, errs.E(op, errs.Invalid, "key is required (≤ 128 characters)")
	}
	if in.MemberID == "" || len(in.MemberID) > 64 {
		return nil, errs.E(op, errs.Invalid, "member_id is required")
	}
	m, err := h.Members.Get(ctx, in.MemberID)
	if errs.Is(errs.NotExist, err) {
		return nil, errs.E(op, errs.NotExist, "member not found", err)
	}
	if err != nil {
		return nil, errs.E(op, err)
	}
	got, err := h.Coupons.Issue(ctx, coupons.IssueCmd{TemplateID: in.TemplateID, MemberID: m.ID,
		Reason: "operator", Operator: auth.OperatorName(ctx), Key: "op#" + in.Key})
	if err != nil {
		return nil, errs.E(op, err)
	}
	return web.JSON(http.StatusOK, IssueAnswer{Coupon: couponView(got.Instance, h.Now()), Duplicate: got.Duplicate}), nil
}
