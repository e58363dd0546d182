package wxsim

import (
	"net/http"
	"strconv"
	"time"
)

// Follower is a user's relation with an Official Account, as
// /cgi-bin/user/info tells it.
type Follower struct {
	AppID      string
	OpenID     string
	UnionID    string // Empty when the account is unbound or the user has none.
	Subscribed bool
	Since      time.Time // The last follow: subscribe_time.
	Scene      string    // subscribe_scene, e.g. SceneQRCode.
	QRScene    int       // qr_scene: the scene_id of a parameterized QR code.
	QRSceneStr string    // qr_scene_str: the scene_str of a parameterized QR code.
}

// The subscribe_scene values the Sim uses (WeChat has more).
const (
	SceneSearch = "ADD_SCENE_SEARCH"  // Found by search.
	SceneQRCode = "ADD_SCENE_QR_CODE" // Scanned a (parameterized) QR code.
	SceneOthers = "ADD_SCENE_OTHERS"
)

// ErrMissingOpenID is user/info's answer without an openid.
const ErrMissingOpenID = 41009

func (s *Sim) routeOfficialAccount() {
	s.mux.HandleFunc("GET /cgi-bin/user/info", s.serveUserInfo)
}

// Follow makes a named user follow an Official Account now: through a
// parameterized QR code with scene string scene (EventKey "qrscene_"+scene),
// or by search when scene is empty. Following again renews the time and
// scene. The push side sends the matching subscribe event; Follow only
// changes what user/info answers.
func (s *Sim) Follow(appid, name, scene string) Follower {
	s.mu.Lock()
	union := unionFor(s.apps[appid], s.userLocked(name))
	s.mu.Unlock()
	f := Follower{AppID: appid, OpenID: OpenID(appid, name), UnionID: union, Scene: SceneSearch}
	if scene != "" {
		f.Scene, f.QRSceneStr = SceneQRCode, scene
	}
	return s.FollowAs(f)
}

// FollowAs records f as a follower now (Subscribed and Since are set by the
// Sim), for tests that need a raw openid, a numeric QR scene or another
// subscribe_scene. An empty Scene means SceneOthers.
func (s *Sim) FollowAs(f Follower) Follower {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.Subscribed, f.Since = true, s.nowLocked()
	if f.Scene == "" {
		f.Scene = SceneOthers
	}
	s.followers[f.AppID+"/"+f.OpenID] = &f
	return f
}

// Unfollow records that openid unfollowed the account; user/info then
// answers subscribe 0. It reports whether openid was following.
func (s *Sim) Unfollow(appid, openid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.followers[appid+"/"+openid]
	if !ok || !f.Subscribed {
		return false
	}
	f.Subscribed = false
	return true
}

// Followers lists the account's current and former followers in openid
// order.
func (s *Sim) Followers(appid string) []Follower {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Follower{}
	for _, k := range sortedKeys(s.followers) {
		if f := s.followers[k]; f.AppID == appid {
			out = append(out, *f)
		}
	}
	return out
}

// unionOf finds the unionid of a known user's openid in an app that never
// followed. Called with s.mu held.
func (s *Sim) unionOf(appid, openid string) string {
	for name := range s.names {
		if OpenID(appid, name) == openid {
			return unionFor(s.apps[appid], s.userLocked(name))
		}
	}
	for _, c := range s.codes {
		if c.appid == appid && c.openid == openid {
			return c.unionid
		}
	}
	return ""
}

func (s *Sim) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	appid, code, msg := s.CheckToken(q.Get("access_token"))
	if code != 0 {
		WriteErr(w, code, msg)
		return
	}
	openid := q.Get("openid")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case openid == "":
		WriteErr(w, ErrMissingOpenID, "missing openid")
		return
	case !s.openidKnown(appid, openid):
		WriteErr(w, ErrInvalidOpenID, "invalid openid")
		return
	}
	f, ok := s.followers[appid+"/"+openid]
	if !ok || !f.Subscribed {
		union := s.unionOf(appid, openid)
		if ok {
			union = f.UnionID
		}
		body := map[string]any{"subscribe": 0, "openid": openid, "tagid_list": []int{}}
		if union != "" {
			body["unionid"] = union
		}
		WriteJSON(w, body)
		return
	}
	lang := q.Get("lang")
	if lang == "" {
		lang = "zh_CN"
	}
	body := map[string]any{
		"subscribe": 1, "openid": openid, "language": lang, "subscribe_time": f.Since.Unix(),
		"remark": "", "groupid": 0, "tagid_list": []int{},
		"subscribe_scene": f.Scene, "qr_scene": f.QRScene, "qr_scene_str": f.QRSceneStr,
	}
	if f.UnionID != "" {
		body["unionid"] = f.UnionID
	}
	WriteJSON(w, body)
}

// serveFollow is POST /sim/oa/follow: appid, user (or openid [+ unionid]),
// scene (the QR scene string), scene_id (a numeric QR scene) and
// subscribe_scene (default: ADD_SCENE_QR_CODE with a scene, else
// ADD_SCENE_SEARCH).
func (s *Sim) serveFollow(w http.ResponseWriter, r *http.Request) {
	id, ok := s.identity(w, r)
	if !ok {
		return
	}
	f := Follower{AppID: id.AppID, OpenID: id.OpenID, UnionID: id.UnionID, Scene: SceneSearch,
		QRSceneStr: r.FormValue("scene")}
	if v := r.FormValue("scene_id"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			controlErr(w, http.StatusBadRequest, "scene_id must be a positive integer")
			return
		}
		f.QRScene = n
	}
	if f.QRSceneStr != "" || f.QRScene != 0 {
		f.Scene = SceneQRCode
	}
	if v := r.FormValue("subscribe_scene"); v != "" {
		f.Scene = v
	}
	WriteJSON(w, followerBody(s.FollowAs(f)))
}

func (s *Sim) serveUnfollow(w http.ResponseWriter, r *http.Request) {
	id, ok := s.identity(w, r)
	if !ok {
		return
	}
	WriteJSON(w, map[string]any{"openid": id.OpenID, "was_following": s.Unfollow(id.AppID, id.OpenID)})
}

func (s *Sim) serveFollowers(w http.ResponseWriter, r *http.Request) {
	out := []FollowerBody{}
	for _, f := range s.Followers(r.FormValue("appid")) {
		out = append(out, followerBody(f))
	}
	WriteJSON(w, map[string][]FollowerBody{"followers": out})
}

// FollowerBody is a Follower as the /sim/oa/ controls answer it.
type FollowerBody struct {
	AppID         string `json:"appid"`
	OpenID        string `json:"openid"`
	UnionID       string `json:"unionid,omitempty"`
	Subscribe     int    `json:"subscribe"`
	SubscribeTime int64  `json:"subscribe_time"`
	Scene         string `json:"subscribe_scene"`
	QRScene       int    `json:"qr_scene"`
	QRSceneStr    string `json:"qr_scene_str"`
}

func followerBody(f Follower) FollowerBody {
	b := FollowerBody{AppID: f.AppID, OpenID: f.OpenID, UnionID: f.UnionID, SubscribeTime: f.Since.Unix(),
		Scene: f.Scene, QRScene: f.QRScene, QRSceneStr: f.QRSceneStr}
	if f.Subscribed {
		b.Subscribe = 1
	}
	return b
}
