package wxsim

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// The rules of the Official Account's parameterized QR codes
// (/cgi-bin/qrcode/create).
const (
	// QRDefaultExpire is a temporary code's life when expire_seconds is
	// absent.
	QRDefaultExpire = 60 * time.Second
	// QRMaxExpire is the longest life of a temporary code (30 days); a
	// longer expire_seconds is cut to it.
	QRMaxExpire = 2592000 * time.Second
	// QRMaxSceneStr is the longest scene_str, in bytes.
	QRMaxSceneStr = 64
	// QRMaxLimitSceneID is the largest scene_id of a permanent code.
	QRMaxLimitSceneID = 100000
)

// The errcodes of qrcode/create besides the token ones.
const (
	ErrInvalidActionName = 40052 // action_name missing or unknown
	ErrInvalidActionInfo = 40053 // scene_id or scene_str missing or out of range
)

// The action names of qrcode/create.
const (
	ActionScene         = "QR_SCENE"           // Temporary, numeric scene.
	ActionStrScene      = "QR_STR_SCENE"       // Temporary, string scene.
	ActionLimitScene    = "QR_LIMIT_SCENE"     // Permanent, numeric scene.
	ActionLimitStrScene = "QR_LIMIT_STR_SCENE" // Permanent, string scene.
)

// QRTicket is a parameterized QR code the Sim created: following the
// Official Account by scanning it carries its scene (see ScanQR).
type QRTicket struct {
	AppID    string
	Ticket   string
	URL      string    // The address the code holds, http://weixin.qq.com/q/….
	SceneStr string    // The string scene, or "".
	SceneID  int       // The numeric scene, or 0.
	Expires  time.Time // Zero for a permanent code.
}

// qrCreateRequest is qrcode/create's body.
type qrCreateRequest struct {
	ExpireSeconds *int64 `json:"expire_seconds"`
	ActionName    string `json:"action_name"`
	ActionInfo    struct {
		Scene struct {
			SceneStr string `json:"scene_str"`
			SceneID  int64  `json:"scene_id"`
		} `json:"scene"`
	} `json:"action_info"`
}

// qrCreateAnswer is qrcode/create's success body: no errcode, and no
// expire_seconds for a permanent code.
type qrCreateAnswer struct {
	Ticket        string `json:"ticket"`
	ExpireSeconds int64  `json:"expire_seconds,omitempty"`
	URL           string `json:"url"`
}

// serveQRCreate is POST /cgi-bin/qrcode/create.
func (s *Sim) serveQRCreate(w http.ResponseWriter, r *http.Request) {
	appid, code, msg := s.CheckToken(r.URL.Query().Get("access_token"))
	if code != 0 {
		WriteErr(w, code, msg)
		return
	}
	var req qrCreateRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		WriteErr(w, ErrBadJSON, "data format error")
		return
	}
	sc := req.ActionInfo.Scene
	t := QRTicket{AppID: appid}
	temporary := false
	switch req.ActionName {
	case ActionScene:
		temporary = true
		if sc.SceneID <= 0 || sc.SceneID > 1<<32-1 {
			WriteErr(w, ErrInvalidActionInfo, "invalid action info")
			return
		}
		t.SceneID = int(sc.SceneID)
	case ActionLimitScene:
		if sc.SceneID < 1 || sc.SceneID > QRMaxLimitSceneID {
			WriteErr(w, ErrInvalidActionInfo, "invalid action info")
			return
		}
		t.SceneID = int(sc.SceneID)
	case ActionStrScene, ActionLimitStrScene:
		temporary = req.ActionName == ActionStrScene
		if sc.SceneStr == "" || len(sc.SceneStr) > QRMaxSceneStr {
			WriteErr(w, ErrInvalidActionInfo, "invalid action info")
			return
		}
		t.SceneStr = sc.SceneStr
	default:
		WriteErr(w, ErrInvalidActionName, "invalid action name")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ans := qrCreateAnswer{}
	if temporary {
		life := QRDefaultExpire
		if req.ExpireSeconds != nil {
			life = min(max(time.Duration(*req.ExpireSeconds)*time.Second, time.Second), QRMaxExpire)
		}
		t.Expires = s.nowLocked().Add(life)
		ans.ExpireSeconds = int64(life / time.Second)
	}
	// WeChat's tickets are base64 and need escaping in showqrcode's query.
	raw := make([]byte, 48)
	if _, err := io.ReadFull(s.rnd, raw); err != nil {
		panic("wxsim: randomness failed: " + err.Error())
	}
	t.Ticket = base64.StdEncoding.EncodeToString(raw)
	t.URL = "http://weixin.qq.com/q/" + s.randHex(11)
	s.tickets[t.Ticket] = &t
	s.calls[EventQRTicketIssued]++
	ans.Ticket, ans.URL = t.Ticket, t.URL
	WriteJSON(w, ans)
}

// Ticket reports a QR ticket the Sim created, expired or not.
func (s *Sim) Ticket(ticket string) (QRTicket, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[ticket]
	if !ok {
		return QRTicket{}, false
	}
	return *t, true
}

// ScanQR has the named user follow the ticket's Official Account by
// scanning its code, carrying the code's scene, as WeChat does before it
// pushes the subscribe event. ok is false for an unknown or expired ticket.
func (s *Sim) ScanQR(ticket, user string) (f Follower, ok bool) {
	t, found := s.Ticket(ticket)
	if !found || (!t.Expires.IsZero() && !s.Now().Before(t.Expires)) {
		return Follower{}, false
	}
	s.mu.Lock()
	union := unionFor(s.apps[t.AppID], s.userLocked(user))
	s.mu.Unlock()
	return s.FollowAs(Follower{AppID: t.AppID, OpenID: OpenID(t.AppID, user), UnionID: union,
		Scene: SceneQRCode, QRScene: t.SceneID, QRSceneStr: t.SceneStr}), true
}

// serveShowQRCode is GET /cgi-bin/showqrcode?ticket=… of mp.weixin.qq.com:
// the code's image, a QR of its URL, or 404 for an unknown or expired
// ticket, as WeChat answers. WeChat sends a JPEG; the Sim sends a PNG under
// the same Content-Type, image/jpg.
func (s *Sim) serveShowQRCode(w http.ResponseWriter, r *http.Request) {
	t, ok := s.Ticket(r.URL.Query().Get("ticket"))
	if !ok || (!t.Expires.IsZero() && !s.Now().Before(t.Expires)) {
		http.NotFound(w, r)
		return
	}
	png, err := EncodeQR(t.URL, 430)
	if err != nil {
		http.Error(w, "system error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/jpg")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(png)
}
