package e2e_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/wemember/wemember/tests/backends"
	"github.com/wemember/wemember/tests/wxsim"
)

// TestEndToEndLoginRateLimit sends mp-login the default 100 logins from one
// address within 10 minutes, garbage codes all: each costs WeChat a call.
// The 101st is refused with 429 and Retry-After before WeChat is asked, so
// its code is still good when the window has passed; another address is not
// affected.
func TestEndToEndLoginRateLimit(t *testing.T) {
	backends.Run(t, func(t *testing.T, b backends.Backend) {
		e := newEnv(t, b)
		const limit = 100 // The identity rules' default login limit.
		wechatCalls := func() int { return sim.Calls("/sns/jscode2session") }
		before := wechatCalls()
		for i := range limit {
			r := e.do("POST", "/mp-login", "", fmt.Appendf(nil, `{"code":"garbage-%d"}`, i))
			if r.Status != http.StatusBadRequest {
				t.Fatalf("garbage login %d: %d %s; want 400", i+1, r.Status, r.Body)
			}
		}
		if got := wechatCalls() - before; got != limit {
			t.Fatalf("WeChat got %d calls for %d logins", got, limit)
		}

		openid := wxsim.OpenID(mpAppID, "over-limit-"+b.Name)
		code := sim.LoginCode(mpAppID, openid, "")
		resp, err := e.http.Client().Post(e.http.URL+"/mp-login", "application/json", bytes.NewReader([]byte(`{"code":"`+code+`"}`)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("login %d: %d %s; want 429", limit+1, resp.StatusCode, body)
		}
		wait, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if err != nil || wait < 1 || wait > 600 {
			t.Errorf("Retry-After = %q; want 1 to 600 seconds", resp.Header.Get("Retry-After"))
		}
		if got := wechatCalls() - before; got != limit {
			t.Errorf("WeChat got %d calls for %d allowed logins and a refused one; want %d", got, limit, limit)
		}

		// Another address (the fixture's) logs in meanwhile.
		other := sim.LoginCode(mpAppID, wxsim.OpenID(mpAppID, "other-address-"+b.Name), "")
		if r := e.invoke("mp-login", "lambda-function-url.json", map[string]string{"code": other}); r.Status != http.StatusOK {
			t.Errorf("login from another address: %d %s; want 200", r.Status, r.Body)
		}

		// The refused code was never sent to WeChat: it works in the next window.
		e.clock.Advance(time.Duration(wait) * time.Second)
		if r := e.do("POST", "/mp-login", "", []byte(`{"code":"`+code+`"}`)); r.Status != http.StatusOK {
			t.Errorf("refused code after the window: %d %s; want 200", r.Status, r.Body)
		}
	})
}
