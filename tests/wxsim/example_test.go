package wxsim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/wemember/wemember/tests/wxsim"
)

// A test registers its mini-program, has "alice" log in, and exchanges the
// code as the server would; wechat.UseAPIBase(srv.URL) points silenceper at
// the same server.
func Example() {
	sim := wxsim.New()
	sim.AddApp("wx0123456789abcdef", "secret")
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()

	code := sim.LoginCodeFor("wx0123456789abcdef", "alice")
	q := url.Values{"appid": {"wx0123456789abcdef"}, "secret": {"secret"}, "js_code": {code}, "grant_type": {"authorization_code"}}
	for range 2 {
		res, err := http.Get(srv.URL + "/sns/jscode2session?" + q.Encode())
		if err != nil {
			panic(err)
		}
		var body struct {
			OpenID  string `json:"openid"`
			ErrCode int    `json:"errcode"`
		}
		_ = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		fmt.Println(body.OpenID == wxsim.OpenID("wx0123456789abcdef", "alice"), body.ErrCode)
	}
	fmt.Println(sim.Calls("/sns/jscode2session"))
	// Output:
	// true 0
	// false 40163
	// 2
}
