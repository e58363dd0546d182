// Package config reads a function's configuration from its environment. It
// only parses and validates; opening stores and clients is package boot's job.
package config

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/errs"
)

// Config is everything a function is configured with. Secrets are held here
// and passed to the code that needs them; they are never logged.
type Config struct {
	Store          string // "bolt:<path>" or "dynamo:<table>".
	DynamoEndpoint string // Optional endpoint override (DynamoDB Local).
	WeChatAPIBase  string // Optional base URL replacing https://api.weixin.qq.com (the simulator).

	SessionSecret []byte        // HMAC key for member session tokens; ≥ 32 bytes.
	SessionTTL    time.Duration // Lifetime of a session token.
	DataKey       []byte        // Key for personal fields at rest and keyed hashes; ≥ 32 bytes.

	MPAppID, MPSecret string // The mini-program.
	// MPReminderTemplate is the id of the mini-program's subscribe message
	// template for pre-expiry reminders (from the mini-program console); no
	// reminders are sent without it.
	MPReminderTemplate string

	OAAppID, OASecret, OAToken, OAAESKey string // The Official Account.
	// RegisterURL is the registration link the Official Account's replies
	// and WeCom's welcome message carry (WEMEMBER_REGISTER_URL, or the older
	// WEMEMBER_OA_REGISTER_URL); required with OAAppID or WeComCorpID.
	RegisterURL string

	WeComCorpID, WeComSecret, WeComToken, WeComAESKey string // WeCom.

	AdminToken string // Operator bearer token for admin-api.
	BodyLimit  int    // Largest request body in bytes.
	LogLevel   string // debug, info, warn, error.
}

// Load reads the configuration through getenv (os.Getenv in production, a map
// in tests). Missing required values and malformed numbers are errs.Invalid.
func Load(getenv func(string) string) (Config, error) {
	const op = "config.Load"
	c := Config{
		Store:              getenv("WEMEMBER_STORE"),
		DynamoEndpoint:     getenv("WEMEMBER_DYNAMO_ENDPOINT"),
		WeChatAPIBase:      strings.TrimSuffix(getenv("WECHAT_API_BASE"), "/"),
		SessionSecret:      []byte(getenv("WEMEMBER_SESSION_SECRET")),
		DataKey:            []byte(getenv("WEMEMBER_DATA_KEY")),
		MPAppID:            getenv("WEMEMBER_MP_APPID"),
		MPSecret:           getenv("WEMEMBER_MP_SECRET"),
		MPReminderTemplate: getenv("WEMEMBER_MP_REMINDER_TEMPLATE"),
		OAAppID:            getenv("WEMEMBER_OA_APPID"),
		OASecret:           getenv("WEMEMBER_OA_SECRET"),
		OAToken:            getenv("WEMEMBER_OA_TOKEN"),
		OAAESKey:           getenv("WEMEMBER_OA_AES_KEY"),
		RegisterURL:        getenv("WEMEMBER_REGISTER_URL"),
		WeComCorpID:        getenv("WEMEMBER_WECOM_CORPID"),
		WeComSecret:        getenv("WEMEMBER_WECOM_SECRET"),
		WeComToken:         getenv("WEMEMBER_WECOM_TOKEN"),
		WeComAESKey:        getenv("WEMEMBER_WECOM_AES_KEY"),
		AdminToken:         getenv("WEMEMBER_ADMIN_TOKEN"),
		LogLevel:           getenv("WEMEMBER_LOG_LEVEL"),
		SessionTTL:         24 * time.Hour,
		BodyLimit:          1 << 20,
	}
	if v := getenv("WEMEMBER_SESSION_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return Config{}, errs.E(op, errs.Invalid, "WEMEMBER_SESSION_TTL is not a positive duration")
		}
		c.SessionTTL = d
	}
	if v := getenv("WEMEMBER_BODY_LIMIT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return Config{}, errs.E(op, errs.Invalid, "WEMEMBER_BODY_LIMIT is not a positive integer")
		}
		c.BodyLimit = n
	}
	switch old := getenv("WEMEMBER_OA_REGISTER_URL"); {
	case c.RegisterURL == "":
		c.RegisterURL = old
	case old != "" && old != c.RegisterURL:
		return Config{}, errs.E(op, errs.Invalid, "WEMEMBER_REGISTER_URL and WEMEMBER_OA_REGISTER_URL differ: set WEMEMBER_REGISTER_URL only")
	}
	switch {
	case c.OAAppID != "" && c.RegisterURL == "":
		return Config{}, errs.E(op, errs.Invalid, "WEMEMBER_REGISTER_URL (or the older WEMEMBER_OA_REGISTER_URL) is required with WEMEMBER_OA_APPID: the Official Account's replies link to it")
	case c.WeComCorpID != "" && c.RegisterURL == "":
		return Config{}, errs.E(op, errs.Invalid, "WEMEMBER_REGISTER_URL is required with WEMEMBER_WECOM_CORPID: WeCom's welcome message links to it")
	case c.RegisterURL != "" && !validURL(c.RegisterURL):
		return Config{}, errs.E(op, errs.Invalid, "WEMEMBER_REGISTER_URL must be an https:// (or, locally, http://) URL")
	case !strings.HasPrefix(c.Store, "bolt:") && !strings.HasPrefix(c.Store, "dynamo:"):
		return Config{}, errs.E(op, errs.Invalid, "WEMEMBER_STORE must be bolt:<path> or dynamo:<table>")
	case len(c.SessionSecret) < 32:
		return Config{}, errs.E(op, errs.Invalid, "WEMEMBER_SESSION_SECRET must be at least 32 bytes")
	case len(c.DataKey) < 32:
		return Config{}, errs.E(op, errs.Invalid, "WEMEMBER_DATA_KEY must be at least 32 bytes")
	}
	return c, nil
}

// validURL accepts an absolute http or https URL with a host.
func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// StoreKind and StoreTarget split Store into "bolt"/"dynamo" and its argument.
func (c Config) StoreKind() (kind, target string) {
	kind, target, _ = strings.Cut(c.Store, ":")
	return kind, target
}

// Dev is the configuration `make run` and tests use: loopback, fixed
// development secrets that must never be deployed.
func Dev(dataDir, simBase string) map[string]string {
	return map[string]string{
		"WEMEMBER_STORE":                "bolt:" + dataDir + "/wemember.db",
		"WECHAT_API_BASE":               simBase,
		"WEMEMBER_SESSION_SECRET":       "dev-session-secret-not-for-production-0123456789",
		"WEMEMBER_DATA_KEY":             "dev-data-key-not-for-production-0123456789abcdef",
		"WEMEMBER_MP_APPID":             "wxmp0000000000000001",
		"WEMEMBER_MP_SECRET":            "dev-mp-secret",
		"WEMEMBER_MP_REMINDER_TEMPLATE": "dev-expiry-reminder",
		"WEMEMBER_OA_APPID":             "wxoa0000000000000001",
		"WEMEMBER_OA_SECRET":            "dev-oa-secret",
		"WEMEMBER_OA_TOKEN":             "wemember-oa-token",
		"WEMEMBER_OA_AES_KEY":           "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
		"WEMEMBER_REGISTER_URL":         "http://127.0.0.1:8080/register",
		"WEMEMBER_WECOM_CORPID":         "ww00000000000000001",
		"WEMEMBER_WECOM_SECRET":         "dev-wecom-secret",
		"WEMEMBER_WECOM_TOKEN":          "wemember-wecom-token",
		"WEMEMBER_WECOM_AES_KEY":        "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut",
		"WEMEMBER_ADMIN_TOKEN":          "dev-admin-token",
	}
}

// String describes the configuration without its secrets.
func (c Config) String() string {
	kind, target := c.StoreKind()
	return fmt.Sprintf("store=%s:%s mp_appid=%s", kind, target, c.MPAppID)
}
