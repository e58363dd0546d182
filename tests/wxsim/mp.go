package wxsim

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"time"
)

func (s *Sim) routeMiniProgram() {
	s.mux.HandleFunc("GET /sns/jscode2session", s.serveCode2Session)
	s.mux.HandleFunc("POST /wxa/business/getuserphonenumber", s.servePhoneNumber)
}

// sessionAnswer is jscode2session's success body.
type sessionAnswer struct {
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
	UnionID    string `json:"unionid,omitempty"`
}

func (s *Sim) serveCode2Session(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	appid, jsCode := q.Get("appid"), q.Get("js_code")
	s.mu.Lock()
	defer s.mu.Unlock()
	if code, msg := s.checkApp(appid, q.Get("secret")); code != 0 {
		if code == ErrMissingAppID {
			code, msg = ErrInvalidAppID, "invalid appid"
		}
		WriteErr(w, code, msg)
		return
	}
	if q.Get("grant_type") != "authorization_code" {
		WriteErr(w, ErrInvalidGrantType, "invalid grant_type")
		return
	}
	if jsCode == "" {
		WriteErr(w, ErrMissingCode, "missing code")
		return
	}
	now := s.nowLocked()
	if s.overLimit("app/"+appid, s.limits.Code2SessionPerApp, now) {
		WriteErr(w, ErrMinuteQuota, "api minute-quota reach limit, must slower, retry next minute")
		return
	}
	c, ok := s.codes[jsCode]
	switch {
	case !ok || c.appid != appid:
		WriteErr(w, ErrInvalidCode, "invalid code")
		return
	case c.used:
		WriteErr(w, ErrCodeBeenUsed, "code been used")
		return
	case now.Sub(c.issued) >= CodeTTL:
		WriteErr(w, ErrInvalidCode, "invalid code")
		return
	}
	if s.overLimit("user/"+appid+"/"+c.openid, s.limits.Code2SessionPerUser, now) {
		WriteErr(w, ErrMinuteQuota, "api minute-quota reach limit, must slower, retry next minute")
		return
	}
	c.used = true
	s.calls[EventSessionIssued]++
	WriteJSON(w, sessionAnswer{OpenID: c.openid, SessionKey: s.sessionKey(), UnionID: c.unionid})
}

// overLimit counts one call against a per-minute bucket and reports whether
// it is over limit (0: unlimited). Called with s.mu held.
func (s *Sim) overLimit(key string, limit int, now time.Time) bool {
	if limit <= 0 {
		return false
	}
	bucket := key + "@" + now.UTC().Truncate(time.Minute).Format(time.RFC3339)
	s.minute[bucket]++
	return s.minute[bucket] > limit
}

// sessionKey draws a session_key: base64 of 16 random bytes, as WeChat's.
func (s *Sim) sessionKey() string {
	b := make([]byte, 16)
	if _, err := io.ReadFull(s.rnd, b); err != nil {
		panic("wxsim: randomness failed: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(b)
}

// phoneRequest is the body of getuserphonenumber.
type phoneRequest struct {
	Code   string `json:"code"`
	OpenID string `json:"openid"` // Optional: checked against the code's user.
}

// PhoneInfo is getuserphonenumber's phone_info object.
type PhoneInfo struct {
	PhoneNumber     string    `json:"phoneNumber"`     // With the country code for foreign numbers.
	PurePhoneNumber string    `json:"purePhoneNumber"` // Without it.
	CountryCode     string    `json:"countryCode"`
	Watermark       Watermark `json:"watermark"`
}

// Watermark ties phone_info to an app and a moment.
type Watermark struct {
	Timestamp int64  `json:"timestamp"`
	AppID     string `json:"appid"`
}

type phoneAnswer struct {
	ErrCode   int       `json:"errcode"`
	ErrMsg    string    `json:"errmsg"`
	PhoneInfo PhoneInfo `json:"phone_info"`
}

func (s *Sim) servePhoneNumber(w http.ResponseWriter, r *http.Request) {
	appid, code, msg := s.CheckToken(r.URL.Query().Get("access_token"))
	if code != 0 {
		WriteErr(w, code, msg)
		return
	}
	var req phoneRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		WriteErr(w, ErrBadJSON, "data format error")
		return
	}
	if req.Code == "" {
		WriteErr(w, ErrMissingCode, "missing code")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	c, ok := s.phones[req.Code]
	if !ok || c.appid != appid || c.used || now.Sub(c.issued) >= CodeTTL ||
		(req.OpenID != "" && req.OpenID != c.openid) {
		WriteErr(w, ErrInvalidCode, "invalid code")
		return
	}
	c.used = true
	s.calls[EventPhoneNumberIssued]++
	cc, pure := splitPhone(c.phone)
	full := pure
	if cc != "86" {
		full = "+" + cc + " " + pure
	}
	WriteJSON(w, phoneAnswer{ErrMsg: "ok", PhoneInfo: PhoneInfo{
		PhoneNumber: full, PurePhoneNumber: pure, CountryCode: cc,
		Watermark: Watermark{Timestamp: now.Unix(), AppID: appid},
	}})
}
