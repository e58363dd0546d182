package memberapi

import (
	"context"
	"net/http"

	"github.com/wemember/wemember/shared/auth"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/funnel"
	"github.com/wemember/wemember/shared/web"
)

// MaxShareCodeLen bounds the code text a share names, in bytes: longer
// than any code format makes.
const MaxShareCodeLen = 64

// ShareRequest is the body of POST /share: where in the mini-program the
// member shared from, by which channel, and which of their codes (its text;
// empty when the share carries none).
type ShareRequest struct {
	Trigger string `json:"trigger"`
	Channel string `json:"channel"`
	Code    string `json:"code,omitempty"`
}

// ShareReply is the answer of POST /share.
type ShareReply struct {
	Recorded bool `json:"recorded"`
}

// Share answers POST /share: it counts a share by the signed-in member in
// the invitation funnel, under its trigger point, channel, code and the
// member as inviter, and answers 202. An unknown trigger or channel, or a
// code the invitations do not know, is 400; the code's text is never
// stored, only its id.
func (h *Handler) Share(ctx context.Context, r *web.Request) (*web.Response, error) {
	const op = "memberapi.Share"
	m, ok := auth.CurrentMember(ctx)
	if !ok {
		return nil, errs.E(op, errs.Unauthorized, "a bearer session token is required")
	}
	if h.Funnel == nil {
		return nil, errs.E(op, errs.Unimplemented, "the share funnel is not configured")
	}
	var in ShareRequest
	if err := web.DecodeDocument(r, &in); err != nil {
		return nil, err
	}
	if in.Trigger == "" || in.Channel == "" {
		return nil, errs.E(op, errs.Invalid, "trigger and channel are required")
	}
	ev := funnel.Event{Step: funnel.StepShare, Trigger: in.Trigger, Channel: in.Channel, Inviter: m.ID, Subject: m.ID}
	if in.Code != "" && h.CodeID != nil {
		if len(in.Code) > MaxShareCodeLen {
			return nil, errs.E(op, errs.Invalid, "code is not a known invitation code")
		}
		id, known := h.CodeID(ctx, in.Code)
		if !known {
			return nil, errs.E(op, errs.Invalid, "code is not a known invitation code")
		}
		ev.Code = id
	}
	if err := h.Funnel.Record(ctx, ev); err != nil {
		return nil, errs.E(op, err)
	}
	return web.JSON(http.StatusAccepted, ShareReply{Recorded: true}), nil
}
