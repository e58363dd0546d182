package wxsim_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/wemember/wemember/tests/wxsim"
)

func stable(t *testing.T, base string, force bool) answer {
	t.Helper()
	return postJSON(t, base+"/cgi-bin/stable_token", map[string]any{
		"grant_type": "client_credential", "appid": appA, "secret": secretA, "force_refresh": force,
	})
}

func plainToken(t *testing.T, base string) answer {
	t.Helper()
	q := url.Values{"grant_type": {"client_credential"}, "appid": {appA}, "secret": {secretA}}
	return get(t, base+"/cgi-bin/token?"+q.Encode())
}

// tokenCode is the errcode a token gets from an API that checks it.
func tokenCode(sim *wxsim.Sim, tok string) int {
	_, code, _ := sim.CheckToken(tok)
	return code
}

func TestPlainToken(t *testing.T) {
	sim, base := start(t)
	first := plainToken(t, base)
	if first.AccessToken == "" || first.ExpiresIn != 7200 {
		t.Fatalf("first = %+v, want a token with expires_in 7200", first)
	}
	st := stable(t, base, false)
	sim.Advance(time.Minute)
	second := plainToken(t, base)
	if second.AccessToken == first.AccessToken {
		t.Fatal("second call returned the same token")
	}
	if got := tokenCode(sim, first.AccessToken); got != 0 {
		t.Errorf("old token right after refresh: errcode %d, want 0", got)
	}
	sim.Advance(5 * time.Minute)
	if got := tokenCode(sim, first.AccessToken); got != wxsim.ErrInvalidCredential {
		t.Errorf("old token 5 min after refresh: errcode %d, want 40001", got)
	}
	if got := tokenCode(sim, second.AccessToken); got != 0 {
		t.Errorf("new token: errcode %d", got)
	}
	if got := tokenCode(sim, st.AccessToken); got != 0 {
		t.Errorf("stable token after /cgi-bin/token refreshes: errcode %d, want 0 (independent)", got)
	}
	sim.Advance(2 * time.Hour)
	if got := tokenCode(sim, second.AccessToken); got != wxsim.ErrTokenExpired {
		t.Errorf("token after 2h: errcode %d, want 42001", got)
	}
	for _, tc := range []struct {
		q    url.Values
		want int
	}{
		{url.Values{"grant_type": {"client_credential"}, "appid": {appA}, "secret": {"x"}}, wxsim.ErrInvalidSecret},
		{url.Values{"grant_type": {"client_credential"}, "appid": {"wxnope"}, "secret": {"x"}}, wxsim.ErrInvalidAppID},
		{url.Values{"grant_type": {"password"}, "appid": {appA}, "secret": {secretA}}, wxsim.ErrInvalidGrantType},
	} {
		if got := get(t, base+"/cgi-bin/token?"+tc.q.Encode()); got.ErrCode != tc.want || got.AccessToken != "" {
			t.Errorf("%v: %+v, want errcode %d", tc.q, got, tc.want)
		}
	}
	if got := sim.Calls(wxsim.EventTokenIssued); got != 2 {
		t.Errorf("tokens issued = %d, want 2", got)
	}
}

func TestStableToken(t *testing.T) {
	sim, base := start(t, wxsim.WithLimits(wxsim.Limits{StableForcePerDay: 2}))
	first := stable(t, base, false)
	if first.AccessToken == "" || first.ExpiresIn != 7200 {
		t.Fatalf("first = %+v", first)
	}
	sim.Advance(10 * time.Minute)
	again := stable(t, base, false)
	if again.AccessToken != first.AccessToken || again.ExpiresIn != 7200-600 {
		t.Fatalf("normal mode 10 min later = %+v, want the same token with expires_in 6600", again)
	}
	plain := plainToken(t, base)
	if got := stable(t, base, false); got.AccessToken != first.AccessToken {
		t.Fatal("/cgi-bin/token changed the stable token")
	}
	// In the last five minutes normal mode hands out a new token and the old
	// one works until it expires.
	sim.Advance(7200*time.Second - 10*time.Minute - 4*time.Minute)
	renewed := stable(t, base, false)
	if renewed.AccessToken == first.AccessToken || renewed.ExpiresIn != 7200 {
		t.Fatalf("normal mode in the last 5 min = %+v, want a new token", renewed)
	}
	if got := tokenCode(sim, first.AccessToken); got != 0 {
		t.Errorf("old stable token before its expiry: errcode %d", got)
	}
	if got := tokenCode(sim, plain.AccessToken); got != 0 {
		t.Errorf("plain token after stable renewal: errcode %d", got)
	}
	forced := stable(t, base, true)
	if forced.AccessToken == renewed.AccessToken {
		t.Fatal("force_refresh returned the same token")
	}
	if got := tokenCode(sim, renewed.AccessToken); got != wxsim.ErrInvalidCredential {
		t.Errorf("token replaced by force_refresh: errcode %d, want 40001", got)
	}
	if got := stable(t, base, true); got.AccessToken != forced.AccessToken {
		t.Error("force_refresh within 30s refreshed")
	}
	sim.Advance(31 * time.Second)
	if got := stable(t, base, true); got.AccessToken == forced.AccessToken || got.ErrCode != 0 {
		t.Errorf("second force_refresh = %+v, want a new token", got)
	}
	sim.Advance(31 * time.Second)
	if got := stable(t, base, true); got.ErrCode != wxsim.ErrDailyQuota {
		t.Errorf("third force_refresh of the day: errcode %d, want 45009", got.ErrCode)
	}
	sim.Advance(24 * time.Hour)
	if got := stable(t, base, true); got.ErrCode != 0 || got.AccessToken == "" {
		t.Errorf("force_refresh next day = %+v", got)
	}
	if got, want := sim.Calls(wxsim.EventStableForced), 3; got != want {
		t.Errorf("forced refreshes = %d, want %d", got, want)
	}
	for _, body := range []map[string]any{
		{"grant_type": "client_credential", "appid": appA, "secret": "x"},
		{"grant_type": "client_credential", "appid": "wxnope", "secret": secretA},
	} {
		if got := postJSON(t, base+"/cgi-bin/stable_token", body); got.ErrCode == 0 || got.AccessToken != "" {
			t.Errorf("%v: %+v, want a refusal", body, got)
		}
	}
	if got := do(t, http.MethodPost, base+"/cgi-bin/stable_token", []byte("{"), "application/json"); got.ErrCode != wxsim.ErrBadJSON {
		t.Errorf("bad JSON: errcode %d", got.ErrCode)
	}
}
