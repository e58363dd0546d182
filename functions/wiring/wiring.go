// Package wiring turns a process's services (boot.Deps) into each
// function's handler. It is the one place handlers are built: the cloud
// functions' mains, the local runner and the tests all go through it, so
// they cannot drift apart. Handler packages take only the services they
// use and never see the store, the platform or the WeChat SDK.
package wiring

import (
	"time"

	"github.com/wemember/wemember/functions/admin-api/adminapi"
	"github.com/wemember/wemember/functions/expiry-sweep/sweep"
	"github.com/wemember/wemember/functions/member-api/memberapi"
	"github.com/wemember/wemember/functions/mp-login/mplogin"
	"github.com/wemember/wemember/functions/oa-callback/oacallback"
	"github.com/wemember/wemember/functions/wecom-callback/wecomcallback"
	"github.com/wemember/wemember/shared/boot"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/idem"
	"github.com/wemember/wemember/shared/onboard"
	"github.com/wemember/wemember/shared/ratelimit"
	"github.com/wemember/wemember/shared/reminders"
	"github.com/wemember/wemember/shared/web"
)

// Function is one cloud function: its name (also its route prefix), how
// to build its handler and the routes that take a larger body than the
// configured limit.
type Function struct {
	Name   string
	Build  boot.Build
	Raised []web.RouteLimit
}

// Functions lists every function the design names, in the design's order.
func Functions() []Function {
	return []Function{
		{"mp-login", MPLogin, nil},
		{"member-api", MemberAPI, nil},
		{"oa-callback", OACallback, nil},
		{"wecom-callback", WeComCallback, nil},
		{"invite-redeem", boot.Unbuilt("invite-redeem"), nil},
		{"pay-notify", boot.Unbuilt("pay-notify"), nil},
		{"expiry-sweep", ExpirySweep(), nil},
		{"admin-api", AdminAPI, adminapi.BodyLimits()},
	}
}

// ExpirySweep builds the expiry-sweep function: the default rules and
// templates are ensured before every run, then the jobs run on the
// services; opts adjust the sweeper (a local budget, a smaller limit).
func ExpirySweep(opts ...sweep.Option) boot.Build {
	return func(d *boot.Deps) (web.Handler, error) {
		svc := sweep.Services{Store: d.Store, Members: d.Members, Loyalty: d.Loyalty, Coupons: d.Coupons,
			Imports: d.Imports, MPAppID: d.Config.MPAppID, MPReminderTemplate: d.Config.MPReminderTemplate}
		if d.MP != nil { // A nil *MiniProgram would be a non-nil Sender.
			svc.MP = reminders.Sender(d.MP)
		}
		opts := append([]sweep.Option{sweep.WithEnsure(d.EnsureDefaults)}, opts...)
		return sweep.Handler(sweep.New(sweep.Jobs(svc), d.Now, opts...), d.Config.AdminToken), nil
	}
}

// MemberAPI builds the member-api function.
func MemberAPI(d *boot.Deps) (web.Handler, error) {
	return memberapi.New(d.Members, d.Loyalty, d.Coupons, d.Sessions, d.Config.MPAppID, d.Now, d.Funnel), nil
}

// onboarding admits arrivals: the member, its registration rewards and
// attribution in one write.
func onboarding(d *boot.Deps) *onboard.Service {
	return &onboard.Service{Store: d.Store, Members: d.Members, Channels: d.Channels, Coupons: d.Coupons}
}

// AdminAPI builds the admin-api function.
func AdminAPI(d *boot.Deps) (web.Handler, error) {
	return adminapi.New(d.Members, d.Imports, d.Loyalty, d.Coupons, d.Channels, d.Sessions, d.Config.AdminToken, d.Now, d.Funnel), nil
}

// MPLogin builds the mp-login function; it needs a mini-program
// (WEMEMBER_MP_APPID).
func MPLogin(d *boot.Deps) (web.Handler, error) {
	if d.MP == nil {
		return nil, errs.E("wiring.MPLogin", errs.Invalid, "WEMEMBER_MP_APPID is not configured")
	}
	limiter := ratelimit.New(d.Store, d.Now, ratelimit.WithClientKey(func(ip string) string {
		return d.Box.Hash("client-ip", ip) // No address rests in the store.
	}))
	return mplogin.New(d.MP, d.Members, onboarding(d), d.Sessions, limiter), nil
}

// pushGuard runs each WeChat push once: WeChat retries for a few seconds,
// sometimes concurrently, and a duplicate gets the first answer.
func pushGuard(d *boot.Deps, scope string) *idem.Guard {
	return idem.New(d.Store, scope, idem.Options{TTL: 24 * time.Hour, Wait: 3 * time.Second})
}

// OACallback builds the oa-callback function; it needs the Official
// Account (WEMEMBER_OA_APPID, _TOKEN, _AES_KEY).
func OACallback(d *boot.Deps) (web.Handler, error) {
	oa, srv, err := d.OfficialAccount()
	if err != nil {
		return nil, errs.E("wiring.OACallback", err)
	}
	return oacallback.New(srv, oa.AppID(), oa, d.Members, d.Channels, onboarding(d), pushGuard(d, "oa"),
		d.Config.RegisterURL), nil
}

// WeComCallback builds the wecom-callback function; it needs the WeCom corp
// (WEMEMBER_WECOM_CORPID, _TOKEN, _AES_KEY). Welcome codes expire in real
// time, so their claims use the wall clock.
func WeComCallback(d *boot.Deps) (web.Handler, error) {
	wc, srv, err := d.WeCom()
	if err != nil {
		return nil, errs.E("wiring.WeComCallback", err)
	}
	return wecomcallback.New(srv, wc.CorpID(), wc, d.Members, d.Channels, onboarding(d), pushGuard(d, "wecom"),
		d.Store, d.Config.RegisterURL, time.Now), nil
}
