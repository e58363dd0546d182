package wxsim_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/wemember/wemember/tests/wxsim"
)

const tplPoints = "tpl-points-expiring"

func sendSub(t *testing.T, base, tok string, body map[string]any) answer {
	t.Helper()
	return postJSON(t, base+"/cgi-bin/message/subscribe/send?access_token="+url.QueryEscape(tok), body)
}

func subBody(openid, tpl string) map[string]any {
	return map[string]any{
		"touser": openid, "template_id": tpl, "page": "pages/points/index?from=msg",
		"data":              map[string]any{"thing1": map[string]string{"value": "积分即将过期"}, "number2": map[string]any{"value": 120}},
		"miniprogram_state": "formal", "lang": "zh_CN",
	}
}

func TestSubscribeSend(t *testing.T) {
	sim, base := start(t)
	tok := stable(t, base, false).AccessToken
	alice := sim.AcceptSubscribeFor(appA, "alice", tplPoints, 2)
	if alice != wxsim.OpenID(appA, "alice") || sim.SubscribeAllowance(appA, alice, tplPoints) != 2 {
		t.Fatalf("AcceptSubscribeFor = %q, allowance %d", alice, sim.SubscribeAllowance(appA, alice, tplPoints))
	}
	sim.LoginCodeFor(appA, "bob") // Known to the app, never accepted anything.
	bob := wxsim.OpenID(appA, "bob")

	bad := func(mut func(map[string]any)) map[string]any {
		b := subBody(alice, tplPoints)
		mut(b)
		return b
	}
	for _, tc := range []struct {
		name string
		body map[string]any
		want int
	}{
		{"first of two acceptances", subBody(alice, tplPoints), 0},
		{"second of two acceptances", subBody(alice, tplPoints), 0},
		{"acceptances used up", subBody(alice, tplPoints), wxsim.ErrUserRefused},
		{"never accepted", subBody(bob, tplPoints), wxsim.ErrUserRefused},
		{"accepted another template only", subBody(alice, "tpl-other"), wxsim.ErrUserRefused},
		{"openid of another app", subBody(wxsim.OpenID(appB, "alice"), tplPoints), wxsim.ErrInvalidOpenID},
		{"empty template", subBody(alice, ""), wxsim.ErrInvalidTemplateID},
		{"empty value", bad(func(b map[string]any) { b["data"] = map[string]any{"thing1": map[string]string{"value": ""}} }), wxsim.ErrArgumentInvalid},
		{"no data", bad(func(b map[string]any) { delete(b, "data") }), wxsim.ErrArgumentInvalid},
		{"bad state", bad(func(b map[string]any) { b["miniprogram_state"] = "beta" }), wxsim.ErrArgumentInvalid},
		{"bad lang", bad(func(b map[string]any) { b["lang"] = "fr" }), wxsim.ErrArgumentInvalid},
	} {
		if got := sendSub(t, base, tok, tc.body); got.ErrCode != tc.want {
			t.Errorf("%s: errcode %d (%s), want %d", tc.name, got.ErrCode, got.ErrMsg, tc.want)
		}
	}
	if got := sendSub(t, base, "nope", subBody(alice, tplPoints)); got.ErrCode != wxsim.ErrInvalidCredential {
		t.Errorf("bad token: errcode %d", got.ErrCode)
	}
	msgs := sim.SubscribeMessages(appA)
	if len(msgs) != 2 {
		t.Fatalf("messages = %+v, want 2", msgs)
	}
	m := msgs[0]
	if m.ToUser != alice || m.TemplateID != tplPoints || m.Page != "pages/points/index?from=msg" ||
		m.Data["thing1"] != "积分即将过期" || m.Data["number2"] != "120" || m.MiniProgramState != "formal" || m.Lang != "zh_CN" {
		t.Errorf("message = %+v", m)
	}
	if got := sim.SubscribeAllowance(appA, alice, tplPoints); got != 0 {
		t.Errorf("allowance after two sends = %d", got)
	}
	if len(sim.SubscribeMessages(appB)) != 0 {
		t.Error("messages listed under the wrong app")
	}
}

func TestSubscribeControls(t *testing.T) {
	sim, base := start(t)
	res, err := http.PostForm(base+"/sim/mp/subscribe", url.Values{"appid": {appA}, "user": {"carol"}, "template_id": {tplPoints}, "times": {"3"}})
	if err != nil {
		t.Fatal(err)
	}
	var acc struct {
		OpenID    string `json:"openid"`
		Allowance int    `json:"allowance"`
	}
	decode(t, res, &acc)
	if acc.OpenID != wxsim.OpenID(appA, "carol") || acc.Allowance != 3 {
		t.Fatalf("accept control = %+v", acc)
	}
	tok := stable(t, base, false).AccessToken
	if got := sendSub(t, base, tok, subBody(acc.OpenID, tplPoints)); got.ErrCode != 0 {
		t.Fatalf("send after the control: %+v", got)
	}
	if got := sim.SubscribeAllowance(appA, acc.OpenID, tplPoints); got != 2 {
		t.Errorf("allowance after one send = %d, want 2", got)
	}
	var list struct {
		Messages []wxsim.SubscribeMessage `json:"messages"`
	}
	getInto(t, base+"/sim/mp/subscribe-messages?appid="+appA, &list)
	if len(list.Messages) != 1 || list.Messages[0].ToUser != acc.OpenID {
		t.Errorf("subscribe-messages = %+v", list)
	}
	for _, form := range []url.Values{
		{"appid": {appA}, "user": {"carol"}},
		{"appid": {appA}, "user": {"carol"}, "template_id": {"t"}, "times": {"0"}},
	} {
		res, err := http.PostForm(base+"/sim/mp/subscribe", form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%v: status %d, want 400", form, res.StatusCode)
		}
	}
}
