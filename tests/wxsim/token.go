package wxsim

import (
	"encoding/json"
	"net/http"
	"time"
)

// TokenTTL is the lifetime of an access token: expires_in 7200.
const TokenTTL = 7200 * time.Second

// RefreshOverlap is how long a token replaced by /cgi-bin/token keeps
// working, and how early stable_token's normal mode replaces a token.
const RefreshOverlap = 5 * time.Minute

// ForceRefreshMinInterval is the gap WeChat requires between two
// force_refresh calls; a closer call returns the current token unchanged.
const ForceRefreshMinInterval = 30 * time.Second

type token struct {
	value   string
	appid   string    // The app, or for a WeCom token the corp.
	wecom   bool      // Issued by qyapi's gettoken; only WeCom APIs take it.
	expires time.Time // Natural end: 42001 after it.
	revoked time.Time // Zero, or when a refresh made it stop: 40001 after it.
}

// tokenState is an app's current tokens. The /cgi-bin/token and the
// stable_token families are independent: refreshing one leaves the other be.
type tokenState struct {
	plain, stable *token
	lastForce     time.Time
}

func (s *Sim) routeTokens() {
	s.mux.HandleFunc("GET /cgi-bin/token", s.serveToken)
	s.mux.HandleFunc("POST /cgi-bin/stable_token", s.serveStableToken)
}

// tokenAnswer is the success body of both token APIs.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// checkApp validates appid and secret the way the token APIs do. Called with
// s.mu held; returns an errcode and errmsg, or 0.
func (s *Sim) checkApp(appid, secret string) (int, string) {
	switch a, ok := s.apps[appid]; {
	case appid == "":
		return ErrMissingAppID, "appid missing"
	case !ok:
		return ErrInvalidAppID, "invalid appid"
	case secret == "":
		return ErrMissingSecret, "appsecret missing"
	case secret != a.Secret:
		return ErrInvalidSecret, "invalid appsecret"
	}
	return 0, ""
}

func (s *Sim) state(appid string) *tokenState {
	st, ok := s.current[appid]
	if !ok {
		st = &tokenState{}
		s.current[appid] = st
	}
	return st
}

// issue creates a token. Called with s.mu held.
func (s *Sim) issue(appid string, now time.Time) *token {
	t := &token{value: s.randHex(48), appid: appid, expires: now.Add(TokenTTL)}
	s.tokens[t.value] = t
	return t
}

// issueWeCom creates a WeCom token. Called with s.mu held.
func (s *Sim) issueWeCom(corpid string, now time.Time) *token {
	t := &token{value: s.randHex(48), appid: corpid, wecom: true, expires: now.Add(TokenTTL)}
	s.tokens[t.value] = t
	return t
}

// revokeAt makes t stop working at the given time unless it stops sooner.
func (t *token) revokeAt(at time.Time) {
	if t.revoked.IsZero() || at.Before(t.revoked) {
		t.revoked = at
	}
}

func (t *token) live(now time.Time) bool {
	return now.Before(t.expires) && (t.revoked.IsZero() || now.Before(t.revoked))
}

func (s *Sim) serveToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	if q.Get("grant_type") != "client_credential" {
		WriteErr(w, ErrInvalidGrantType, "invalid grant_type")
		return
	}
	appid := q.Get("appid")
	if code, msg := s.checkApp(appid, q.Get("secret")); code != 0 {
		WriteErr(w, code, msg)
		return
	}
	now := s.nowLocked()
	st := s.state(appid)
	if st.plain != nil {
		st.plain.revokeAt(now.Add(RefreshOverlap))
	}
	st.plain = s.issue(appid, now)
	s.calls[EventTokenIssued]++
	WriteJSON(w, tokenAnswer{AccessToken: st.plain.value, ExpiresIn: int64(TokenTTL / time.Second)})
}

// stableRequest is the body of POST /cgi-bin/stable_token.
type stableRequest struct {
	GrantType    string `json:"grant_type"`
	AppID        string `json:"appid"`
	Secret       string `json:"secret"`
	ForceRefresh bool   `json:"force_refresh"`
}

func (s *Sim) serveStableToken(w http.ResponseWriter, r *http.Request) {
	var req stableRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		WriteErr(w, ErrBadJSON, "data format error")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.GrantType != "client_credential" {
		WriteErr(w, ErrInvalidGrantType, "invalid grant_type")
		return
	}
	if code, msg := s.checkApp(req.AppID, req.Secret); code != 0 {
		WriteErr(w, code, msg)
		return
	}
	now := s.nowLocked()
	st := s.state(req.AppID)
	cur := st.stable
	switch {
	case req.ForceRefresh && cur != nil && cur.live(now) && now.Sub(st.lastForce) < ForceRefreshMinInterval:
		// Too soon after the last forced refresh: WeChat does not refresh.
	case req.ForceRefresh:
		day := req.AppID + now.UTC().Format("/2006-01-02")
		if lim := s.limits.StableForcePerDay; lim > 0 && s.forceDay[day] >= lim {
			WriteErr(w, ErrDailyQuota, "reach max api daily quota limit")
			return
		}
		s.forceDay[day]++
		if cur != nil {
			cur.revokeAt(now.Add(s.limits.ForceRefreshGrace))
		}
		st.stable, st.lastForce = s.issue(req.AppID, now), now
		s.calls[EventStableIssued]++
		s.calls[EventStableForced]++
	case cur == nil || !cur.live(now) || cur.expires.Sub(now) <= RefreshOverlap:
		// Normal mode renews a token in its last five minutes; the old one
		// keeps working until it expires.
		st.stable = s.issue(req.AppID, now)
		s.calls[EventStableIssued]++
	}
	t := st.stable
	WriteJSON(w, tokenAnswer{AccessToken: t.value, ExpiresIn: int64(t.expires.Sub(now) / time.Second)})
}

// CheckToken validates an access_token query parameter as the APIs of
// api.weixin.qq.com do and returns the app it belongs to, or an errcode and
// errmsg: 41001 missing, 40001 unknown, replaced or a WeCom token, 42001
// expired.
func (s *Sim) CheckToken(value string) (appid string, errcode int, errmsg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	t, ok := s.tokens[value]
	switch {
	case value == "":
		return "", ErrMissingToken, "access_token missing"
	case !ok || t.wecom || (!t.revoked.IsZero() && !now.Before(t.revoked)):
		return "", ErrInvalidCredential, "invalid credential, access_token is invalid or not latest"
	case !now.Before(t.expires):
		return "", ErrTokenExpired, "access_token expired"
	}
	return t.appid, 0, ""
}

// CheckWeComToken validates an access_token query parameter as the APIs of
// qyapi.weixin.qq.com do and returns the corp it belongs to, or an errcode
// and errmsg: 41001 missing, 40014 unknown, revoked or not a WeCom token,
// 42001 expired.
func (s *Sim) CheckWeComToken(value string) (corpid string, errcode int, errmsg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	t, ok := s.tokens[value]
	switch {
	case value == "":
		return "", ErrMissingToken, "access_token missing"
	case !ok || !t.wecom || (!t.revoked.IsZero() && !now.Before(t.revoked)):
		return "", ErrInvalidToken, "invalid access_token"
	case !now.Before(t.expires):
		return "", ErrTokenExpired, "access_token expired"
	}
	return t.appid, 0, ""
}

// IsWeComToken reports whether value is a token issued by WeCom's gettoken,
// live or not. HandleHosts uses it to route a path both hosts serve.
func (s *Sim) IsWeComToken(value string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[value]
	return ok && t.wecom
}

// RevokeTokens makes every token of an app or WeCom corp stop working at
// once and forgets the current ones, as if the token had been reset
// elsewhere; the next call to a token API issues a new token. Tests use it to
// provoke 40001 (40014 on WeCom).
func (s *Sim) RevokeTokens(appid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	for _, t := range s.tokens {
		if t.appid == appid {
			t.revokeAt(now)
		}
	}
	delete(s.current, appid)
	delete(s.current, wecomKey(appid))
}
