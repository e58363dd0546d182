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
// The older name WEMEMBER_OA_REGISTER_URL still sets the link.
func TestOARegisterURLRequired(t *testing.T) {
	_, err := load(func(v map[string]string) { delete(v, "WEMEMBER_REGISTER_URL") })
	if !errs.Is(errs.Invalid, err) || !strings.Contains(errs.SafeMessage(err), "WEMEMBER_REGISTER_URL") {
		t.Errorf("Official Account without a register URL: %v; want invalid naming WEMEMBER_REGISTER_URL", err)
	}
	_, err = load(func(v map[string]string) { v["WEMEMBER_REGISTER_URL"] = "javascript:alert(1)" })
	if !errs.Is(errs.Invalid, err) {
		t.Errorf("a javascript: register URL: %v; want invalid", err)
	}
	c, err := load(func(v map[string]string) {
		delete(v, "WEMEMBER_REGISTER_URL")
		delete(v, "WEMEMBER_OA_APPID")
		delete(v, "WEMEMBER_WECOM_CORPID")
	})
	if err != nil || c.RegisterURL != "" {
		t.Errorf("neither Official Account nor WeCom: %q, %v; want no link and no error", c.RegisterURL, err)
	}
	c, err = load(func(v map[string]string) { v["WEMEMBER_REGISTER_URL"] = "https://shop.example.cn/join" })
	if err != nil || c.RegisterURL != "https://shop.example.cn/join" {
		t.Errorf("set register URL = %q, %v", c.RegisterURL, err)
	}
	c, err = load(func(v map[string]string) {
		delete(v, "WEMEMBER_REGISTER_URL")
		v["WEMEMBER_OA_REGISTER_URL"] = "https://shop.example.cn/old"
	})
	if err != nil || c.RegisterURL != "https://shop.example.cn/old" {
		t.Errorf("register URL by its older name = %q, %v; want it read", c.RegisterURL, err)
	}
	_, err = load(func(v map[string]string) { v["WEMEMBER_OA_REGISTER_URL"] = "https://shop.example.cn/old" })
	if !errs.Is(errs.Invalid, err) || !strings.Contains(errs.SafeMessage(err), "differ") {
		t.Errorf("both names set to different links: %v; want invalid saying they differ", err)
	}
	_, err = load(func(v map[string]string) { v["WEMEMBER_OA_REGISTER_URL"] = v["WEMEMBER_REGISTER_URL"] })
	if err != nil {
		t.Errorf("both names set to the same link: %v; want it accepted", err)
	}
}

// TestReminderTemplate reads the subscribe message template of reminders.
func TestReminderTemplate(t *testing.T) {
	c, err := load(func(v map[string]string) { v["WEMEMBER_MP_REMINDER_TEMPLATE"] = "tpl-abc" })
	if err != nil || c.MPReminderTemplate != "tpl-abc" {
		t.Errorf("MPReminderTemplate = %q, %v; want tpl-abc", c.MPReminderTemplate, err)
	}
}

// TestWeComRequiresRegisterURL: WeCom's welcome message carries the
// registration link, so WeCom without the Official Account still needs it;
// the start-up error names the setting.
func TestWeComRequiresRegisterURL(t *testing.T) {
	noOA := func(v map[string]string) {
		for _, k := range []string{"WEMEMBER_OA_APPID", "WEMEMBER_OA_SECRET", "WEMEMBER_OA_TOKEN", "WEMEMBER_OA_AES_KEY", "WEMEMBER_OA_REGISTER_URL"} {
			delete(v, k)
		}
	}
	_, err := load(func(v map[string]string) { noOA(v); delete(v, "WEMEMBER_REGISTER_URL") })
	if msg := errs.SafeMessage(err); !errs.Is(errs.Invalid, err) || !strings.Contains(msg, "WEMEMBER_REGISTER_URL") || !strings.Contains(msg, "WEMEMBER_WECOM_CORPID") {
		t.Errorf("WeCom without a register URL: %v; want invalid naming WEMEMBER_REGISTER_URL and WEMEMBER_WECOM_CORPID", err)
	}
	c, err := load(noOA)
	if err != nil || c.RegisterURL != "http://127.0.0.1:8080/register" || c.WeComCorpID == "" {
		t.Errorf("WeCom with a register URL = %q, %v; want it set", c.RegisterURL, err)
	}
}
