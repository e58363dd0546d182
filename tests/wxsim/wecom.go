package wxsim

import (
	"encoding/json"
	"net/http"
	"time"
)

// WelcomeCodeTTL is how long after the add-contact event a welcome_code can
// be used, as on WeCom (20 s). An older code is answered 41050, WeCom's
// "invalid welcome code": its errcode list has no separate one for expiry.
const WelcomeCodeTTL = 20 * time.Second

// MaxWelcomeText is the longest welcome text WeCom takes (4000 bytes).
const MaxWelcomeText = 4000

// Contact is a WeCom external contact: a WeChat user who added members of a
// corp.
type Contact struct {
	CorpID         string
	ExternalUserID string
	Name           string
	UnionID        string // Empty when the corp is unbound.
	Follows        []FollowUser
}

// FollowUser is a corp member an external contact added (follow_user).
type FollowUser struct {
	UserID string
	State  string // The contact way's state, e.g. a channel or an inviter.
	Added  time.Time
}

// WelcomeMessage is a welcome message sent through send_welcome_msg.
type WelcomeMessage struct {
	CorpID         string    `json:"corpid"`
	WelcomeCode    string    `json:"welcome_code"`
	ExternalUserID string    `json:"external_userid"`
	UserID         string    `json:"userid"`
	Text           string    `json:"text"`
	Attachments    int       `json:"attachments"`
	SentAt         time.Time `json:"sent_at"`
}

type welcomeCode struct {
	corpid, externalUserID, userID string
	issued                         time.Time
	used                           bool
}

// ExternalUserID derives the external_userid a named user has in a corp:
// 32 characters starting with "wm", the same on every run.
func ExternalUserID(corpid, name string) string {
	return "wm" + digest("external_userid", corpid, name)[:30]
}

func wecomKey(corpid string) string { return "wecom/" + corpid }

func (s *Sim) routeWeCom() {
	s.mux.HandleFunc("GET /cgi-bin/gettoken", s.serveGetToken)
	s.mux.HandleFunc("GET /cgi-bin/externalcontact/get", s.serveExternalContact)
	s.mux.HandleFunc("POST /cgi-bin/externalcontact/send_welcome_msg", s.serveSendWelcome)
}

// ErrNotContact is WeCom's answer about a customer no member has any more
// (84061, "not external contact").
const ErrNotContact = 84061

// AddContact has a named user add the corp member userID through a contact
// way carrying state, now, and returns the contact and the fresh
// welcome_code WeCom pushes with the add_external_contact event (usable once,
// within WelcomeCodeTTL). Adding the same member again renews the follow.
func (s *Sim) AddContact(corpid, name, userID, state string) (Contact, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	id := ExternalUserID(corpid, name)
	c, ok := s.contacts[corpid+"/"+id]
	if !ok {
		c = &Contact{CorpID: corpid, ExternalUserID: id, Name: name, UnionID: unionFor(s.corps[corpid], s.userLocked(name))}
		s.contacts[corpid+"/"+id] = c
	}
	f := FollowUser{UserID: userID, State: state, Added: now}
	replaced := false
	for i := range c.Follows {
		if c.Follows[i].UserID == userID {
			c.Follows[i], replaced = f, true
		}
	}
	if !replaced {
		c.Follows = append(c.Follows, f)
	}
	code := s.randHex(24)
	s.welcomes[code] = &welcomeCode{corpid: corpid, externalUserID: id, userID: userID, issued: now}
	return copyContact(c), code
}

// RemoveFollow records that the member userID and the contact are no longer
// connected (del_follow_user or del_external_contact); once no member is
// left, externalcontact/get answers 84061. It reports whether they were.
func (s *Sim) RemoveFollow(corpid, externalUserID, userID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.contacts[corpid+"/"+externalUserID]
	if !ok {
		return false
	}
	for i, f := range c.Follows {
		if f.UserID == userID {
			c.Follows = append(c.Follows[:i:i], c.Follows[i+1:]...)
			return true
		}
	}
	return false
}

// ContactOf returns a corp's external contact.
func (s *Sim) ContactOf(corpid, externalUserID string) (Contact, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.contacts[corpid+"/"+externalUserID]
	if !ok {
		return Contact{}, false
	}
	return copyContact(c), true
}

func copyContact(c *Contact) Contact {
	out := *c
	out.Follows = append([]FollowUser(nil), c.Follows...)
	return out
}

// WelcomeMessages lists the welcome messages sent to a corp's contacts, in
// the order sent; an empty corpid lists every corp's.
func (s *Sim) WelcomeMessages(corpid string) []WelcomeMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []WelcomeMessage{}
	for _, m := range s.sentWel {
		if corpid == "" || m.CorpID == corpid {
			out = append(out, m)
		}
	}
	return out
}

// wecomAnswer is WeCom's gettoken success body.
type wecomTokenAnswer struct {
	ErrCode     int    `json:"errcode"`
	ErrMsg      string `json:"errmsg"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// serveGetToken is WeCom's gettoken: within a token's validity every call
// answers the same token, as WeCom documents.
func (s *Sim) serveGetToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	corpid, secret := q.Get("corpid"), q.Get("corpsecret")
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.corps[corpid]
	switch {
	case corpid == "":
		WriteErr(w, ErrMissingAppID, "corpid missing")
		return
	case !ok:
		WriteErr(w, ErrInvalidAppID, "invalid corpid")
		return
	case secret == "":
		WriteErr(w, ErrMissingSecret, "corpsecret missing")
		return
	case secret != c.Secret:
		WriteErr(w, ErrInvalidCredential, "invalid credential")
		return
	}
	now := s.nowLocked()
	st := s.state(wecomKey(corpid))
	if st.plain == nil || !st.plain.live(now) {
		st.plain = s.issueWeCom(corpid, now)
		s.calls[EventWeComTokenIssued]++
	}
	WriteJSON(w, wecomTokenAnswer{ErrMsg: "ok", AccessToken: st.plain.value, ExpiresIn: int64(st.plain.expires.Sub(now) / time.Second)})
}

// externalContactAnswer is externalcontact/get's success body.
type externalContactAnswer struct {
	ErrCode         int                 `json:"errcode"`
	ErrMsg          string              `json:"errmsg"`
	ExternalContact externalContactBody `json:"external_contact"`
	FollowUser      []followUserBody    `json:"follow_user"`
	NextCursor      string              `json:"next_cursor"`
}

type externalContactBody struct {
	ExternalUserID string `json:"external_userid"`
	Name           string `json:"name"`
	Avatar         string `json:"avatar"`
	Type           int    `json:"type"` // 1: a WeChat user.
	Gender         int    `json:"gender"`
	UnionID        string `json:"unionid,omitempty"`
}

type followUserBody struct {
	UserID      string   `json:"userid"`
	Remark      string   `json:"remark"`
	Description string   `json:"description"`
	CreateTime  int64    `json:"createtime"`
	Tags        []string `json:"tags"`
	AddWay      int      `json:"add_way"` // 1: scanned a contact way's QR code.
	OperUserID  string   `json:"oper_userid"`
	State       string   `json:"state,omitempty"`
}

func (s *Sim) serveExternalContact(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	corpid, code, msg := s.CheckWeComToken(q.Get("access_token"))
	if code != 0 {
		WriteErr(w, code, msg)
		return
	}
	id := q.Get("external_userid")
	if id == "" {
		WriteErr(w, ErrMissingExternalID, "missing external userid")
		return
	}
	c, ok := s.ContactOf(corpid, id)
	switch {
	case !ok:
		WriteErr(w, ErrInvalidExternalID, "invalid external userid")
		return
	case len(c.Follows) == 0:
		WriteErr(w, ErrNotContact, "not external contact")
		return
	}
	a := externalContactAnswer{ErrMsg: "ok", FollowUser: []followUserBody{}, ExternalContact: externalContactBody{
		ExternalUserID: c.ExternalUserID, Name: c.Name, Type: 1, UnionID: c.UnionID,
	}}
	for _, f := range c.Follows {
		a.FollowUser = append(a.FollowUser, followUserBody{UserID: f.UserID, CreateTime: f.Added.Unix(),
			Tags: []string{}, AddWay: 1, OperUserID: c.ExternalUserID, State: f.State})
	}
	WriteJSON(w, a)
}

// welcomeRequest is send_welcome_msg's body.
type welcomeRequest struct {
	WelcomeCode string `json:"welcome_code"`
	Text        struct {
		Content string `json:"content"`
	} `json:"text"`
	Attachments []json.RawMessage `json:"attachments"`
}

func (s *Sim) serveSendWelcome(w http.ResponseWriter, r *http.Request) {
	corpid, code, msg := s.CheckWeComToken(r.URL.Query().Get("access_token"))
	if code != 0 {
		WriteErr(w, code, msg)
		return
	}
	var req welcomeRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		WriteErr(w, ErrBadJSON, "data format error")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	wc, ok := s.welcomes[req.WelcomeCode]
	switch {
	case req.WelcomeCode == "":
		WriteErr(w, ErrMissingWelcome, "missing welcome code")
		return
	case !ok || wc.corpid != corpid:
		WriteErr(w, ErrInvalidWelcome, "invalid welcome code")
		return
	case wc.used:
		WriteErr(w, ErrWelcomeUsed, "externaluser has started chatting")
		return
	case now.Sub(wc.issued) >= WelcomeCodeTTL:
		WriteErr(w, ErrInvalidWelcome, "invalid welcome code")
		return
	case req.Text.Content == "" && len(req.Attachments) == 0:
		WriteErr(w, ErrEmptyContent, "empty content")
		return
	case len(req.Text.Content) > MaxWelcomeText:
		WriteErr(w, ErrContentTooLong, "content size out of limit")
		return
	}
	wc.used = true
	s.sentWel = append(s.sentWel, WelcomeMessage{CorpID: corpid, WelcomeCode: req.WelcomeCode,
		ExternalUserID: wc.externalUserID, UserID: wc.userID, Text: req.Text.Content,
		Attachments: len(req.Attachments), SentAt: now})
	s.calls[EventWelcomeSent]++
	WriteJSON(w, ErrBody{ErrMsg: "ok"})
}

func (s *Sim) serveAddCorp(w http.ResponseWriter, r *http.Request) {
	corpid, secret := r.FormValue("corpid"), r.FormValue("secret")
	if corpid == "" || secret == "" {
		controlErr(w, http.StatusBadRequest, "give corpid and secret")
		return
	}
	s.AddCorp(corpid, secret, r.FormValue("unbound") == "true")
	WriteJSON(w, map[string]string{"corpid": corpid})
}

// ContactAdded is the answer of POST /sim/wecom/contact.
type ContactAdded struct {
	CorpID         string `json:"corpid"`
	ExternalUserID string `json:"external_userid"`
	UnionID        string `json:"unionid,omitempty"`
	UserID         string `json:"userid"`
	State          string `json:"state"`
	WelcomeCode    string `json:"welcome_code"`
}

// serveAddContact is POST /sim/wecom/contact: corpid, user (a name), userid
// (the member added), state.
func (s *Sim) serveAddContact(w http.ResponseWriter, r *http.Request) {
	corpid, name, userID, state := r.FormValue("corpid"), r.FormValue("user"), r.FormValue("userid"), r.FormValue("state")
	if _, ok := s.Corp(corpid); !ok {
		controlErr(w, http.StatusNotFound, "unknown corpid; register it with POST /sim/corps")
		return
	}
	if name == "" || userID == "" {
		controlErr(w, http.StatusBadRequest, "give user and userid")
		return
	}
	c, code := s.AddContact(corpid, name, userID, state)
	WriteJSON(w, ContactAdded{CorpID: corpid, ExternalUserID: c.ExternalUserID, UnionID: c.UnionID,
		UserID: userID, State: state, WelcomeCode: code})
}

// serveRemoveFollow is POST /sim/wecom/remove: corpid, external_userid (or
// user, a name), userid.
func (s *Sim) serveRemoveFollow(w http.ResponseWriter, r *http.Request) {
	corpid, id := r.FormValue("corpid"), r.FormValue("external_userid")
	if id == "" && r.FormValue("user") != "" {
		id = ExternalUserID(corpid, r.FormValue("user"))
	}
	if !s.RemoveFollow(corpid, id, r.FormValue("userid")) {
		controlErr(w, http.StatusNotFound, "no such contact and member")
		return
	}
	WriteJSON(w, map[string]string{"external_userid": id, "removed": r.FormValue("userid")})
}

func (s *Sim) serveWelcomeMessages(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, map[string][]WelcomeMessage{"messages": s.WelcomeMessages(r.FormValue("corpid"))})
}
