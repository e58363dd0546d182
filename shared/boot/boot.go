// Package boot is the composition root: it loads the config, opens the
// store, wires the domain services and WeChat clients over it (Wire, shared
// by the functions, the local runner and the tests), and hands a finished
// handler to the platform adapter. A function's main is one call to Main.
package boot

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/config"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/fraud"
	"github.com/wemember/wemember/shared/funnel"
	"github.com/wemember/wemember/shared/imports"
	"github.com/wemember/wemember/shared/invite"
	"github.com/wemember/wemember/shared/launch"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/session"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/web"
	"github.com/wemember/wemember/shared/wechat"
)

// Deps is everything a function's handler may be built from.
type Deps struct {
	Config   config.Config
	Store    store.Store
	Log      *slog.Logger
	Now      func() time.Time
	Box      *pii.Box
	Members  *member.Service
	Sessions *session.Issuer
	MP       *wechat.MiniProgram
	Loyalty  *loyalty.Service
	Coupons  *coupons.Service
	Channels *channels.Service
	Imports  *imports.Service
	Funnel   *funnel.Service
	Invites  *invite.Service
	Fraud    *fraud.Service
}

// EnsureDefaults installs the default rules and coupon templates where none
// are stored yet. It is idempotent and safe to run concurrently; the local
// runner runs it at start, the expiry sweep on every run.
func (d *Deps) EnsureDefaults(ctx context.Context) error {
	if _, err := d.Loyalty.InstallDefaults(ctx); err != nil {
		return err
	}
	return d.Coupons.InstallDefaults(ctx)
}

// templateExists is nil for a coupon template that exists (the check the
// loyalty rules make of the templates they name).
func (d *Deps) templateExists(ctx context.Context, id string) error {
	_, err := d.Coupons.Template(ctx, id)
	return err
}

// couponTriggers are the coupon triggers the loyalty rules in force name.
func (d *Deps) couponTriggers(ctx context.Context) (coupons.Triggers, error) {
	r, err := d.Loyalty.Rules(ctx)
	if err != nil {
		return coupons.Triggers{}, err
	}
	c := r.Coupons
	return coupons.Triggers{Registration: c.Welcome, Birthday: c.Birthday, Streak: c.Streak,
		BirthdayLead: c.BirthdayLeadDays}, nil
}

// Build makes a function's handler (its routes, before the standard
// middleware) from the dependencies.
type Build func(d *Deps) (web.Handler, error)

// Option changes how Open wires the dependencies.
type Option func(*Deps)

// WithClock sets the clock every service reads (time.Now by default); tests
// use it to move time.
func WithClock(now func() time.Time) Option { return func(d *Deps) { d.Now = now } }

// Open opens the store the configuration names and wires the services over
// it (OpenStore, then Wire). It leaves process-wide settings alone: the
// mains apply them once with ConfigureProcess.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...Option) (*Deps, error) {
	st, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, errs.E("boot.Open", err)
	}
	d, err := Wire(st, cfg, log, opts...)
	if err != nil {
		st.Close()
		return nil, err
	}
	return d, nil
}

// OpenStore opens the store the configuration names: a bbolt file or a
// DynamoDB table.
func OpenStore(ctx context.Context, cfg config.Config) (store.Store, error) {
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, errs.E("boot.OpenStore", err)
	}
	return st, nil
}

// Wire builds every service over an open store: the one wiring of the
// domain that the functions, the local runner and the tests share. A merge
// moves everything a member has across, so the loyalty, coupon and channel
// services are the member service's absorbers. Wire does no I/O and changes
// no process-wide state; the caller keeps ownership of st.
func Wire(st store.Store, cfg config.Config, log *slog.Logger, opts ...Option) (*Deps, error) {
	const op = "boot.Wire"
	d := &Deps{Config: cfg, Store: st, Log: log, Now: time.Now}
	for _, o := range opts {
		o(d)
	}
	box, err := pii.New(cfg.DataKey)
	if err != nil {
		return nil, errs.E(op, err)
	}
	sessions, err := session.NewIssuer(cfg.SessionSecret, cfg.SessionTTL, d.Now)
	if err != nil {
		return nil, errs.E(op, err)
	}
	d.Box, d.Sessions = box, sessions
	d.Members = member.NewService(st, box, d.Now, member.NewID)
	d.Coupons = coupons.New(st, coupons.Config{Now: d.Now, Rules: d.couponTriggers})
	d.Loyalty = loyalty.New(st, d.Now, member.NewID, loyalty.WithTemplateCheck(d.templateExists),
		loyalty.WithCoupons(d.Coupons))
	d.Channels = channels.New(st, d.Now)
	d.Imports = imports.New(st, box, d.Members, d.Now, member.NewID)
	d.Funnel = funnel.New(st, d.Now)
	d.Fraud = fraud.New(st, d.Now)
	d.Invites = invite.New(st, box, d.Members, d.Loyalty, d.Coupons, d.Now, member.NewID,
		invite.WithRandom(rand.Reader), invite.WithFraud(d.Fraud), invite.WithFunnel(d.Funnel))
	d.Members.AddAbsorber(d.Loyalty)
	d.Members.AddAbsorber(d.Coupons)
	d.Members.AddAbsorber(d.Channels)
	if cfg.MPAppID != "" {
		d.MP = wechat.NewMiniProgram(cfg.MPAppID, cfg.MPSecret, wechat.NewTokenSource(st, cfg.MPAppID, cfg.MPSecret))
	}
	return d, nil
}

// CallTimeout bounds every call to WeChat's API.
const CallTimeout = 10 * time.Second

// ConfigureProcess applies the settings the WeChat SDK keeps per process
// (github.com/silenceper/wechat/v2 reads one API base from a package
// variable and sends every request through http.DefaultClient, with no way
// to give it a client of its own): the API base the configuration names and
// CallTimeout on http.DefaultClient. A main calls it once at start-up,
// before any request; Open and Wire never do, so two deployments in one
// process (tests) do not rewrite each other's settings.
func ConfigureProcess(cfg config.Config) {
	wechat.UseAPIBase(cfg.WeChatAPIBase)
	wechat.SetCallTimeout(CallTimeout)
}

func openStore(ctx context.Context, cfg config.Config) (store.Store, error) {
	kind, target := cfg.StoreKind()
	switch kind {
	case "bolt":
		return openBolt(target)
	case "dynamo":
		return openDynamo(ctx, cfg, target)
	}
	return nil, errs.E(errs.Invalid, fmt.Sprintf("unknown store kind %q", kind))
}

// Logger is the JSON logger at the configured level.
func Logger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// Handler wraps a function's routes in the standard middleware, with the
// configured body limit for every route but those raised names.
func Handler(function string, d *Deps, h web.Handler, raised ...web.RouteLimit) web.Handler {
	return web.Chain(h, web.Standard(function, d.Log, d.Config.BodyLimit, raised...)...)
}

// Main is a function's whole main: config from the process environment,
// dependencies, handler, platform; raised are the routes that take a larger
// body than the configured limit. It exits with status 1 if start-up fails.
func Main(function string, build Build, raised ...web.RouteLimit) {
	log := Logger(os.Getenv("WEMEMBER_LOG_LEVEL"))
	fail := func(err error) {
		log.Error("start failed", slog.String("function", function), slog.String("error", err.Error()))
		os.Exit(1)
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fail(err)
	}
	ConfigureProcess(cfg)
	d, err := Open(context.Background(), cfg, log)
	if err != nil {
		fail(err)
	}
	h, err := build(d)
	if err != nil {
		fail(err)
	}
	launch.Run(Handler(function, d, h, raised...), launch.WithBodyLimit(web.MaxBody(cfg.BodyLimit, raised...)),
		launch.WithLogger(log))
}

// Unbuilt is the Build of a function that is not built yet: every request
// is answered 501 with a clear message.
func Unbuilt(function string) Build {
	return func(*Deps) (web.Handler, error) {
		return func(context.Context, *web.Request) (*web.Response, error) {
			return nil, errs.E(function, errs.Unimplemented, function+" is not built yet")
		}, nil
	}
}
