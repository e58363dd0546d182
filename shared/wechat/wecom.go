package wechat

import (
	"context"
	"errors"
	"time"

	"github.com/silenceper/wechat/v2/cache"
	workconfig "github.com/silenceper/wechat/v2/work/config"
	workcontext "github.com/silenceper/wechat/v2/work/context"
	"github.com/silenceper/wechat/v2/work/externalcontact"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/wxuser"
)

// WeCom is a WeCom corp's server-side client for customer contact (客户联系):
// external contacts and welcome messages through silenceper's own code, with
// access tokens from a WeCom TokenSource.
type WeCom struct {
	cfg    *workconfig.Config
	tokens *TokenSource
}

// NewWeCom returns the client of one corp. Tokens must be the WeCom source
// of the same corpid and secret (NewWeComTokenSource).
func NewWeCom(corpID, corpSecret string, tokens *TokenSource) *WeCom {
	return &WeCom{cfg: &workconfig.Config{CorpID: corpID, CorpSecret: corpSecret, Cache: cache.NewMemory()}, tokens: tokens}
}

// CorpID is the corp's corpid.
func (c *WeCom) CorpID() string { return c.cfg.CorpID }

func (c *WeCom) client(h *boundTokens) *externalcontact.Client {
	return externalcontact.NewClient(&workcontext.Context{Config: c.cfg, AccessTokenHandle: h})
}

// Contact is a WeCom external contact (wxuser.Contact).
type Contact = wxuser.Contact

// FollowUser is a corp member the contact added (wxuser.FollowUser).
type FollowUser = wxuser.FollowUser

// ExternalContact asks WeCom about an external contact of the corp
// (externalcontact/get). A 40014/42001 answer makes the token source refresh
// the token and the call is tried once more. Errors: errs.NotExist for an
// unknown id or a customer no member has any more (40096, 84061),
// errs.Invalid for an empty id, errs.RateLimited for quotas, errs.Transient
// when WeCom is unreachable, busy or slower than ctx, errs.Internal
// otherwise.
func (c *WeCom) ExternalContact(ctx context.Context, externalUserID string) (Contact, error) {
	const op = "wechat.ExternalContact"
	if externalUserID == "" {
		return Contact{}, errs.E(op, errs.Invalid, "missing external contact id")
	}
	var res *externalcontact.ExternalUserDetailResponse
	err := callAPI(ctx, op, "externalcontact/get", c.tokens, func(h *boundTokens) error {
		r, err := c.client(h).GetExternalUserDetail(externalUserID)
		if err == nil {
			res = r
		}
		return err
	})
	if err != nil {
		return Contact{}, classify(op, err, contactError)
	}
	ec := res.ExternalContact
	if ec.ExternalUserID == "" {
		return Contact{}, errs.E(op, errs.Internal, errors.New("externalcontact/get answered without an external_userid"))
	}
	out := Contact{ExternalUserID: ec.ExternalUserID, UnionID: ec.UnionID, Name: ec.Name, Type: int(ec.Type),
		FollowUsers: make([]FollowUser, 0, len(res.FollowUser))}
	for _, f := range res.FollowUser {
		out.FollowUsers = append(out.FollowUsers, FollowUser{UserID: f.UserID, State: f.State, AddedAt: time.Unix(f.CreateTime, 0)})
	}
	return out, nil
}

// SendWelcome sends the welcome text through the welcome_code of an
// add_external_contact event (send_welcome_msg). WeCom takes one message per
// code, within 20 s of the event.
//
// A code already used (41051, "externaluser has started chatting": this or
// another instance or app sent first) is not an error: SendWelcome returns
// nil, so a retried push stays harmless; the caller cannot tell whose text
// was sent. Errors: errs.Expired for a code older than 20 s or unknown
// (41050), errs.Invalid for an empty code or text, errs.TooLarge for a text
// over 4000 bytes, errs.RateLimited, errs.Transient when WeCom is
// unreachable, busy or slower than ctx (the message may then have been sent),
// errs.Internal otherwise.
func (c *WeCom) SendWelcome(ctx context.Context, welcomeCode, text string) error {
	const op = "wechat.SendWelcome"
	switch {
	case welcomeCode == "":
		return errs.E(op, errs.Invalid, "missing welcome code")
	case text == "":
		return errs.E(op, errs.Invalid, "empty welcome message")
	}
	req := &externalcontact.SendWelcomeMsgRequest{WelcomeCode: welcomeCode, Text: externalcontact.MsgText{Content: text}}
	err := callAPI(ctx, op, "send_welcome_msg", c.tokens, func(h *boundTokens) error {
		return c.client(h).SendWelcomeMsg(req)
	})
	if ErrCode(err) == codeWelcomeUsed {
		return nil
	}
	if err != nil {
		return classify(op, err, welcomeError)
	}
	return nil
}
