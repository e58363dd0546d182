package boot

import (
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/wechat"
	"github.com/wemember/wemember/shared/wxoa"
	"github.com/wemember/wemember/shared/wxwork"
)

// OfficialAccount builds what the oa-callback function needs from the
// configuration: the Official Account's API client (access tokens shared
// in the store) and its push edge on the functions' clock. An account
// configured with an EncodingAESKey refuses plain-mode pushes, whose body no
// signature covers. A missing appid or token, or a malformed key, is
// errs.Invalid.
func (d *Deps) OfficialAccount() (*wechat.OfficialAccount, *wxoa.Server, error) {
	const op = "boot.OfficialAccount"
	c := d.Config
	if c.OAAppID == "" || c.OAToken == "" || c.OAAESKey == "" {
		return nil, nil, errs.E(op, errs.Invalid, "WEMEMBER_OA_APPID, WEMEMBER_OA_TOKEN and WEMEMBER_OA_AES_KEY must be configured")
	}
	srv, err := wxoa.New(wxoa.Config{Token: c.OAToken, EncodingAESKey: c.OAAESKey, AppID: c.OAAppID, Now: d.Now, RequireAES: true})
	if err != nil {
		return nil, nil, errs.E(op, err)
	}
	client := wechat.NewOfficialAccount(c.OAAppID, c.OASecret, wechat.NewTokenSource(d.Store, c.OAAppID, c.OASecret))
	return client, srv, nil
}

// WeCom builds what the wecom-callback function needs from the
// configuration: the corp's customer-contact API client (access tokens
// shared in the store) and its callback edge on the functions' clock. A
// missing corp id or token, or a malformed key, is errs.Invalid.
func (d *Deps) WeCom() (*wechat.WeCom, *wxwork.Server, error) {
	const op = "boot.WeCom"
	c := d.Config
	if c.WeComCorpID == "" || c.WeComToken == "" || c.WeComAESKey == "" {
		return nil, nil, errs.E(op, errs.Invalid, "WEMEMBER_WECOM_CORPID, WEMEMBER_WECOM_TOKEN and WEMEMBER_WECOM_AES_KEY must be configured")
	}
	srv, err := wxwork.New(wxwork.Config{Token: c.WeComToken, EncodingAESKey: c.WeComAESKey, CorpID: c.WeComCorpID, Now: d.Now})
	if err != nil {
		return nil, nil, errs.E(op, err)
	}
	client := wechat.NewWeCom(c.WeComCorpID, c.WeComSecret, wechat.NewWeComTokenSource(d.Store, c.WeComCorpID, c.WeComSecret))
	return client, srv, nil
}
