package oacallback

import (
	"context"
	"log/slog"

	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/invite"
	"github.com/wemember/wemember/shared/reqlog"
)

// Redeemer redeems invitation codes: invite.Service. A redemption is
// idempotent per invitee and code, so a push redelivered after its
// redemption gets the first outcome again (Redemption.Repeat).
type Redeemer interface {
	Redeem(ctx context.Context, c invite.RedeemCmd) (invite.Redemption, error)
}

// The ways a code reaches this function (invite.RedeemCmd.Via).
const (
	ViaScene = "oa-scene" // A follow or scan of a QR code whose scene names a code.
	ViaToken = "token"    // A text message holding a text token (口令).
)

// names reports whether an attribution names a code to redeem.
func names(a channels.Attribution) bool { return a.Code != "" || a.CodeID != "" }

// redeem redeems the code an attribution names for the member, and returns
// the sentence that tells the follower the outcome. A refusal is an
// outcome (nothing of it is stored). A failure is logged and told as
// nothing: the push is answered all the same, not retried, since the
// follow's write is done and a retry would no longer be the member's
// registration; the pending attribution the follow left stays for the
// member's first login to the mini-program, which redeems it then.
func (h *Handler) redeem(ctx context.Context, memberID string, a channels.Attribution, via string, registration bool) string {
	cmd := invite.RedeemCmd{Code: a.Code, CodeID: a.CodeID, Invitee: memberID, Via: via,
		Registration: registration, Channel: a.Channel.Kind}
	if cmd.Code != "" {
		cmd.CodeID = "" // The text, when known, finds the code however it is stored.
	}
	r, err := h.Invites.Redeem(ctx, cmd)
	if err == nil {
		return boundText(r)
	}
	if reason, ok := invite.ReasonOf(err); ok {
		return refusedText(reason)
	}
	reqlog.From(ctx).ErrorContext(ctx, "invitation not redeemed", slog.String("via", via),
		slog.String("kind", errs.KindOf(err).String()), slog.String("error", err.Error()))
	return ""
}

// boundText tells a follower that the invitation bound them.
func boundText(r invite.Redemption) string {
	for _, rw := range r.Rewards {
		if rw.Held {
			return "已接受好友邀请，邀请奖励审核通过后发放。"
		}
	}
	return "已接受好友邀请，邀请奖励已发放到您的会员账户。"
}

// refusedText tells a follower briefly why a code did not bind them.
func refusedText(r invite.Reason) string {
	switch r {
	case invite.ReasonUnknown:
		return "邀请码无效。"
	case invite.ReasonExpired, invite.ReasonInactive:
		return "邀请码已失效。"
	case invite.ReasonWindow:
		return "邀请码不在活动时间内。"
	case invite.ReasonUsedUp:
		return "邀请码已被领完。"
	case invite.ReasonBound:
		return "您已接受过好友邀请。"
	case invite.ReasonNotAtRegistration:
		return "邀请码仅限新会员注册时使用。"
	case invite.ReasonSelf:
		return "不能使用自己的邀请码。"
	}
	return "邀请码暂不可用。"
}

// joinText puts the sentences of one reply together, skipping empty ones.
func joinText(parts ...string) string {
	out := ""
	for _, p := range parts {
		switch {
		case p == "":
		case out == "":
			out = p
		default:
			out += "\n" + p
		}
	}
	return out
}
