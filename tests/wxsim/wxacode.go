package wxsim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// The width rules of wxacode.getUnlimited: 430 px when absent, and a width
// outside 280–1280 px is brought inside it rather than refused.
const (
	WXACodeDefaultWidth = 430
	WXACodeMinWidth     = 280
	WXACodeMaxWidth     = 1280
)

// WXACodeMaxScene is the longest scene getwxacodeunlimit takes, in
// characters.
const WXACodeMaxScene = 32

// The errcodes of getwxacodeunlimit besides the token ones.
const (
	ErrInvalidScene = 40129 // scene empty, longer than 32 or with a character outside the allowed set
	ErrInvalidPage  = 41030 // page malformed, or not in the released version while check_path holds
	ErrInvalidArgs  = 40097 // invalid args, e.g. an unknown env_version
)

// wxacodeRequest is getwxacodeunlimit's body.
type wxacodeRequest struct {
	Scene      string `json:"scene"`
	Page       string `json:"page"`
	CheckPath  *bool  `json:"check_path"`
	EnvVersion string `json:"env_version"`
	Width      int    `json:"width"`
}

// WXACode is what a mini-program code drawn by the Sim stands for: scanning
// it opens Page of AppID's EnvVersion with Scene as the launch query.
type WXACode struct {
	AppID, Page, Scene, EnvVersion string
}

// wxacodeBase is the address the Sim's mini-program codes encode; the code's
// fields are its query.
const wxacodeBase = "https://wxsim.invalid/wxacode"

// Content is the text the Sim's QR code for c holds.
func (c WXACode) Content() string {
	q := url.Values{"appid": {c.AppID}, "page": {c.Page}, "scene": {c.Scene}, "env_version": {c.EnvVersion}}
	return wxacodeBase + "?" + q.Encode()
}

// ParseWXACode reads the text of a mini-program code drawn by the Sim (see
// DecodeQR) back into what it stands for; ok is false for any other text.
func ParseWXACode(content string) (c WXACode, ok bool) {
	rest, found := strings.CutPrefix(content, wxacodeBase+"?")
	if !found {
		return WXACode{}, false
	}
	q, err := url.ParseQuery(rest)
	if err != nil {
		return WXACode{}, false
	}
	return WXACode{AppID: q.Get("appid"), Page: q.Get("page"), Scene: q.Get("scene"), EnvVersion: q.Get("env_version")}, true
}

// PublishPages makes pages part of appid's released mini-program, so that
// getwxacodeunlimit takes them while check_path holds (its default).
func (s *Sim) PublishPages(appid string, pages ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pages[appid] == nil {
		s.pages[appid] = map[string]bool{}
	}
	for _, p := range pages {
		s.pages[appid][p] = true
	}
}

// validScene reports whether scene is 1–32 of the characters WeChat allows:
// digits, ASCII letters and !#$&'()*+,/:;=?@-._~ (no %, so no URL
// escapes and no Chinese).
func validScene(scene string) bool {
	if scene == "" || len(scene) > WXACodeMaxScene {
		return false
	}
	for _, r := range scene {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case strings.ContainsRune("!#$&'()*+,/:;=?@-._~", r):
		default:
			return false
		}
	}
	return true
}

// serveWXACodeUnlimit is POST /wxa/getwxacodeunlimit. Real WeChat draws a
// round "sun code" that only WeChat's own scanner reads; the Sim draws an
// ordinary QR code of WXACode.Content instead, so that a test can decode the
// image it gets back (DecodeQR, ParseWXACode) and find the scene. Like
// WeChat it answers the image with status 200 and Content-Type image/jpeg
// (the bytes are a PNG), and a failure as a JSON errcode body.
func (s *Sim) serveWXACodeUnlimit(w http.ResponseWriter, r *http.Request) {
	appid, code, msg := s.CheckToken(r.URL.Query().Get("access_token"))
	if code != 0 {
		WriteErr(w, code, msg)
		return
	}
	var req wxacodeRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		WriteErr(w, ErrBadJSON, "data format error")
		return
	}
	if !validScene(req.Scene) {
		WriteErr(w, ErrInvalidScene, "invalid scene")
		return
	}
	switch req.EnvVersion {
	case "":
		req.EnvVersion = "release"
	case "release", "trial", "develop":
	default:
		WriteErr(w, ErrInvalidArgs, "invalid args")
		return
	}
	if strings.HasPrefix(req.Page, "/") || strings.ContainsAny(req.Page, "?#") {
		WriteErr(w, ErrInvalidPage, "invalid page")
		return
	}
	checkPath := req.CheckPath == nil || *req.CheckPath
	s.mu.Lock()
	published := req.Page == "" || s.pages[appid][req.Page]
	s.mu.Unlock()
	if checkPath && !published {
		WriteErr(w, ErrInvalidPage, "invalid page")
		return
	}
	width := req.Width
	switch {
	case width == 0:
		width = WXACodeDefaultWidth
	case width < WXACodeMinWidth:
		width = WXACodeMinWidth
	case width > WXACodeMaxWidth:
		width = WXACodeMaxWidth
	}
	png, err := EncodeQR(WXACode{AppID: appid, Page: req.Page, Scene: req.Scene, EnvVersion: req.EnvVersion}.Content(), width)
	if err != nil {
		WriteErr(w, ErrSystemBusy, "system error")
		return
	}
	s.Count(EventWXACodeIssued)
	w.Header().Set("Content-Type", "image/jpeg")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(png)
}

// routeCodes adds the share artifacts' APIs: mini-program codes, Official
// Account QR codes and their images, and their /sim/ controls.
func (s *Sim) routeCodes() {
	s.mux.HandleFunc("POST /wxa/getwxacodeunlimit", s.serveWXACodeUnlimit)
	s.mux.HandleFunc("POST /cgi-bin/qrcode/create", s.serveQRCreate)
	s.mux.HandleFunc("GET /cgi-bin/showqrcode", s.serveShowQRCode)
	s.mux.HandleFunc("POST /sim/mp/pages", s.servePublishPages)
	s.mux.HandleFunc("POST /sim/oa/scan", s.serveScan)
}

// servePublishPages is POST /sim/mp/pages: appid and one or more page
// values join the released mini-program.
func (s *Sim) servePublishPages(w http.ResponseWriter, r *http.Request) {
	appid := r.FormValue("appid")
	if _, ok := s.App(appid); !ok {
		controlErr(w, http.StatusNotFound, "unknown appid; register it with POST /sim/apps")
		return
	}
	pages := r.Form["page"]
	if len(pages) == 0 {
		controlErr(w, http.StatusBadRequest, "give one or more page values")
		return
	}
	s.PublishPages(appid, pages...)
	WriteJSON(w, map[string]any{"appid": appid, "published": pages})
}

// serveScan is POST /sim/oa/scan: user follows by scanning ticket's code.
func (s *Sim) serveScan(w http.ResponseWriter, r *http.Request) {
	user := r.FormValue("user")
	if user == "" {
		controlErr(w, http.StatusBadRequest, "give user")
		return
	}
	f, ok := s.ScanQR(r.FormValue("ticket"), user)
	if !ok {
		controlErr(w, http.StatusNotFound, "unknown or expired ticket")
		return
	}
	WriteJSON(w, followerBody(f))
}
