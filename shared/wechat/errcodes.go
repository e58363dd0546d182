package wechat

import "github.com/wemember/wemember/shared/errs"

// The errcodes of WeChat's and WeCom's server APIs that this package tells
// apart. This file is the one place where they become errs kinds.
const (
	codeSystemBusy      = -1
	codeInvalidToken    = 40001 // invalid credential (WeCom: invalid secret)
	codeInvalidOpenID   = 40003
	codeBadToken        = 40014 // invalid access_token
	codeInvalidCode     = 40029
	codeInvalidTemplate = 40037
	codeInvalidExternal = 40096 // WeCom: invalid external_userid
	codeCodeUsed        = 40163
	codeRiskyUser       = 40226
	codeMissingOpenID   = 41009
	codeMissingExternal = 41035 // WeCom: missing external_userid
	codeMissingWelcome  = 41049 // WeCom: missing welcome_code
	codeInvalidWelcome  = 41050 // WeCom: invalid welcome_code, also when older than 20 s
	codeWelcomeUsed     = 41051 // WeCom: externaluser has started chatting
	codeTokenExpired    = 42001
	codeUserRefused     = 43101 // user refuse to accept the msg
	codeEmptyContent    = 44004 // WeCom: empty text content
	codeContentTooLong  = 45002 // WeCom: content size out of limit
	codeDailyQuota      = 45009
	codeMinuteQuota     = 45011
	codeConcurrency     = 45033 // WeCom: too many concurrent calls
	codeArgumentInvalid = 47003
	codeInvalidArgs     = 40097 // invalid args (wxacode)
	codeInvalidScene    = 40129 // wxacode: invalid scene
	codeInvalidPage     = 41030 // wxacode: page malformed or not released
	codeBadActionName   = 40052 // qrcode/create: invalid action name
	codeBadActionInfo   = 40053 // qrcode/create: invalid action info (scene)
	codeNotContact      = 84061 // WeCom: not an external contact (any more)
)

// isTokenRejected reports whether an errcode says the access token is bad,
// so a refreshed token may succeed.
func isTokenRejected(code int64) bool {
	return code == codeInvalidToken || code == codeBadToken || code == codeTokenExpired
}

// common classifies the errcodes every API shares: busy is Transient, quotas
// RateLimited, anything else (a rejected token after a refresh, a
// misconfigured app) Internal.
func common(op string, e *apiError) error {
	switch e.ErrCode {
	case codeSystemBusy:
		return errs.E(op, errs.Transient, "WeChat is busy", e)
	case codeMinuteQuota, codeDailyQuota, codeConcurrency:
		return errs.E(op, errs.RateLimited, "too many requests to WeChat, retry later", e)
	}
	return errs.E(op, errs.Internal, e)
}

func loginError(op string, e *apiError) error {
	switch e.ErrCode {
	case codeInvalidCode:
		return errs.E(op, errs.Invalid, "invalid login code", e)
	case codeCodeUsed:
		return errs.E(op, errs.Expired, "login code already used", e)
	case codeMinuteQuota:
		return errs.E(op, errs.RateLimited, "too many logins, retry in a minute", e)
	case codeRiskyUser:
		return errs.E(op, errs.Permission, "login refused by WeChat", e)
	}
	return common(op, e)
}

func phoneError(op string, e *apiError) error {
	switch e.ErrCode {
	case codeInvalidCode:
		return errs.E(op, errs.Invalid, "invalid phone code", e)
	case codeMinuteQuota:
		return errs.E(op, errs.RateLimited, "too many requests, retry in a minute", e)
	}
	return common(op, e)
}

func userInfoError(op string, e *apiError) error {
	switch e.ErrCode {
	case codeInvalidOpenID, codeMissingOpenID:
		return errs.E(op, errs.Invalid, "invalid openid", e)
	}
	return common(op, e)
}

func subscribeError(op string, e *apiError) error {
	switch e.ErrCode {
	case codeUserRefused:
		return errs.E(op, errs.Permission, "user has not subscribed", e)
	case codeInvalidOpenID:
		return errs.E(op, errs.Invalid, "invalid openid", e)
	case codeArgumentInvalid:
		return errs.E(op, errs.Invalid, "invalid subscribe message", e)
	case codeInvalidTemplate:
		return errs.E(op, errs.Internal, "unknown subscribe message template", e)
	}
	return common(op, e)
}

func contactError(op string, e *apiError) error {
	switch e.ErrCode {
	case codeInvalidExternal, codeNotContact:
		return errs.E(op, errs.NotExist, "no such external contact", e)
	case codeMissingExternal:
		return errs.E(op, errs.Invalid, "missing external contact id", e)
	}
	return common(op, e)
}

// welcomeError classifies send_welcome_msg's errcodes; 41051 (already sent)
// never gets here.
func welcomeError(op string, e *apiError) error {
	switch e.ErrCode {
	case codeInvalidWelcome:
		return errs.E(op, errs.Expired, "welcome code expired or invalid", e)
	case codeMissingWelcome:
		return errs.E(op, errs.Invalid, "missing welcome code", e)
	case codeEmptyContent:
		return errs.E(op, errs.Invalid, "empty welcome message", e)
	case codeContentTooLong:
		return errs.E(op, errs.TooLarge, "welcome message too long", e)
	}
	return common(op, e)
}

func wxacodeError(op string, e *apiError) error {
	switch e.ErrCode {
	case codeInvalidScene:
		return errs.E(op, errs.Invalid, "invalid mini-program code scene", e)
	case codeInvalidPage:
		return errs.E(op, errs.Invalid, "mini-program page not released", e)
	case codeInvalidArgs:
		return errs.E(op, errs.Invalid, "invalid mini-program code request", e)
	case codeDailyQuota:
		// wxacode reports its per-minute quota (5,000) as 45009.
		return errs.E(op, errs.RateLimited, "too many mini-program codes, retry in a minute", e)
	}
	return common(op, e)
}

func qrCreateError(op string, e *apiError) error {
	switch e.ErrCode {
	case codeBadActionInfo, codeBadActionName:
		return errs.E(op, errs.Invalid, "invalid QR code scene", e)
	}
	return common(op, e)
}
