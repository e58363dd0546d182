package config_test

import (
	"strings"
	"testing"

	"github.com/wemember/wemember/shared/config"
	"github.com/wemember/wemember/shared/errs"
)

func load(edit func(v map[string]string)) (config.Config, error) {
	v := config.Dev("/tmp/wemember-config-test", "http://127.0.0.1:1")
	edit(v)
	return config.Load(func(k string) string { return v[k] })
}

// TestOARegisterURLRequired: an Official Account without its registration
// link refuses to start, naming the setting; there is no placeholder link.
func TestOARegisterURLRequired(t *testing.T) {
	_, err := load(func(v map[string]string) { delete(v, "WEMEMBER_OA_REGISTER_URL") })
	if !errs.Is(errs.Invalid, err) || !strings.Contains(errs.SafeMessage(err), "WEMEMBER_OA_REGISTER_URL") {
		t.Errorf("Official Account without a register URL: %v; want invalid naming WEMEMBER_OA_REGISTER_URL", err)
	}
	_, err = load(func(v map[string]string) { v["WEMEMBER_OA_REGISTER_URL"] = "javascript:alert(1)" })
	if !errs.Is(errs.Invalid, err) {
		t.Errorf("a javascript: register URL: %v; want invalid", err)
	}
	c, err := load(func(v map[string]string) {
		delete(v, "WEMEMBER_OA_REGISTER_URL")
		delete(v, "WEMEMBER_OA_APPID")
	})
	if err != nil || c.OARegisterURL != "" {
		t.Errorf("no Official Account: %q, %v; want no link and no error", c.OARegisterURL, err)
	}
	c, err = load(func(v map[string]string) { v["WEMEMBER_OA_REGISTER_URL"] = "https://shop.example.cn/join" })
	if err != nil || c.OARegisterURL != "https://shop.example.cn/join" {
		t.Errorf("set register URL = %q, %v", c.OARegisterURL, err)
	}
}

// TestReminderTemplate reads the subscribe message template of reminders.
func TestReminderTemplate(t *testing.T) {
	c, err := load(func(v map[string]string) { v["WEMEMBER_MP_REMINDER_TEMPLATE"] = "tpl-abc" })
	if err != nil || c.MPReminderTemplate != "tpl-abc" {
		t.Errorf("MPReminderTemplate = %q, %v; want tpl-abc", c.MPReminderTemplate, err)
	}
}
