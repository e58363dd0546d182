// Package memberapi is the member-api function: what a signed-in member reads
// and does from the mini-program — the member card, sign-in, the points
// ledger and coupons. Every route runs behind auth.Member.
package memberapi

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/wemember/wemember/shared/auth"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/funnel"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/session"
	"github.com/wemember/wemember/shared/web"
)

// Handler serves the member API.
type Handler struct {
	Members  *member.Service
	Loyalty  *loyalty.Service
	Coupons  *coupons.Service
	Sessions *session.Issuer
	Now      func() time.Time
	// AppID is the mini-program's appid; a member's openid under it keys
	// the daily sign-in.
	AppID string
	// Funnel counts the member's shares.
	Funnel *funnel.Service
	// CodeID turns a shared code's text into the id the funnel counts it
	// by, and says whether the code is known; nil counts shares without
	// their code.
	CodeID func(ctx context.Context, text string) (string, bool)
}

// New makes the function's handler: the member API behind the member
// check (a session token of the mini-program appID, for a live member).
func New(m *member.Service, l *loyalty.Service, c *coupons.Service, sessions *session.Issuer,
	appID string, now func() time.Time, f *funnel.Service) web.Handler {
	h := &Handler{Members: m, Loyalty: l, Coupons: c, Sessions: sessions, Now: now, AppID: appID, Funnel: f}
	return auth.Member(sessions, m, appID)(h.Mux().Serve)
}

// Mux routes the function's requests.
func (h *Handler) Mux() *web.Mux {
	mux := web.NewMux("/member-api")
	mux.Handle(http.MethodGet, "/me", h.Card)
	mux.Handle(http.MethodPut, "/me/profile", h.UpdateProfile)
	mux.Handle(http.MethodPost, "/sign-in", h.SignIn)
	mux.Handle(http.MethodGet, "/points", h.Points)
	mux.Handle(http.MethodGet, "/coupons", h.CouponList)
	mux.Handle(http.MethodGet, "/coupons/qr", h.CouponQR)
	mux.Handle(http.MethodPost, "/share", h.Share)
	return mux
}

// Card is the member card.
type Card struct {
	Member   Profile          `json:"member"`
	Level    LevelCard        `json:"level"`
	Points   loyalty.Balance  `json:"points"`
	Coupons  CouponSummary    `json:"coupons"`
	Benefits loyalty.Benefits `json:"benefits"`
}

// Profile is the member's own view of their record: masked where personal.
type Profile struct {
	ID        string         `json:"id"`
	Nickname  string         `json:"nickname,omitempty"`
	Avatar    string         `json:"avatar,omitempty"`
	Phone     string         `json:"phone,omitempty"` // Masked.
	Channel   member.Channel `json:"channel"`
	CreatedAt time.Time      `json:"created_at"`
}

// LevelCard is the level with growth and the progress to the next level.
type LevelCard struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Growth   int64   `json:"growth"`
	SpendFen int64   `json:"spend_fen"`
	Next     string  `json:"next,omitempty"`
	NextName string  `json:"next_name,omitempty"`
	ToNext   int64   `json:"to_next"`
	Progress float64 `json:"progress"` // 0..1 of the way from this level to the next.
}

// CouponSummary counts the member's usable coupons and shows the first few.
type CouponSummary struct {
	Available int          `json:"available"`
	Items     []CouponView `json:"items"`
}

// Card answers GET /me. It only reads: the level's monthly coupon is issued
// by the expiry sweep on the first of the month.
func (h *Handler) Card(ctx context.Context, r *web.Request) (*web.Response, error) {
	const op = "memberapi.Card"
	m, ok := auth.CurrentMember(ctx) // Read by the auth middleware already.
	if !ok {
		return nil, errs.E(op, errs.Unauthorized, "a bearer session token is required")
	}
	// The card only shows what it reads, so its reads are eventually
	// consistent, and they are independent: overlap their round trips.
	var (
		standing   loyalty.Standing
		page       coupons.ListPage
		sErr, cErr error
		wg         sync.WaitGroup
	)
	wg.Go(func() { standing, sErr = h.Loyalty.Standing(ctx, m.ID) })
	wg.Go(func() {
		page, cErr = h.Coupons.List(ctx, coupons.ListQuery{MemberID: m.ID, Status: coupons.Available, Limit: 100})
	})
	wg.Wait()
	if err := errors.Join(sErr, cErr); err != nil {
		return nil, errs.E(op, err)
	}
	card := Card{
		Member: Profile{ID: m.ID, Nickname: m.Nickname, Avatar: m.Avatar, Phone: m.PhoneMask,
			Channel: m.Channel, CreatedAt: m.CreatedAt},
		Level:    levelCard(standing.Level),
		Points:   standing.Points,
		Benefits: standing.Level.Level.Benefits,
		Coupons:  CouponSummary{Items: []CouponView{}},
	}
	now := h.Now()
	for _, c := range page.Items {
		if c.Effective(now) != coupons.Available {
			continue
		}
		card.Coupons.Available++
		if len(card.Coupons.Items) < 5 {
			card.Coupons.Items = append(card.Coupons.Items, coupons.ViewOf(c, now))
		}
	}
	return web.JSON(http.StatusOK, card), nil
}

func levelCard(v loyalty.LevelView) LevelCard {
	c := LevelCard{ID: v.Level.ID, Name: v.Level.Name, Growth: v.Growth, SpendFen: v.SpendFen, ToNext: v.ToNext}
	if v.Next == nil {
		c.Progress = 1
		return c
	}
	c.Next, c.NextName = v.Next.ID, v.Next.Name
	span := v.Next.MinGrowth - v.Level.MinGrowth
	done := v.Growth - v.Level.MinGrowth
	if v.Next.MinSpendFen > 0 && v.Next.MinGrowth == 0 {
		span, done = v.Next.MinSpendFen-v.Level.MinSpendFen, v.SpendFen-v.Level.MinSpendFen
	}
	if span > 0 {
		c.Progress = min(1, max(0, float64(done)/float64(span)))
	}
	return c
}
