package wechat

import (
	"context"

	mpcontext "github.com/silenceper/wechat/v2/miniprogram/context"
	"github.com/silenceper/wechat/v2/miniprogram/subscribe"

	"github.com/wemember/wemember/shared/errs"
)

// SendSubscribe sends a subscribe message (订阅消息) of a template to a user
// of the mini-program (message/subscribe/send): data maps the template's
// keywords (e.g. "thing1") to their values, page is the mini-program page
// the message opens (may be empty). Each acceptance of the template by the
// user allows one message. A 40001/42001 answer makes the token source
// refresh the token and the call is tried once more.
//
// Errors: errs.Permission "user has not subscribed" when the user has no
// acceptance of the template left (43101), errs.Invalid for an openid that
// is not this mini-program's (40003) or data the template refuses (47003),
// errs.RateLimited for quotas, errs.Transient when WeChat is unreachable,
// busy or slower than ctx (the message may then have been sent),
// errs.Internal for an unknown template (40037) and anything else.
func (c *MiniProgram) SendSubscribe(ctx context.Context, openid, templateID, page string, data map[string]string) error {
	const op = "wechat.SendSubscribe"
	switch {
	case openid == "":
		return errs.E(op, errs.Invalid, "invalid openid")
	case templateID == "":
		return errs.E(op, errs.Internal, "unknown subscribe message template")
	case len(data) == 0:
		return errs.E(op, errs.Invalid, "invalid subscribe message")
	}
	msg := &subscribe.Message{ToUser: openid, TemplateID: templateID, Page: page, Data: make(map[string]*subscribe.DataItem, len(data))}
	for k, v := range data {
		msg.Data[k] = &subscribe.DataItem{Value: v}
	}
	err := callAPI(ctx, op, "subscribe/send", c.tokens, func(h *boundTokens) error {
		return subscribe.NewSubscribe(&mpcontext.Context{Config: c.cfg, AccessTokenHandle: h}).Send(msg)
	})
	if err != nil {
		return classify(op, err, subscribeError)
	}
	return nil
}
