package wxsim_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/tests/wxsim"
)

const corpA, corpSecretA = "ww0000000000000000a", "corp-secret-a"

func getToken(t *testing.T, base, corpid, secret string) answer {
	t.Helper()
	return get(t, base+"/cgi-bin/gettoken?"+url.Values{"corpid": {corpid}, "corpsecret": {secret}}.Encode())
}

// contactBody is externalcontact/get's body.
type contactBody struct {
	ErrCode         int `json:"errcode"`
	ExternalContact struct {
		ExternalUserID string  `json:"external_userid"`
		Name           string  `json:"name"`
		Type           int     `json:"type"`
		UnionID        *string `json:"unionid"`
	} `json:"external_contact"`
	FollowUser []struct {
		UserID     string `json:"userid"`
		State      string `json:"state"`
		CreateTime int64  `json:"createtime"`
	} `json:"follow_user"`
}

func TestWeComToken(t *testing.T) {
	sim, base := start(t)
	sim.AddCorp(corpA, corpSecretA, false)
	first := getToken(t, base, corpA, corpSecretA)
	if first.ErrCode != 0 || first.AccessToken == "" || first.ExpiresIn != 7200 {
		t.Fatalf("gettoken = %+v", first)
	}
	sim.Advance(time.Hour)
	again := getToken(t, base, corpA, corpSecretA)
	if again.AccessToken != first.AccessToken || again.ExpiresIn != 3600 {
		t.Fatalf("gettoken within validity = %+v, want the same token with 3600s left", again)
	}
	if _, code, _ := sim.CheckWeComToken(first.AccessToken); code != 0 {
		t.Errorf("CheckWeComToken = %d", code)
	}
	// A WeCom token is no token on api.weixin.qq.com, and the other way round.
	if _, code, _ := sim.CheckToken(first.AccessToken); code != wxsim.ErrInvalidCredential {
		t.Errorf("WeCom token on api: errcode %d, want 40001", code)
	}
	mp := stable(t, base, false).AccessToken
	if _, code, _ := sim.CheckWeComToken(mp); code != wxsim.ErrInvalidToken {
		t.Errorf("mini-program token on qyapi: errcode %d, want 40014", code)
	}
	sim.Advance(time.Hour)
	if _, code, _ := sim.CheckWeComToken(first.AccessToken); code != wxsim.ErrTokenExpired {
		t.Errorf("token after 2h: errcode %d, want 42001", code)
	}
	renewed := getToken(t, base, corpA, corpSecretA)
	if renewed.AccessToken == first.AccessToken || renewed.ExpiresIn != 7200 {
		t.Errorf("gettoken after expiry = %+v, want a new token", renewed)
	}
	sim.RevokeTokens(corpA)
	if _, code, _ := sim.CheckWeComToken(renewed.AccessToken); code != wxsim.ErrInvalidToken {
		t.Errorf("revoked: errcode %d, want 40014", code)
	}
	if got := getToken(t, base, corpA, corpSecretA); got.AccessToken == renewed.AccessToken || got.AccessToken == "" {
		t.Errorf("gettoken after revocation = %+v, want a new token", got)
	}
	for _, tc := range []struct {
		corpid, secret string
		want           int
	}{
		{"", "x", wxsim.ErrMissingAppID},
		{"wwnope", "x", wxsim.ErrInvalidAppID},
		{corpA, "", wxsim.ErrMissingSecret},
		{corpA, "wrong", wxsim.ErrInvalidCredential},
	} {
		if got := getToken(t, base, tc.corpid, tc.secret); got.ErrCode != tc.want || got.AccessToken != "" {
			t.Errorf("gettoken(%q, %q) = %+v, want errcode %d", tc.corpid, tc.secret, got, tc.want)
		}
	}
	if got := sim.Calls(wxsim.EventWeComTokenIssued); got != 3 {
		t.Errorf("WeCom tokens issued = %d, want 3", got)
	}
}

func TestExternalContact(t *testing.T) {
	sim, base := start(t)
	sim.AddCorp(corpA, corpSecretA, false)
	sim.AddCorp("wwunbound", "s", true)
	tok := getToken(t, base, corpA, corpSecretA).AccessToken
	c, code := sim.AddContact(corpA, "alice", "sales1", "inv_ABC")
	if c.ExternalUserID != wxsim.ExternalUserID(corpA, "alice") || len(c.ExternalUserID) != 32 || code == "" {
		t.Fatalf("AddContact = %+v, %q", c, code)
	}
	sim.Advance(time.Minute)
	sim.AddContact(corpA, "alice", "sales2", "")
	var got contactBody
	q := url.Values{"access_token": {tok}, "external_userid": {c.ExternalUserID}}
	getInto(t, base+"/cgi-bin/externalcontact/get?"+q.Encode(), &got)
	if got.ErrCode != 0 || got.ExternalContact.ExternalUserID != c.ExternalUserID || got.ExternalContact.Name != "alice" ||
		got.ExternalContact.Type != 1 || got.ExternalContact.UnionID == nil || *got.ExternalContact.UnionID != wxsim.UnionID("alice") {
		t.Fatalf("contact = %+v", got)
	}
	if len(got.FollowUser) != 2 || got.FollowUser[0].UserID != "sales1" || got.FollowUser[0].State != "inv_ABC" ||
		got.FollowUser[1].UserID != "sales2" || got.FollowUser[1].CreateTime != sim.Now().Unix() {
		t.Fatalf("follow_user = %+v", got.FollowUser)
	}
	other := getToken(t, base, "wwunbound", "s").AccessToken
	u, _ := sim.AddContact("wwunbound", "alice", "x", "")
	if u.ExternalUserID == c.ExternalUserID || u.UnionID != "" {
		t.Errorf("contact in an unbound corp = %+v, want another id and no unionid", u)
	}
	for _, tc := range []struct {
		name, tok, id string
		want          int
	}{
		{"other corp's contact", other, c.ExternalUserID, wxsim.ErrInvalidExternalID},
		{"unknown", tok, "wmnobody", wxsim.ErrInvalidExternalID},
		{"missing", tok, "", wxsim.ErrMissingExternalID},
		{"mini-program token", stable(t, base, false).AccessToken, c.ExternalUserID, wxsim.ErrInvalidToken},
	} {
		var got contactBody
		q := url.Values{"access_token": {tc.tok}, "external_userid": {tc.id}}
		getInto(t, base+"/cgi-bin/externalcontact/get?"+q.Encode(), &got)
		if got.ErrCode != tc.want || got.ExternalContact.ExternalUserID != "" {
			t.Errorf("%s: %+v, want errcode %d", tc.name, got, tc.want)
		}
	}
}

func TestRemoveFollow(t *testing.T) {
	sim, base := start(t)
	sim.AddCorp(corpA, corpSecretA, false)
	tok := getToken(t, base, corpA, corpSecretA).AccessToken
	c, _ := sim.AddContact(corpA, "alice", "sales1", "")
	sim.AddContact(corpA, "alice", "sales2", "")
	fetch := func() contactBody {
		var got contactBody
		getInto(t, base+"/cgi-bin/externalcontact/get?"+url.Values{"access_token": {tok}, "external_userid": {c.ExternalUserID}}.Encode(), &got)
		return got
	}
	if !sim.RemoveFollow(corpA, c.ExternalUserID, "sales1") || sim.RemoveFollow(corpA, c.ExternalUserID, "sales1") {
		t.Fatal("RemoveFollow: want true then false")
	}
	if got := fetch(); got.ErrCode != 0 || len(got.FollowUser) != 1 || got.FollowUser[0].UserID != "sales2" {
		t.Fatalf("after removing sales1: %+v", got)
	}
	postForm(t, base+"/sim/wecom/remove", url.Values{"corpid": {corpA}, "user": {"alice"}, "userid": {"sales2"}})
	if got := fetch(); got.ErrCode != wxsim.ErrNotContact {
		t.Fatalf("after removing every member: errcode %d, want 84061", got.ErrCode)
	}
}

func welcome(t *testing.T, base, tok, code, text string) answer {
	t.Helper()
	body := map[string]any{"welcome_code": code, "text": map[string]string{"content": text}}
	return postJSON(t, base+"/cgi-bin/externalcontact/send_welcome_msg?access_token="+url.QueryEscape(tok), body)
}

func TestSendWelcome(t *testing.T) {
	sim, base := start(t)
	sim.AddCorp(corpA, corpSecretA, false)
	sim.AddCorp("wwother", "s", false)
	tok := getToken(t, base, corpA, corpSecretA).AccessToken
	_, code := sim.AddContact(corpA, "alice", "sales1", "inv")
	if got := welcome(t, base, tok, code, "欢迎! 10元券已到账"); got.ErrCode != 0 || got.ErrMsg != "ok" {
		t.Fatalf("first send = %+v", got)
	}
	_, late := sim.AddContact(corpA, "bob", "sales1", "")
	_, foreign := sim.AddContact("wwother", "dave", "x", "")
	sim.Advance(wxsim.WelcomeCodeTTL)
	_, edge := sim.AddContact(corpA, "erin", "sales1", "")
	for _, tc := range []struct {
		name, code, text string
		want             int
	}{
		{"second send, same code", code, "again", wxsim.ErrWelcomeUsed},
		{"20 s old", late, "hi", wxsim.ErrInvalidWelcome},
		{"other corp's code", foreign, "hi", wxsim.ErrInvalidWelcome},
		{"unknown code", "nope", "hi", wxsim.ErrInvalidWelcome},
		{"missing code", "", "hi", wxsim.ErrMissingWelcome},
		{"empty text", edge, "", wxsim.ErrEmptyContent},
		{"text too long", edge, strings.Repeat("x", wxsim.MaxWelcomeText+1), wxsim.ErrContentTooLong},
		{"refusals did not use the code", edge, "hello erin", 0},
	} {
		if got := welcome(t, base, tok, tc.code, tc.text); got.ErrCode != tc.want {
			t.Errorf("%s: errcode %d (%s), want %d", tc.name, got.ErrCode, got.ErrMsg, tc.want)
		}
	}
	msgs := sim.WelcomeMessages(corpA)
	if len(msgs) != 2 || msgs[0].WelcomeCode != code || msgs[0].Text != "欢迎! 10元券已到账" ||
		msgs[0].ExternalUserID != wxsim.ExternalUserID(corpA, "alice") || msgs[0].UserID != "sales1" ||
		msgs[1].Text != "hello erin" {
		t.Fatalf("welcome messages = %+v", msgs)
	}
	if got := sim.Calls(wxsim.EventWelcomeSent); got != 2 {
		t.Errorf("welcomes sent = %d, want 2", got)
	}
}

func TestWeComControls(t *testing.T) {
	sim, base := start(t)
	postForm(t, base+"/sim/corps", url.Values{"corpid": {corpA}, "secret": {corpSecretA}})
	if _, ok := sim.Corp(corpA); !ok {
		t.Fatal("POST /sim/corps did not register the corp")
	}
	var added wxsim.ContactAdded
	res, err := http.PostForm(base+"/sim/wecom/contact", url.Values{"corpid": {corpA}, "user": {"alice"}, "userid": {"sales1"}, "state": {"ch_poster"}})
	if err != nil {
		t.Fatal(err)
	}
	decode(t, res, &added)
	if added.ExternalUserID != wxsim.ExternalUserID(corpA, "alice") || added.WelcomeCode == "" ||
		added.UnionID != wxsim.UnionID("alice") || added.State != "ch_poster" {
		t.Fatalf("contact control = %+v", added)
	}
	tok := getToken(t, base, corpA, corpSecretA).AccessToken
	if got := welcome(t, base, tok, added.WelcomeCode, "hi"); got.ErrCode != 0 {
		t.Fatalf("welcome with the control's code: %+v", got)
	}
	var list struct {
		Messages []wxsim.WelcomeMessage `json:"messages"`
	}
	getInto(t, base+"/sim/wecom/welcome-messages?corpid="+corpA, &list)
	if len(list.Messages) != 1 || list.Messages[0].Text != "hi" {
		t.Errorf("welcome-messages = %+v", list)
	}
	res, err = http.PostForm(base+"/sim/wecom/contact", url.Values{"corpid": {"wwnope"}, "user": {"a"}, "userid": {"b"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown corp: status %d, want 404", res.StatusCode)
	}
}

// TestHandleHosts checks a path that both hosts serve is routed by the kind
// of token.
func TestHandleHosts(t *testing.T) {
	sim, base := start(t)
	sim.AddCorp(corpA, corpSecretA, false)
	named := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, name) })
	}
	sim.HandleHosts("GET /cgi-bin/user/get", named("api"), named("wecom"))
	wecomTok := getToken(t, base, corpA, corpSecretA).AccessToken
	apiTok := stable(t, base, false).AccessToken
	for _, tc := range []struct{ query, want string }{
		{"access_token=" + url.QueryEscape(wecomTok) + "&userid=zhangsan", "wecom"},
		{"access_token=" + url.QueryEscape(apiTok) + "&next_openid=", "api"},
		{"access_token=unknown", "api"},
		{"corpid=" + corpA, "wecom"},
	} {
		res, err := http.Get(base + "/cgi-bin/user/get?" + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if got := string(b); got != tc.want {
			t.Errorf("%s: routed to %q, want %q", tc.query, got, tc.want)
		}
	}
}
