// Package auth is the authentication middleware: members by session token
// or by the platform's trusted identity, operators by bearer token. A handler
// behind it reads who is calling from the context.
package auth

import (
	"context"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/session"
	"github.com/wemember/wemember/shared/web"
)

type ctxKey int

const (
	memberKey ctxKey = iota
	operatorKey
)

// MemberID is the authenticated member's id, or "" outside Member.
func MemberID(ctx context.Context) string {
	m, _ := ctx.Value(memberKey).(member.Member)
	return m.ID
}

// CurrentMember is the authenticated member as Member read it, so a handler
// need not read it again; ok is false outside Member.
func CurrentMember(ctx context.Context) (member.Member, bool) {
	m, ok := ctx.Value(memberKey).(member.Member)
	return m, ok
}

// WithMember returns a context carrying an authenticated member; tests and
// trusted internal callers use it.
func WithMember(ctx context.Context, m member.Member) context.Context {
	return context.WithValue(ctx, memberKey, m)
}

// Member authenticates a member: a bearer session token, or — when the
// platform vouches for the caller (a CloudBase call) — the caller's openid
// under the mini-program appid. The member must exist (merges are followed).
// Failures are errs.Unauthorized; a trusted caller with no member yet is
// errs.NotExist "not registered: call mp-login first".
func Member(sessions *session.Issuer, members *member.Service, mpAppID string) web.Middleware {
	return func(next web.Handler) web.Handler {
		return func(ctx context.Context, r *web.Request) (*web.Response, error) {
			const op = "auth.Member"
			var m member.Member
			var err error
			switch tok, ok := session.Bearer(r.Header.Get("Authorization")); {
			case ok:
				var c session.Claims
				if c, err = sessions.Verify(tok); err != nil {
					return nil, err
				}
				if m, err = members.Get(ctx, c.MemberID); errs.Is(errs.NotExist, err) {
					return nil, errs.E(op, errs.Unauthorized, "invalid session token", err)
				}
			case r.Caller != nil && r.Caller.OpenID != "":
				if r.Caller.AppID != "" && r.Caller.AppID != mpAppID {
					return nil, errs.E(op, errs.Permission, "caller belongs to another mini-program")
				}
				m, err = members.Resolve(ctx, member.Identity{Kind: member.OpenID, Scope: mpAppID, Value: r.Caller.OpenID})
				if errs.Is(errs.NotExist, err) {
					return nil, errs.E(op, errs.NotExist, "not registered: call mp-login first", err)
				}
			default:
				return nil, errs.E(op, errs.Unauthorized, "a bearer session token is required")
			}
			if err != nil {
				return nil, errs.E(op, err)
			}
			return next(WithMember(ctx, m), r)
		}
	}
}

// Operator authenticates an operator by a bearer token compared in constant
// time. An empty configured token refuses everyone.
func Operator(token string) web.Middleware {
	return func(next web.Handler) web.Handler {
		return func(ctx context.Context, r *web.Request) (*web.Response, error) {
			if !IsOperator(r, token) {
				return nil, errs.E("auth.Operator", errs.Unauthorized, "an operator token is required")
			}
			return next(context.WithValue(ctx, operatorKey, "operator"), r)
		}
	}
}

// OperatorName is who the authenticated operator is, for audit records.
func OperatorName(ctx context.Context) string {
	name, _ := ctx.Value(operatorKey).(string)
	return name
}
