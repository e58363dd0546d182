package wechat

import (
	"context"
	"errors"
	"fmt"

	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/miniprogram"
	"github.com/silenceper/wechat/v2/miniprogram/auth"
	"github.com/silenceper/wechat/v2/miniprogram/config"
	mpcontext "github.com/silenceper/wechat/v2/miniprogram/context"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/wxuser"
)

// SessionKey is a mini-program session_key (wxuser.SessionKey): it prints,
// logs and marshals as "[redacted]"; only Reveal gives the key.
type SessionKey = wxuser.SessionKey

// NewSessionKey wraps a session_key, e.g. in a fake client.
func NewSessionKey(v string) SessionKey { return wxuser.NewSessionKey(v) }

// Session is what code2session tells about the user behind a js_code
// (wxuser.Session).
type Session = wxuser.Session

// MiniProgram is a mini-program's server-side client: login and phone number
// through silenceper's own code, with access tokens from a TokenSource.
type MiniProgram struct {
	cfg    *config.Config
	mp     *miniprogram.MiniProgram
	tokens *TokenSource
}

// NewMiniProgram returns the client of one mini-program. Tokens supplies the
// access tokens of the phone-number API; it must be for the same appid.
func NewMiniProgram(appID, secret string, tokens *TokenSource) *MiniProgram {
	// silenceper insists on a cache for its default token handle, which the
	// TokenSource replaces at once; nothing is ever stored in it.
	cfg := &config.Config{AppID: appID, AppSecret: secret, Cache: cache.NewMemory()}
	mp := miniprogram.NewMiniProgram(cfg)
	mp.SetAccessTokenHandle(tokens)
	return &MiniProgram{cfg: cfg, mp: mp, tokens: tokens}
}

// AppID is the mini-program's appid.
func (c *MiniProgram) AppID() string { return c.cfg.AppID }

// Code2Session exchanges a js_code from wx.login for the user's session.
// Errors: errs.Invalid for an unknown, expired or foreign code (40029),
// errs.Expired for a code already used (40163), errs.RateLimited (45011),
// errs.Permission for a user WeChat's risk control refuses (40226),
// errs.Transient when WeChat is unreachable, busy or answers something other
// than its JSON, errs.Internal otherwise.
func (c *MiniProgram) Code2Session(ctx context.Context, code string) (Session, error) {
	const op = "wechat.Code2Session"
	if code == "" {
		return Session{}, errs.E(op, errs.Invalid, "missing login code")
	}
	res, err := c.mp.GetAuth().Code2SessionContext(ctx, code)
	if err != nil {
		if res.ErrCode == 0 {
			return Session{}, transport(op, err)
		}
		return Session{}, loginError(op, &apiError{API: "jscode2session", ErrCode: res.ErrCode, ErrMsg: res.ErrMsg})
	}
	if res.OpenID == "" {
		return Session{}, errs.E(op, errs.Internal, errors.New("jscode2session answered without an openid"))
	}
	return Session{OpenID: res.OpenID, UnionID: res.UnionID, SessionKey: NewSessionKey(res.SessionKey)}, nil
}

// PhoneNumber exchanges a code from the getPhoneNumber button for the user's
// phone number with its country, from the answer's countryCode and
// purePhoneNumber (never from phoneNumber, whose digits alone would make
// +1 3855550124 look like the mainland 13855550124).
// A 40001/42001 answer makes the token source refresh the token and the call
// is tried once more. Errors: errs.Invalid for an unknown, expired or used
// code (40029), errs.RateLimited (45011), errs.Transient when WeChat is
// unreachable, busy or answers something other than its JSON, errs.Upstream
// for an answer without a valid country code and number, errs.Internal
// otherwise.
func (c *MiniProgram) PhoneNumber(ctx context.Context, code string) (pii.Phone, error) {
	const op = "wechat.PhoneNumber"
	if code == "" {
		return pii.Phone{}, errs.E(op, errs.Invalid, "missing phone code")
	}
	var info auth.PhoneInfo
	err := callAPI(ctx, op, "getuserphonenumber", c.tokens, func(h *boundTokens) error {
		a := auth.NewAuth(&mpcontext.Context{Config: c.cfg, AccessTokenHandle: h})
		res, err := a.GetPhoneNumberContext(ctx, code)
		if err == nil {
			info = res.PhoneInfo
		}
		return err
	})
	if err != nil {
		return pii.Phone{}, classify(op, err, phoneError)
	}
	p, err := pii.NewPhone(info.CountryCode, info.PurePhoneNumber)
	if err != nil {
		// pii's error says what is wrong without showing the number.
		return pii.Phone{}, errs.E(op, errs.Upstream, "WeChat answered an unusable phone number",
			fmt.Errorf("getuserphonenumber: %w", err))
	}
	return p, nil
}
