package wecomcallback

import (
	"context"
	"log/slog"

	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/invite"
	"github.com/wemember/wemember/shared/onboard"
	"github.com/wemember/wemember/shared/reqlog"
)

// Redeemer redeems invitation codes: invite.Service. A redemption is
// idempotent per invitee and code, so an event redelivered after its
// redemption changes nothing more.
type Redeemer interface {
	Redeem(ctx context.Context, c invite.RedeemCmd) (invite.Redemption, error)
}

// ViaState is how a code reaches this function (invite.RedeemCmd.Via): the
// state of the contact way the customer added the rep through.
const ViaState = "wecom-state"

// names reports whether an attribution names a code to redeem.
func names(a channels.Attribution) bool { return a.Code != "" || a.CodeID != "" }

// redeem redeems the code the add's state names for the customer's member;
// the add registered the member when it created it. A refusal ends there
// (nothing of it is stored). A failure is logged and the event answered
// all the same, not retried: the add's write is done and a retry would no
// longer be the member's registration; the pending attribution the add
// left stays for the member's first login to the mini-program, which
// redeems it then.
func (h *Handler) redeem(ctx context.Context, f onboard.Followed) {
	a := f.Attribution
	cmd := invite.RedeemCmd{Code: a.Code, CodeID: a.CodeID, Invitee: f.ID, Via: ViaState,
		Registration: f.Created, Channel: a.Channel.Kind}
	if cmd.Code != "" {
		cmd.CodeID = "" // The text, when known, finds the code however it is stored.
	}
	_, err := h.Invites.Redeem(ctx, cmd)
	if err == nil {
		return
	}
	log := reqlog.From(ctx)
	if reason, ok := invite.ReasonOf(err); ok {
		log.InfoContext(ctx, "invitation refused", slog.String("via", ViaState), slog.String("reason", string(reason)))
		return
	}
	log.ErrorContext(ctx, "invitation not redeemed", slog.String("via", ViaState),
		slog.String("kind", errs.KindOf(err).String()), slog.String("error", err.Error()))
}
