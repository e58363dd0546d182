// Package launch starts a function on whichever platform it finds itself:
// the Lambda runtime, the SCF runtime, or a local HTTP server. Built
// without tags, one binary serves them all; the platform tags lambda and
// scf each keep only their runtime, so a deployed binary links just its
// platform's (go build -tags lambda,lambda.norpc for Lambda, -tags scf for
// SCF; both tags keep both). The local server is in every build.
package launch

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/local"
	"github.com/wemember/wemember/shared/web"
)

// Platform is where a function runs.
type Platform string

// The platforms.
const (
	Lambda Platform = "lambda" // AWS Lambda: AWS_LAMBDA_RUNTIME_API is set.
	SCF    Platform = "scf"    // Tencent SCF / CloudBase: _LAMBDA_SERVER_PORT is set.
	Local  Platform = "local"  // Anything else: a local HTTP server.
)

// DefaultAddr is where the local server listens without PORT: loopback
// only, so a development run is not reachable from the network.
const DefaultAddr = "127.0.0.1:8080"

// Choose picks the platform from the environment. Lambda wins when both
// runtime variables are set.
func Choose(getenv func(string) string) Platform {
	switch {
	case getenv("AWS_LAMBDA_RUNTIME_API") != "":
		return Lambda
	case getenv("_LAMBDA_SERVER_PORT") != "":
		return SCF
	}
	return Local
}

// cloudStart is the start function of p's cloud runtime, nil for Local and
// for a runtime this binary was built without (runtime_*.go).
func cloudStart(p Platform) func(web.Handler) {
	switch p {
	case Lambda:
		return lambdaRuntime()
	case SCF:
		return scfRuntime()
	}
	return nil
}

// Check is nil when this binary can run on p: always for Local, and for
// Lambda and SCF when it was built with their runtime. Otherwise it is an
// Invalid error naming the build tag that brings the runtime in.
func Check(p Platform) error {
	if p == Local || cloudStart(p) != nil {
		return nil
	}
	return errs.E("launch.Check", errs.Invalid, fmt.Sprintf(
		"this binary was built without the %s runtime: build it with -tags %s, or with no platform tag for every platform", p, p))
}

// Addr is the local server's listen address: DefaultAddr without PORT,
// 127.0.0.1:PORT when PORT is a bare port, PORT itself when it names a host
// too (":8080" or "0.0.0.0:8080" to listen on every interface on purpose).
func Addr(getenv func(string) string) string {
	p := strings.TrimSpace(getenv("PORT"))
	switch {
	case p == "":
		return DefaultAddr
	case strings.Contains(p, ":"):
		return p
	}
	return "127.0.0.1:" + p
}

// options are Run's settings.
type options struct {
	bodyLimit int
	log       *slog.Logger
}

// Option changes how Run starts.
type Option func(*options)

// WithBodyLimit sets the largest body the local server reads; it should be
// the limit given to h's web.Standard middleware. Default web.DefaultBodyLimit.
func WithBodyLimit(n int) Option { return func(o *options) { o.bodyLimit = n } }

// WithLogger sets where Run reports the local server's start and stop.
// Default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Run serves h on the platform Choose picks from the process environment.
// On Lambda and SCF it does not return. Locally it serves until SIGINT or
// SIGTERM and then shuts down gracefully; it exits the process with status
// 1 if the server fails, or at once if the binary was built without the
// platform's runtime (Check says which build tag it needs).
func Run(h web.Handler, opts ...Option) {
	o := options{bodyLimit: web.DefaultBodyLimit, log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	p := Choose(os.Getenv)
	if err := Check(p); err != nil {
		o.log.Error("start failed", slog.String("platform", string(p)), slog.String("error", err.Error()))
		os.Exit(1)
	}
	switch p {
	case Lambda, SCF:
		cloudStart(p)(h)
	default:
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		addr := Addr(os.Getenv)
		o.log.Info("listening", slog.String("addr", addr))
		if err := local.Serve(ctx, addr, local.Handler(h, o.bodyLimit)); err != nil {
			o.log.Error("local server failed", slog.String("error", err.Error()))
			stop()
			os.Exit(1)
		}
		o.log.Info("stopped")
	}
}
