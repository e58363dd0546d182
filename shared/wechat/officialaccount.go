package wechat

import (
	"context"
	"errors"
	"time"

	"github.com/silenceper/wechat/v2/cache"
	oaconfig "github.com/silenceper/wechat/v2/officialaccount/config"
	oacontext "github.com/silenceper/wechat/v2/officialaccount/context"
	"github.com/silenceper/wechat/v2/officialaccount/user"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/wxuser"
)

// OfficialAccount is an Official Account's server-side client: user info
// through silenceper's own code, with access tokens from a TokenSource.
type OfficialAccount struct {
	cfg    *oaconfig.Config
	tokens *TokenSource
}

// NewOfficialAccount returns the client of one Official Account. Tokens must
// be the stable-token source of the same appid (NewTokenSource).
func NewOfficialAccount(appID, secret string, tokens *TokenSource) *OfficialAccount {
	// silenceper's config wants a cache; the TokenSource replaces its token
	// handle, so nothing is ever stored in it.
	return &OfficialAccount{cfg: &oaconfig.Config{AppID: appID, AppSecret: secret, Cache: cache.NewMemory()}, tokens: tokens}
}

// AppID is the Official Account's appid.
func (c *OfficialAccount) AppID() string { return c.cfg.AppID }

// OAUser is what the Official Account knows of a user (wxuser.OAUser).
type OAUser = wxuser.OAUser

// UserInfo asks WeChat about an openid of this account. A user who never
// followed, or unfollowed, is no error: Subscribed is false. A 40001/42001
// answer makes the token source refresh the token and the call is tried once
// more. Errors: errs.Invalid for an openid that is not this account's
// (40003), errs.RateLimited for quotas, errs.Transient when WeChat is
// unreachable, busy or slower than ctx, errs.Internal otherwise.
func (c *OfficialAccount) UserInfo(ctx context.Context, openid string) (OAUser, error) {
	const op = "wechat.UserInfo"
	if openid == "" {
		return OAUser{}, errs.E(op, errs.Invalid, "invalid openid")
	}
	var info *user.Info
	err := callAPI(ctx, op, "user/info", c.tokens, func(h *boundTokens) error {
		res, err := user.NewUser(&oacontext.Context{Config: c.cfg, AccessTokenHandle: h}).GetUserInfo(openid)
		if res != nil && res.ErrCode != 0 {
			// silenceper reports the errcode in a plain error.
			return &apiError{API: "user/info", ErrCode: res.ErrCode, ErrMsg: res.ErrMsg}
		}
		info = res
		return err
	})
	if err != nil {
		return OAUser{}, classify(op, err, userInfoError)
	}
	if info == nil || info.OpenID == "" {
		return OAUser{}, errs.E(op, errs.Internal, errors.New("user/info answered without an openid"))
	}
	u := OAUser{OpenID: info.OpenID, UnionID: info.UnionID, Subscribed: info.Subscribe == 1}
	if u.Subscribed {
		u.Since = time.Unix(int64(info.SubscribeTime), 0)
		u.Scene, u.QRScene, u.QRSceneStr = info.SubscribeScene, info.QrScene, info.QrSceneStr
	}
	return u, nil
}
