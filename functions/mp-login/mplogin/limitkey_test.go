package mplogin

import "testing"

// TestLimitKey: the login limit counts an IPv6 client by its /64, which one
// subscriber holds whole and can rotate inside, an IPv4 client by its
// address, and a login with no usable address under one key.
func TestLimitKey(t *testing.T) {
	for ip, want := range map[string]string{
		"203.0.113.5":            "203.0.113.5",
		"::ffff:203.0.113.5":     "203.0.113.5",
		"2001:db8:1:2::1":        "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::9":   "2001:db8:1:2::/64",
		"2001:db8:1:2:a:b:c:d":   "2001:db8:1:2::/64",
		"2001:db8:1:3::1":        "2001:db8:1:3::/64",
		"fe80::1%eth0":           "fe80::/64",
		"":                       "unknown",
		"198.51.100.30, 8.8.8.8": "unknown",
	} {
		if got := limitKey(ip); got != want {
			t.Errorf("limitKey(%q) = %q, want %q", ip, got, want)
		}
	}
}
