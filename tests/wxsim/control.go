package wxsim

import (
	"encoding/json"
	"net/http"
	"time"
)

// The /sim/ routes are the simulator's own controls, not WeChat's. They take
// form values (query string or url-encoded body) and answer JSON; failures
// answer 400 or 404 with {"error": "..."}.
func (s *Sim) routeControls() {
	s.mux.HandleFunc("POST /sim/mp/code", s.serveNewLoginCode)
	s.mux.HandleFunc("POST /sim/mp/phone-code", s.serveNewPhoneCode)
	s.mux.HandleFunc("GET /sim/user", s.serveUser)
	s.mux.HandleFunc("GET /sim/stats", s.serveStats)
	s.mux.HandleFunc("POST /sim/stats/reset", func(w http.ResponseWriter, r *http.Request) {
		s.ResetStats()
		WriteJSON(w, map[string]bool{"ok": true})
	})
	s.mux.HandleFunc("GET /sim/apps", s.serveApps)
	s.mux.HandleFunc("POST /sim/apps", s.serveAddApp)
	s.mux.HandleFunc("POST /sim/tokens/revoke", s.serveRevoke)
	s.mux.HandleFunc("POST /sim/clock/advance", s.serveAdvance)
	s.mux.HandleFunc("POST /sim/oa/follow", s.serveFollow)
	s.mux.HandleFunc("POST /sim/oa/unfollow", s.serveUnfollow)
	s.mux.HandleFunc("GET /sim/oa/followers", s.serveFollowers)
	s.mux.HandleFunc("POST /sim/corps", s.serveAddCorp)
	s.mux.HandleFunc("POST /sim/wecom/contact", s.serveAddContact)
	s.mux.HandleFunc("POST /sim/wecom/remove", s.serveRemoveFollow)
	s.mux.HandleFunc("GET /sim/wecom/welcome-messages", s.serveWelcomeMessages)
	s.mux.HandleFunc("POST /sim/mp/subscribe", s.serveAccept)
	s.mux.HandleFunc("GET /sim/mp/subscribe-messages", s.serveSubscribeMessages)
}

// ControlError is the body of a failed /sim/ call.
type ControlError struct {
	Error string `json:"error"`
}

func controlErr(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(ControlError{Error: msg})
}

// Identity is how the controls name a user of an app.
type Identity struct {
	AppID   string `json:"appid"`
	User    string `json:"user,omitempty"`
	OpenID  string `json:"openid"`
	UnionID string `json:"unionid,omitempty"`
	Phone   string `json:"phone,omitempty"`
}

// identity reads appid and either user (a name) or openid (+ unionid, phone).
func (s *Sim) identity(w http.ResponseWriter, r *http.Request) (Identity, bool) {
	id := Identity{
		AppID: r.FormValue("appid"), User: r.FormValue("user"), OpenID: r.FormValue("openid"),
		UnionID: r.FormValue("unionid"), Phone: r.FormValue("phone"),
	}
	if _, ok := s.App(id.AppID); !ok {
		controlErr(w, http.StatusNotFound, "unknown appid; register it with POST /sim/apps")
		return id, false
	}
	switch {
	case id.User != "":
		s.mu.Lock()
		u := s.userLocked(id.User)
		union := unionFor(s.apps[id.AppID], u)
		s.mu.Unlock()
		id.OpenID = OpenID(id.AppID, id.User)
		if id.UnionID == "" {
			id.UnionID = union
		}
		if id.Phone == "" {
			id.Phone = u.Phone
		}
	case id.OpenID == "":
		controlErr(w, http.StatusBadRequest, "give user or openid")
		return id, false
	}
	return id, true
}

func (s *Sim) serveNewLoginCode(w http.ResponseWriter, r *http.Request) {
	id, ok := s.identity(w, r)
	if !ok {
		return
	}
	WriteJSON(w, struct {
		Code string `json:"code"`
		Identity
	}{s.LoginCode(id.AppID, id.OpenID, id.UnionID), id})
}

func (s *Sim) serveNewPhoneCode(w http.ResponseWriter, r *http.Request) {
	id, ok := s.identity(w, r)
	if !ok {
		return
	}
	if id.Phone == "" {
		controlErr(w, http.StatusBadRequest, "give phone or user")
		return
	}
	WriteJSON(w, struct {
		Code string `json:"code"`
		Identity
	}{s.PhoneCode(id.AppID, id.OpenID, id.Phone), id})
}

func (s *Sim) serveUser(w http.ResponseWriter, r *http.Request) {
	if r.FormValue("user") == "" {
		controlErr(w, http.StatusBadRequest, "give user")
		return
	}
	if id, ok := s.identity(w, r); ok {
		WriteJSON(w, id)
	}
}

// StatsBody is the answer of GET /sim/stats.
type StatsBody struct {
	Calls map[string]int `json:"calls"` // Requests by path, and named events.
	Now   time.Time      `json:"now"`
}

func (s *Sim) serveStats(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, StatsBody{Calls: s.Stats(), Now: s.Now()})
}

func (s *Sim) serveApps(w http.ResponseWriter, r *http.Request) {
	ids := []string{}
	for _, a := range s.Apps() {
		ids = append(ids, a.AppID)
	}
	WriteJSON(w, map[string][]string{"appids": ids})
}

func (s *Sim) serveAddApp(w http.ResponseWriter, r *http.Request) {
	appid, secret := r.FormValue("appid"), r.FormValue("secret")
	if appid == "" || secret == "" {
		controlErr(w, http.StatusBadRequest, "give appid and secret")
		return
	}
	s.AddApp(appid, secret)
	WriteJSON(w, map[string]string{"appid": appid})
}

func (s *Sim) serveRevoke(w http.ResponseWriter, r *http.Request) {
	appid := r.FormValue("appid")
	_, app := s.App(appid)
	if _, corp := s.Corp(appid); !app && !corp {
		controlErr(w, http.StatusNotFound, "unknown appid or corpid")
		return
	}
	s.RevokeTokens(appid)
	WriteJSON(w, map[string]string{"revoked": appid})
}

func (s *Sim) serveAdvance(w http.ResponseWriter, r *http.Request) {
	d, err := time.ParseDuration(r.FormValue("by"))
	if err != nil || d < 0 {
		controlErr(w, http.StatusBadRequest, "give by=<positive Go duration>, e.g. 6m")
		return
	}
	s.Advance(d)
	WriteJSON(w, map[string]time.Time{"now": s.Now()})
}
