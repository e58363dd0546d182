package wxsim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// SubscribeMessage is a mini-program subscribe message sent through
// /cgi-bin/message/subscribe/send.
type SubscribeMessage struct {
	AppID            string            `json:"appid"`
	ToUser           string            `json:"touser"`
	TemplateID       string            `json:"template_id"`
	Page             string            `json:"page,omitempty"`
	Data             map[string]string `json:"data"` // Keyword → value.
	MiniProgramState string            `json:"miniprogram_state,omitempty"`
	Lang             string            `json:"lang,omitempty"`
	SentAt           time.Time         `json:"sent_at"`
}

func (s *Sim) routeSubscribe() {
	s.mux.HandleFunc("POST /cgi-bin/message/subscribe/send", s.serveSubscribeSend)
}

func acceptKey(appid, openid, templateID string) string {
	return appid + "/" + openid + "/" + templateID
}

// AcceptSubscribe records that a mini-program user accepted a template n
// times (wx.requestSubscribeMessage): each acceptance lets the app send one
// message of that template, as on WeChat.
func (s *Sim) AcceptSubscribe(appid, openid, templateID string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accepts[acceptKey(appid, openid, templateID)] += n
}

// AcceptSubscribeFor is AcceptSubscribe for a named user; it returns the
// user's openid.
func (s *Sim) AcceptSubscribeFor(appid, name, templateID string, n int) string {
	s.mu.Lock()
	s.userLocked(name)
	s.mu.Unlock()
	openid := OpenID(appid, name)
	s.AcceptSubscribe(appid, openid, templateID, n)
	return openid
}

// SubscribeAllowance is how many more messages of a template the app may
// send the user.
func (s *Sim) SubscribeAllowance(appid, openid, templateID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepts[acceptKey(appid, openid, templateID)]
}

// SubscribeMessages lists the subscribe messages an app sent, in order; an
// empty appid lists every app's.
func (s *Sim) SubscribeMessages(appid string) []SubscribeMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []SubscribeMessage{}
	for _, m := range s.sentSub {
		if appid == "" || m.AppID == appid {
			out = append(out, m)
		}
	}
	return out
}

// subscribeRequest is the body of subscribe/send.
type subscribeRequest struct {
	ToUser     string `json:"touser"`
	TemplateID string `json:"template_id"`
	Page       string `json:"page"`
	Data       map[string]struct {
		Value any `json:"value"`
	} `json:"data"`
	MiniProgramState string `json:"miniprogram_state"`
	Lang             string `json:"lang"`
}

func validState(v string) bool {
	switch v {
	case "", "developer", "trial", "formal":
		return true
	}
	return false
}

func validLang(v string) bool {
	switch v {
	case "", "zh_CN", "en_US", "zh_HK", "zh_TW":
		return true
	}
	return false
}

func (s *Sim) serveSubscribeSend(w http.ResponseWriter, r *http.Request) {
	appid, code, msg := s.CheckToken(r.URL.Query().Get("access_token"))
	if code != 0 {
		WriteErr(w, code, msg)
		return
	}
	var req subscribeRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		WriteErr(w, ErrBadJSON, "data format error")
		return
	}
	data := map[string]string{}
	for k, v := range req.Data {
		var str string
		switch x := v.Value.(type) {
		case string:
			str = x
		case float64:
			str = strconv.FormatFloat(x, 'f', -1, 64)
		}
		if str == "" {
			WriteErr(w, ErrArgumentInvalid, "argument invalid! data."+k+".value invalid")
			return
		}
		data[k] = str
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := acceptKey(appid, req.ToUser, req.TemplateID)
	switch {
	case !s.openidKnown(appid, req.ToUser):
		WriteErr(w, ErrInvalidOpenID, "invalid openid")
		return
	case req.TemplateID == "":
		WriteErr(w, ErrInvalidTemplateID, "invalid template_id")
		return
	case len(data) == 0:
		WriteErr(w, ErrArgumentInvalid, "argument invalid! data is empty")
		return
	case !validState(req.MiniProgramState):
		WriteErr(w, ErrArgumentInvalid, "argument invalid! miniprogram_state invalid")
		return
	case !validLang(req.Lang):
		WriteErr(w, ErrArgumentInvalid, "argument invalid! lang invalid")
		return
	case s.accepts[key] <= 0:
		WriteErr(w, ErrUserRefused, "user refuse to accept the msg")
		return
	}
	s.accepts[key]--
	s.sentSub = append(s.sentSub, SubscribeMessage{AppID: appid, ToUser: req.ToUser, TemplateID: req.TemplateID,
		Page: req.Page, Data: data, MiniProgramState: req.MiniProgramState, Lang: req.Lang, SentAt: s.nowLocked()})
	s.calls[EventSubscribeSent]++
	WriteJSON(w, ErrBody{ErrMsg: "ok"})
}

// serveAccept is POST /sim/mp/subscribe: appid, user (or openid),
// template_id, times (default 1).
func (s *Sim) serveAccept(w http.ResponseWriter, r *http.Request) {
	id, ok := s.identity(w, r)
	if !ok {
		return
	}
	tpl := r.FormValue("template_id")
	n := 1
	if v := r.FormValue("times"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			controlErr(w, http.StatusBadRequest, "times must be a positive integer")
			return
		}
	}
	if tpl == "" {
		controlErr(w, http.StatusBadRequest, "give template_id")
		return
	}
	s.AcceptSubscribe(id.AppID, id.OpenID, tpl, n)
	WriteJSON(w, map[string]any{"openid": id.OpenID, "template_id": tpl,
		"allowance": s.SubscribeAllowance(id.AppID, id.OpenID, tpl)})
}

func (s *Sim) serveSubscribeMessages(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, map[string][]SubscribeMessage{"messages": s.SubscribeMessages(r.FormValue("appid"))})
}
