// Command local runs every wemember function in one process for development
// (`make run`): on 127.0.0.1:8080 (PORT overrides) over a bbolt file under
// data/, with the WeChat platform simulator beside it on 127.0.0.1:8090
// (SIM_PORT overrides). The expiry sweep runs every minute
// (WEMEMBER_SWEEP_INTERVAL overrides), as the cloud schedule would. Every
// setting can be overridden by the same environment variables the cloud
// functions read.
package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wemember/wemember/functions/local/runner"
	"github.com/wemember/wemember/shared/boot"
	"github.com/wemember/wemember/shared/config"
	"github.com/wemember/wemember/shared/launch"
	"github.com/wemember/wemember/shared/local"
	"github.com/wemember/wemember/tests/wxsim"
)

func main() {
	log := boot.Logger(os.Getenv("WEMEMBER_LOG_LEVEL"))
	if err := run(log); err != nil {
		log.Error("local run failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dataDir := envOr("WEMEMBER_DATA_DIR", "data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	simAddr := "127.0.0.1:" + envOr("SIM_PORT", "8090")
	dev := config.Dev(dataDir, "http://"+simAddr)
	getenv := func(k string) string {
		if v, ok := os.LookupEnv(k); ok {
			return v
		}
		return dev[k]
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}

	sim := wxsim.New()
	sim.AddApp(cfg.MPAppID, cfg.MPSecret)
	sim.AddApp(cfg.OAAppID, cfg.OASecret)
	sim.AddCorp(cfg.WeComCorpID, cfg.WeComSecret, false)
	simLn, err := net.Listen("tcp", simAddr)
	if err != nil {
		return err
	}
	go func() {
		if err := local.ServeListener(ctx, simLn, sim.Handler()); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("simulator failed", slog.String("error", err.Error()))
		}
	}()

	boot.ConfigureProcess(cfg)
	d, err := boot.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.Store.Close()
	if err := d.EnsureDefaults(ctx); err != nil {
		return err
	}
	hs, err := runner.Handlers(d)
	if err != nil {
		return err
	}
	h := runner.Mount(hs, cfg.BodyLimit)
	interval, err := time.ParseDuration(envOr("WEMEMBER_SWEEP_INTERVAL", "1m"))
	if err != nil || interval <= 0 {
		return errors.New("WEMEMBER_SWEEP_INTERVAL must be a positive duration")
	}
	go runner.Tick(ctx, hs["expiry-sweep"], interval, log)
	go d.Imports.Drive(ctx, 2*time.Second, time.Second) // Import jobs move on between polls.
	addr := launch.Addr(os.Getenv)
	log.Info("wemember is running", slog.String("addr", "http://"+addr), slog.String("simulator", "http://"+simAddr),
		slog.String("store", cfg.Store))
	return local.Serve(ctx, addr, h)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
