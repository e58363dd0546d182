// Command wxsim runs the WeChat platform simulator and drives a running one.
//
//	wxsim serve [--addr 127.0.0.1:8090] [--app appid:secret]... [--corp corpid:secret]...
//	wxsim login-code --sim http://127.0.0.1:8090 --appid wx… (--user alice | --openid o… [--unionid …])
//	wxsim phone-code --sim … --appid wx… (--user alice | --openid o… --phone 138…)
//	wxsim user       --sim … --appid wx… --user alice
//	wxsim follow     --sim … --appid wx… --user alice [--scene 12345678]
//	wxsim unfollow   --sim … --appid wx… --user alice
//	wxsim contact    --sim … --corpid ww… --user alice --userid sales1 [--state inv_…]
//	wxsim remove     --sim … --corpid ww… --user alice --userid sales1
//	wxsim welcomes   --sim … [--corpid ww…]
//	wxsim subscribe  --sim … --appid wx… --user alice --template tpl… [--times 3]
//	wxsim messages   --sim … [--appid wx…]
//	wxsim stats      --sim …
//	wxsim advance    --sim … --by 6m
//	wxsim add-app    --sim … --appid wx… --secret …
//	wxsim add-corp   --sim … --corpid ww… --secret …
//	wxsim revoke     --sim … --appid wx…|ww…
//
// A user name such as "alice" maps to the same openid (per app),
// external_userid (per corp), unionid and phone number on every run, so a
// walkthrough can be repeated. contact prints the external_userid and the
// welcome_code to put in the add_external_contact push.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wemember/wemember/shared/config"
	"github.com/wemember/wemember/tests/wxsim"
)

// The apps and corp of `make run` (config.Dev): the default --appid and
// --corpid, and what serve registers when no --app or --corp is given, so
// that `wxsim serve` can stand in for the simulator `make run` starts.
var (
	dev            = config.Dev("data", "")
	demoAppID      = dev["WEMEMBER_MP_APPID"]
	demoSecret     = dev["WEMEMBER_MP_SECRET"]
	demoOAAppID    = dev["WEMEMBER_OA_APPID"]
	demoOASecret   = dev["WEMEMBER_OA_SECRET"]
	demoCorpID     = dev["WEMEMBER_WECOM_CORPID"]
	demoCorpSecret = dev["WEMEMBER_WECOM_SECRET"]
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// apps collects repeated --app appid:secret flags.
type apps []string

func (a *apps) String() string     { return strings.Join(*a, ",") }
func (a *apps) Set(v string) error { *a = append(*a, v); return nil }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: wxsim serve|login-code|phone-code|user|follow|unfollow|contact|remove|welcomes|subscribe|messages|stats|advance|add-app|add-corp|revoke [flags]")
		return 2
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("wxsim "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "serve: listen address")
	var appFlags, corpFlags apps
	fs.Var(&appFlags, "app", "serve: register an app as appid:secret (repeatable; default the apps of make run)")
	fs.Var(&corpFlags, "corp", "serve: register a WeCom corp as corpid:secret (repeatable; default "+demoCorpID+":"+demoCorpSecret+")")
	userLimit := fs.Int("user-limit", wxsim.DefaultLimits().Code2SessionPerUser, "serve: jscode2session calls per user per minute (0: unlimited)")
	forceLimit := fs.Int("force-limit", wxsim.DefaultLimits().StableForcePerDay, "serve: stable_token force refreshes per app per day (0: unlimited)")
	sim := fs.String("sim", "http://127.0.0.1:8090", "the running simulator")
	appid := fs.String("appid", demoAppID, "the app")
	secret := fs.String("secret", "", "add-app: the app secret")
	user := fs.String("user", "", "a user name, e.g. alice")
	openid := fs.String("openid", "", "an openid (instead of --user)")
	unionid := fs.String("unionid", "", "a unionid (default: the user's)")
	phone := fs.String("phone", "", "a phone number (default: the user's)")
	by := fs.String("by", "", "advance: how far, e.g. 6m")
	corpid := fs.String("corpid", demoCorpID, "the WeCom corp")
	userid := fs.String("userid", "", "contact: the corp member the user adds")
	state := fs.String("state", "", "contact: the contact way's state")
	scene := fs.String("scene", "", "follow: the QR scene string")
	template := fs.String("template", "", "subscribe: the template id")
	times := fs.String("times", "", "subscribe: how many acceptances (default 1)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	form := url.Values{}
	for k, v := range map[string]string{"appid": *appid, "user": *user, "openid": *openid, "unionid": *unionid, "phone": *phone,
		"secret": *secret, "by": *by, "corpid": *corpid, "userid": *userid, "state": *state, "scene": *scene,
		"template_id": *template, "times": *times} {
		if v != "" {
			form.Set(k, v)
		}
	}
	var err error
	switch cmd {
	case "serve":
		limits := wxsim.DefaultLimits()
		limits.Code2SessionPerUser, limits.StableForcePerDay = *userLimit, *forceLimit
		err = serve(ctx, *addr, appFlags, corpFlags, limits, stderr)
	case "login-code":
		err = control(ctx, stdout, http.MethodPost, *sim, "/sim/mp/code", form, "code")
	case "phone-code":
		err = control(ctx, stdout, http.MethodPost, *sim, "/sim/mp/phone-code", form, "code")
	case "user":
		err = control(ctx, stdout, http.MethodGet, *sim, "/sim/user", form, "")
	case "follow":
		err = control(ctx, stdout, http.MethodPost, *sim, "/sim/oa/follow", form, "")
	case "unfollow":
		err = control(ctx, stdout, http.MethodPost, *sim, "/sim/oa/unfollow", form, "")
	case "contact":
		err = control(ctx, stdout, http.MethodPost, *sim, "/sim/wecom/contact", form, "")
	case "remove":
		err = control(ctx, stdout, http.MethodPost, *sim, "/sim/wecom/remove", form, "")
	case "welcomes":
		err = control(ctx, stdout, http.MethodGet, *sim, "/sim/wecom/welcome-messages", url.Values{"corpid": {*corpid}}, "")
	case "subscribe":
		err = control(ctx, stdout, http.MethodPost, *sim, "/sim/mp/subscribe", form, "")
	case "messages":
		err = control(ctx, stdout, http.MethodGet, *sim, "/sim/mp/subscribe-messages", url.Values{"appid": {*appid}}, "")
	case "add-corp":
		err = control(ctx, stdout, http.MethodPost, *sim, "/sim/corps", form, "")
	case "stats":
		err = control(ctx, stdout, http.MethodGet, *sim, "/sim/stats", nil, "")
	case "advance":
		err = control(ctx, stdout, http.MethodPost, *sim, "/sim/clock/advance", form, "")
	case "add-app":
		err = control(ctx, stdout, http.MethodPost, *sim, "/sim/apps", form, "")
	case "revoke":
		err = control(ctx, stdout, http.MethodPost, *sim, "/sim/tokens/revoke", form, "")
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fmt.Fprintln(stderr, "wxsim:", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, addr string, appFlags, corpFlags apps, limits wxsim.Limits, log io.Writer) error {
	sim := wxsim.New(wxsim.WithLimits(limits))
	if len(appFlags) == 0 {
		appFlags = apps{demoAppID + ":" + demoSecret, demoOAAppID + ":" + demoOASecret}
	}
	if len(corpFlags) == 0 {
		corpFlags = apps{demoCorpID + ":" + demoCorpSecret}
	}
	for _, a := range appFlags {
		id, sec, ok := strings.Cut(a, ":")
		if !ok || id == "" || sec == "" {
			return fmt.Errorf("--app %q: want appid:secret", a)
		}
		sim.AddApp(id, sec)
		fmt.Fprintf(log, "wxsim: app %s registered\n", id)
	}
	for _, c := range corpFlags {
		id, sec, ok := strings.Cut(c, ":")
		if !ok || id == "" || sec == "" {
			return fmt.Errorf("--corp %q: want corpid:secret", c)
		}
		sim.AddCorp(id, sec, false)
		fmt.Fprintf(log, "wxsim: WeCom corp %s registered\n", id)
	}
	srv := &http.Server{Addr: addr, Handler: sim.Handler(), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Fprintf(log, "wxsim: serving WeChat APIs on http://%s\n", addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// control calls a /sim/ route and prints one field of the answer, or the
// whole answer when field is empty.
func control(ctx context.Context, out io.Writer, method, base, path string, form url.Values, field string) error {
	u := strings.TrimRight(base, "/") + path
	var body io.Reader
	if method == http.MethodGet {
		u += "?" + form.Encode()
	} else {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s %s", method, path, res.Status, strings.TrimSpace(string(raw)))
	}
	if field == "" {
		_, err = out.Write(raw)
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	v, ok := m[field].(string)
	if !ok {
		return fmt.Errorf("answer has no %q", field)
	}
	_, err = fmt.Fprintln(out, v)
	return err
}
