package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// measurement is one cold start.
type measurement struct {
	Init   time.Duration // exec → first GET next: the process is ready.
	First  time.Duration // exec → first answer posted: init and the first invocation.
	Answer string        // What the function answered: an HTTP status, "ok", or an error type.
}

// launch is what one cold start needs.
type launch struct {
	Function string
	Platform string // "lambda" or "scf": which runtime interface the binary is driven by.
	Binary   string
	Event    []byte
	Env      map[string]string // Function configuration, besides the Lambda variables; {{tmp}} is the run's folder.
	Timeout  time.Duration
	// Prepare, if set, runs before the exec (not timed) with the function's
	// configuration: it seeds the store as a live deployment has it.
	Prepare func(ctx context.Context, env map[string]string) error
}

// coldStart execs the binary as its platform would, in an empty
// /tmp-like working directory, waits for its first answer and kills it.
func coldStart(ctx context.Context, l launch) (measurement, error) {
	if l.Platform == "scf" {
		return coldStartSCF(ctx, l)
	}
	return coldStartLambda(ctx, l)
}

// coldStartLambda execs the binary as Lambda would, with a fresh fake
// Runtime API, and times exec → first GET next and → answer posted.
func coldStartLambda(ctx context.Context, l launch) (measurement, error) {
	dir, err := os.MkdirTemp("", "coldstart-run-")
	if err != nil {
		return measurement{}, err
	}
	defer os.RemoveAll(dir)

	api, err := newRuntimeAPI(l.Event, "req-"+strconv.FormatInt(time.Now().UnixNano(), 36), l.Timeout, time.Now)
	if err != nil {
		return measurement{}, err
	}
	defer api.Close()

	env := map[string]string{
		// What the Lambda service sets for a provided.al2023 function.
		"AWS_LAMBDA_RUNTIME_API":          api.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME":        l.Function,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + l.Function,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "coldstart",
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"AWS_ACCESS_KEY_ID":               "local",
		"AWS_SECRET_ACCESS_KEY":           "local",
		"AWS_SESSION_TOKEN":               "local",
		"AWS_EC2_METADATA_DISABLED":       "true",
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                filepath.Dir(l.Binary),
	}
	p, err := startProcess(ctx, l, dir, env)
	if err != nil {
		return measurement{}, err
	}
	defer p.cancel()

	select {
	case o := <-api.Answered():
		p.stop()
		m := measurement{First: o.At.Sub(p.start), Answer: answerOf(o)}
		if next := api.NextAt(); !next.IsZero() {
			m.Init = next.Sub(p.start)
		}
		if o.Kind == "init-error" {
			return m, fmt.Errorf("%s: init failed: %s\n%s", l.Function, o.Body, p.logs.String())
		}
		return m, nil
	case err := <-p.exited:
		return measurement{}, fmt.Errorf("%s exited before answering (%v):\n%s", l.Function, err, p.logs.String())
	case <-p.ctx.Done():
		p.stop()
		return measurement{}, fmt.Errorf("%s: no answer within %s (%v):\n%s", l.Function, l.Timeout, p.ctx.Err(), p.logs.String())
	}
}

// process is one started function.
type process struct {
	ctx    context.Context // Ends at the launch's timeout.
	cancel context.CancelFunc
	start  time.Time
	exited chan error
	logs   *tail
	stop   func() // Kills the process and waits for it.
}

// startProcess runs Prepare and execs the binary with the platform's
// variables env and the function's configuration, in dir.
func startProcess(ctx context.Context, l launch, dir string, env map[string]string) (*process, error) {
	env["HOME"], env["TMPDIR"], env["TZ"] = dir, dir, ":UTC"
	for k, v := range l.Env {
		env[k] = strings.ReplaceAll(v, "{{tmp}}", dir)
	}
	if l.Prepare != nil {
		if err := l.Prepare(ctx, env); err != nil {
			return nil, fmt.Errorf("%s: prepare: %w", l.Function, err)
		}
	}
	runCtx, cancel := context.WithTimeout(ctx, l.Timeout)
	p := &process{ctx: runCtx, cancel: cancel, exited: make(chan error, 1), logs: &tail{}}
	cmd := exec.CommandContext(runCtx, l.Binary)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, p.logs, p.logs
	cmd.WaitDelay = 2 * time.Second
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p.start = time.Now()
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	go func() { p.exited <- cmd.Wait() }()
	var once sync.Once
	p.stop = func() {
		once.Do(func() {
			cmd.Process.Kill()
			<-p.exited
		})
	}
	return p, nil
}

// answerOf summarises an answer: the HTTP status of an HTTP response, "ok"
// for any other response, or the error type.
func answerOf(o outcome) string {
	switch o.Kind {
	case "response":
		var r struct {
			StatusCode int `json:"statusCode"`
		}
		if json.Unmarshal(o.Body, &r) == nil && r.StatusCode != 0 {
			return strconv.Itoa(r.StatusCode)
		}
		return "ok"
	case "error":
		var e struct {
			Type string `json:"errorType"`
		}
		json.Unmarshal(o.Body, &e)
		return "error " + e.Type
	}
	return o.Kind
}

// tail keeps the last 8 KiB a child wrote, for diagnostics.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - 8<<10; over > 0 {
		t.buf = bytes.Clone(t.buf[over:])
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
