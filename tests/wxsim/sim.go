// Package wxsim is a WeChat platform simulator for tests and local runs. It
// answers the WeChat server API endpoints the functions call, at the paths,
// with the query parameters, JSON shapes and errcodes WeChat uses, so that
// silenceper/wechat can be pointed at it with util.SetURIModifier and run its
// real code paths.
//
// It serves the mini-program (jscode2session, getuserphonenumber,
// subscribe messages, unlimited mini-program codes), the Official Account
// (user info of followers, parameterized QR codes and their images), WeCom
// customer contact (gettoken, external contacts, welcome messages) and the
// token APIs of both hosts.
//
// A Sim holds registries of apps, WeCom corps and users, the followers,
// contacts, codes and tokens it knows of, the messages sent, and call
// counters. Its routes live on one http.ServeMux; other parts of the
// simulator (Official Account and WeCom pushes, WeChat Pay) add their own
// routes with Handle and use the exported helpers (Now, App, Corp,
// CheckToken, CheckWeComToken, Count, WriteJSON, WriteErr) so that
// everything shares one clock, one registry and one set of tokens.
//
// Test controls that WeChat does not have live under /sim/.
package wxsim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Sim is one simulated WeChat platform. It is safe for concurrent use.
type Sim struct {
	clock func() time.Time
	rnd   io.Reader
	mux   *http.ServeMux

	mu       sync.Mutex
	offset   time.Duration // Added to clock by Advance.
	apps     map[string]*App
	corps    map[string]*App // WeCom corps: AppID is the corpid.
	users    map[string]User // By name.
	names    map[string]bool // Every user name the Sim was told of.
	codes    map[string]*loginCode
	phones   map[string]*phoneCode
	tokens   map[string]*token      // Every access token ever issued, by value.
	current  map[string]*tokenState // By appid.
	calls    map[string]int
	limits   Limits
	minute   map[string]int // Rate-limit buckets: key + minute → calls.
	forceDay map[string]int // stable_token force refreshes: appid + day → count.

	followers map[string]*Follower       // Official Account followers by appid/openid.
	contacts  map[string]*Contact        // WeCom external contacts by corpid/external_userid.
	welcomes  map[string]*welcomeCode    // WeCom welcome codes by value.
	sentWel   []WelcomeMessage           // Every welcome message sent, in order.
	accepts   map[string]int             // Subscribe-message acceptances left: appid/openid/template.
	sentSub   []SubscribeMessage         // Every subscribe message sent, in order.
	pages     map[string]map[string]bool // Released mini-program pages by appid.
	tickets   map[string]*QRTicket       // Official Account QR codes by ticket.
}

// Limits are the simulated quotas. Zero means unlimited.
type Limits struct {
	// Code2SessionPerUser bounds jscode2session calls per app and user per
	// minute (WeChat: errcode 45011).
	Code2SessionPerUser int
	// Code2SessionPerApp bounds jscode2session calls per app per minute.
	Code2SessionPerApp int
	// StableForcePerDay bounds stable_token force_refresh calls per app per
	// day (WeChat: 20, errcode 45009).
	StableForcePerDay int
	// ForceRefreshGrace is how long the previous stable token keeps working
	// after a force_refresh. WeChat's document says the previous token is
	// invalidated, so the default is 0.
	ForceRefreshGrace time.Duration
}

// DefaultLimits returns WeChat's published quotas.
func DefaultLimits() Limits { return Limits{Code2SessionPerUser: 100, StableForcePerDay: 20} }

// Option configures a Sim.
type Option func(*Sim)

// WithClock makes the Sim read time from now instead of time.Now.
func WithClock(now func() time.Time) Option { return func(s *Sim) { s.clock = now } }

// WithRand makes the Sim draw codes, tokens and session keys from r instead
// of crypto/rand.
func WithRand(r io.Reader) Option { return func(s *Sim) { s.rnd = r } }

// WithLimits replaces DefaultLimits().
func WithLimits(l Limits) Option { return func(s *Sim) { s.limits = l } }

// New returns a Sim with no apps and no users, serving the mini-program,
// Official Account, WeCom and access-token APIs and the /sim/ controls.
//
// WeChat's two API hosts, api.weixin.qq.com and qyapi.weixin.qq.com, are
// served on the same paths: the clients rewrite both hosts to the Sim. The
// paths the Sim answers do not collide (WeCom's token API is
// /cgi-bin/gettoken, the others /cgi-bin/token and /cgi-bin/stable_token;
// /cgi-bin/user/info and /cgi-bin/message/subscribe/send exist only on
// api, /cgi-bin/externalcontact/* only on qyapi). Paths both hosts have, such
// as /cgi-bin/user/get or /cgi-bin/media/upload, must be added with
// HandleHosts, which routes by the kind of access token.
func New(opts ...Option) *Sim {
	s := &Sim{
		clock:    time.Now,
		rnd:      rand.Reader,
		mux:      http.NewServeMux(),
		apps:     map[string]*App{},
		corps:    map[string]*App{},
		users:    map[string]User{},
		names:    map[string]bool{},
		codes:    map[string]*loginCode{},
		phones:   map[string]*phoneCode{},
		tokens:   map[string]*token{},
		current:  map[string]*tokenState{},
		calls:    map[string]int{},
		limits:   DefaultLimits(),
		minute:   map[string]int{},
		forceDay: map[string]int{},

		followers: map[string]*Follower{},
		contacts:  map[string]*Contact{},
		welcomes:  map[string]*welcomeCode{},
		accepts:   map[string]int{},
		pages:     map[string]map[string]bool{},
		tickets:   map[string]*QRTicket{},
	}
	for _, o := range opts {
		o(s)
	}
	s.routeTokens()
	s.routeMiniProgram()
	s.routeSubscribe()
	s.routeOfficialAccount()
	s.routeWeCom()
	s.routeCodes()
	s.routeControls()
	return s
}

// Handler serves every route of the Sim, counting each call by path.
func (s *Sim) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Count(r.URL.Path)
		s.mux.ServeHTTP(w, r)
	})
}

// Handle adds a route to the Sim's mux, in http.ServeMux pattern syntax
// (e.g. "POST /cgi-bin/message/custom/send"). Other simulator parts use it.
// A path that both api.weixin.qq.com and qyapi.weixin.qq.com have must be
// added with HandleHosts instead.
func (s *Sim) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// HandleHosts adds a route for a path that both api.weixin.qq.com (api) and
// qyapi.weixin.qq.com (wecom) serve: a request whose access_token is a WeCom
// token, or that has no access_token but a corpid parameter, goes to wecom;
// every other request goes to api.
func (s *Sim) HandleHosts(pattern string, api, wecom http.Handler) {
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		tok := q.Get("access_token")
		if (tok != "" && s.IsWeComToken(tok)) || (tok == "" && q.Get("corpid") != "") {
			wecom.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	}))
}

// Now is the Sim's current time: its clock plus every Advance.
func (s *Sim) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Sim) nowLocked() time.Time { return s.clock().Add(s.offset) }

// Advance moves the Sim's time forward by d, expiring codes and tokens.
func (s *Sim) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

// Count adds one to the named counter. Every request counts under its path;
// handlers add named events such as "stable_token.issued".
func (s *Sim) Count(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[name]++
}

// Calls reports a counter: the number of requests to a path (e.g.
// "/cgi-bin/stable_token") or the number of a named event.
func (s *Sim) Calls(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[name]
}

// Stats returns a copy of every counter.
func (s *Sim) Stats() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// ResetStats zeroes every counter.
func (s *Sim) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = map[string]int{}
}

// Event names counted by the Sim besides request paths.
const (
	EventTokenIssued       = "token.issued"        // /cgi-bin/token issued a token.
	EventStableIssued      = "stable_token.issued" // stable_token issued a new token.
	EventStableForced      = "stable_token.forced" // …of which by force_refresh.
	EventSessionIssued     = "jscode2session.ok"   // A js_code was exchanged.
	EventPhoneNumberIssued = "getuserphonenumber.ok"
	EventWeComTokenIssued  = "gettoken.issued"      // WeCom's gettoken issued a new token.
	EventWelcomeSent       = "send_welcome_msg.ok"  // A welcome message was sent.
	EventSubscribeSent     = "subscribe/send.ok"    // A subscribe message was sent.
	EventWXACodeIssued     = "getwxacodeunlimit.ok" // A mini-program code was drawn.
	EventQRTicketIssued    = "qrcode/create.ok"     // An Official Account QR code was created.
)

// randHex returns n random bytes as hex. Called with s.mu held.
func (s *Sim) randHex(n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rnd, b); err != nil {
		panic("wxsim: randomness failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// WriteJSON writes v as WeChat does: status 200, a JSON body.
func WriteJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}

// ErrBody is WeChat's error answer.
type ErrBody struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// WriteErr writes a WeChat error answer; WeChat answers errors with HTTP 200.
// The errmsg carries a request id suffix as WeChat's do.
func WriteErr(w http.ResponseWriter, code int, msg string) {
	WriteJSON(w, ErrBody{ErrCode: code, ErrMsg: msg + ", rid: wxsim"})
}

// The errcodes the Sim answers with, as WeChat and WeCom document them.
const (
	ErrSystemBusy        = -1
	ErrInvalidCredential = 40001 // invalid credential, access_token is invalid or not latest; WeCom: invalid secret
	ErrInvalidGrantType  = 40002
	ErrInvalidOpenID     = 40003 // invalid openid (not of this app)
	ErrInvalidAppID      = 40013 // Also WeCom's invalid corpid.
	ErrInvalidToken      = 40014 // WeCom: invalid access_token
	ErrInvalidCode       = 40029
	ErrInvalidTemplateID = 40037
	ErrInvalidExternalID = 40096 // WeCom: invalid external_userid
	ErrInvalidSecret     = 40125
	ErrCodeBeenUsed      = 40163
	ErrMissingToken      = 41001
	ErrMissingAppID      = 41002 // Also WeCom's missing corpid.
	ErrMissingSecret     = 41004
	ErrMissingCode       = 41008
	ErrMissingExternalID = 41035 // WeCom: missing external_userid
	ErrMissingWelcome    = 41049 // WeCom: missing welcome_code
	ErrInvalidWelcome    = 41050 // WeCom: invalid welcome_code, also when older than WelcomeCodeTTL
	ErrWelcomeUsed       = 41051 // WeCom: externaluser has started chatting (welcome_code used)
	ErrTokenExpired      = 42001
	ErrUserRefused       = 43101 // user refuse to accept the msg (no subscription left)
	ErrEmptyContent      = 44004 // WeCom: empty text content
	ErrContentTooLong    = 45002 // WeCom: content size out of limit
	ErrDailyQuota        = 45009
	ErrMinuteQuota       = 45011
	ErrBadJSON           = 47001
	ErrArgumentInvalid   = 47003 // argument invalid! (subscribe message data)
)

// sortedKeys returns m's keys in order, for stable listings.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
