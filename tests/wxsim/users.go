package wxsim

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// CodeTTL is how long a js_code or a phone code stays usable, as on WeChat.
const CodeTTL = 5 * time.Minute

// App is a registered mini-program or Official Account, or a WeCom corp
// (AppID the corpid, Secret the corpsecret).
type App struct {
	AppID  string
	Secret string
	// Unbound says the app is not bound to the Open Platform account the
	// users' unionids belong to: WeChat then answers without unionid.
	Unbound bool
}

// User is a named person. Their openid differs per app and is derived from
// the name (see OpenID); their unionid is the same across apps.
type User struct {
	Name    string
	UnionID string // Empty: UnionID(Name).
	Phone   string // E.g. "13800138000" or "+1 2025550100"; empty: PhoneOf(Name).
}

// AddApp registers a mini-program or Official Account bound to the users'
// Open Platform account, replacing any with the same appid.
func (s *Sim) AddApp(appid, secret string) { s.RegisterApp(App{AppID: appid, Secret: secret}) }

// RegisterApp registers a mini-program or Official Account, replacing any
// with the same appid.
func (s *Sim) RegisterApp(a App) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps[a.AppID] = &a
}

// AddCorp registers a WeCom corp and the secret its gettoken takes (the
// customer-contact secret), bound to the users' Open Platform account unless
// unbound is set, replacing any with the same corpid.
func (s *Sim) AddCorp(corpid, secret string, unbound bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.corps[corpid] = &App{AppID: corpid, Secret: secret, Unbound: unbound}
}

// Corp returns the registered WeCom corp with the given corpid.
func (s *Sim) Corp(corpid string) (App, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.corps[corpid]
	if !ok {
		return App{}, false
	}
	return *c, true
}

// App returns the registered app with the given appid.
func (s *Sim) App(appid string) (App, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[appid]
	if !ok {
		return App{}, false
	}
	return *a, true
}

// Apps lists the registered apps in appid order.
func (s *Sim) Apps() []App {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]App, 0, len(s.apps))
	for _, k := range sortedKeys(s.apps) {
		out = append(out, *s.apps[k])
	}
	return out
}

// AddUser registers a named user, filling UnionID and Phone from the name
// when empty. Users need not be registered: every name has derived ids.
func (s *Sim) AddUser(u User) User {
	u = fillUser(u)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.Name] = u
	s.names[u.Name] = true
	return u
}

// userLocked is User with s.mu held; it remembers the name, so the user's
// openids count as valid from then on.
func (s *Sim) userLocked(name string) User {
	s.names[name] = true
	if u, ok := s.users[name]; ok {
		return u
	}
	return fillUser(User{Name: name})
}

// unionFor is the unionid WeChat tells an app about a user: none when the
// app is unbound. Called with s.mu held.
func unionFor(a *App, u User) string {
	if a != nil && a.Unbound {
		return ""
	}
	return u.UnionID
}

// openidKnown reports whether openid is a user's openid in the app: one
// derived from a name the Sim was told of, a follower's, or one a login code
// or a subscription was issued for. WeChat answers 40003 for any other.
// Called with s.mu held.
func (s *Sim) openidKnown(appid, openid string) bool {
	if openid == "" {
		return false
	}
	if _, ok := s.followers[appid+"/"+openid]; ok {
		return true
	}
	for name := range s.names {
		if OpenID(appid, name) == openid {
			return true
		}
	}
	for _, c := range s.codes {
		if c.appid == appid && c.openid == openid {
			return true
		}
	}
	prefix := appid + "/" + openid + "/"
	for k := range s.accepts {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// User returns the user with the given name: the registered one, or one
// with every field derived from the name.
func (s *Sim) User(name string) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[name]; ok {
		return u
	}
	return fillUser(User{Name: name})
}

func fillUser(u User) User {
	if u.UnionID == "" {
		u.UnionID = UnionID(u.Name)
	}
	if u.Phone == "" {
		u.Phone = PhoneOf(u.Name)
	}
	return u
}

// OpenID derives the openid a named user has in an app: 28 characters
// starting with "o", like WeChat's, the same on every run.
func OpenID(appid, name string) string { return "o" + digest("openid", appid, name)[:27] }

// UnionID derives the unionid a named user has across apps.
func UnionID(name string) string { return "o" + digest("unionid", name)[:27] }

// PhoneOf derives a mainland mobile number for a named user.
func PhoneOf(name string) string {
	sum := sha256.Sum256([]byte("phone/" + name))
	n := uint64(0)
	for _, b := range sum[:8] {
		n = n<<8 | uint64(b)
	}
	return fmt.Sprintf("139%08d", n%100000000)
}

func digest(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "/")))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// splitPhone parses "13800138000" (country 86) or "+1 2025550100" into a
// country code and the pure number.
func splitPhone(phone string) (country, pure string) {
	phone = strings.TrimSpace(phone)
	if !strings.HasPrefix(phone, "+") {
		return "86", phone
	}
	cc, rest, ok := strings.Cut(phone[1:], " ")
	if !ok {
		cc, rest, _ = strings.Cut(phone[1:], "-")
	}
	return cc, strings.TrimSpace(rest)
}

type loginCode struct {
	appid, openid, unionid string
	issued                 time.Time
	used                   bool
}

type phoneCode struct {
	appid, openid, phone string
	issued               time.Time
	used                 bool
}

// LoginCode issues a js_code, as wx.login does in the mini-program: it can be
// exchanged once, within CodeTTL, by jscode2session for the given app. An
// empty unionid means jscode2session answers without one.
func (s *Sim) LoginCode(appid, openid, unionid string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := s.randHex(16)
	s.codes[code] = &loginCode{appid: appid, openid: openid, unionid: unionid, issued: s.nowLocked()}
	return code
}

// LoginCodeFor issues a js_code for a named user: openid OpenID(appid, name)
// and the user's unionid (none if the app is unbound).
func (s *Sim) LoginCodeFor(appid, name string) string {
	s.mu.Lock()
	union := unionFor(s.apps[appid], s.userLocked(name))
	s.mu.Unlock()
	return s.LoginCode(appid, OpenID(appid, name), union)
}

// PhoneCode issues a phone-number code, as the getPhoneNumber button does: it
// can be exchanged once, within CodeTTL, by getuserphonenumber with an access
// token of the given app.
func (s *Sim) PhoneCode(appid, openid, phone string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := s.randHex(32)
	s.phones[code] = &phoneCode{appid: appid, openid: openid, phone: phone, issued: s.nowLocked()}
	return code
}

// PhoneCodeFor issues a phone code for a named user's phone.
func (s *Sim) PhoneCodeFor(appid, name string) string {
	s.mu.Lock()
	u := s.userLocked(name)
	s.mu.Unlock()
	return s.PhoneCode(appid, OpenID(appid, name), u.Phone)
}
