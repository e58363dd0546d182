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
	Binary   string
	Event    []byte
	Env      map[string]string // Function configuration, besides the Lambda variables; {{tmp}} is the run's folder.
	Timeout  time.Duration
	// Prepare, if set, runs before the exec (not timed) with the function's
	// configuration: it seeds the store as a live deployment has it.
	Prepare func(ctx context.Context, env map[string]string) error
}

// coldStart execs the binary as Lambda would, with a fresh fake Runtime API
// and an empty /tmp-like working directory, waits for its first answer and
// kills it.
func coldStart(ctx context.Context, l launch) (measurement, error) {
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
		"AWS_EC2_METADATA_DISABLED":       "true",
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                filepath.Dir(l.Binary),
		"HOME":                            dir,
		"TMPDIR":                          dir,
		"TZ":                              ":UTC",
	}
	for k, v := range l.Env {
		env[k] = strings.ReplaceAll(v, "{{tmp}}", dir)
	}

	if l.Prepare != nil {
		if err := l.Prepare(ctx, env); err != nil {
			return measurement{}, fmt.Errorf("%s: prepare: %w", l.Function, err)
		}
	}

	runCtx, cancel := context.WithTimeout(ctx, l.Timeout)
	defer cancel()
	var logs tail
	cmd := exec.CommandContext(runCtx, l.Binary)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &logs, &logs
	cmd.WaitDelay = 2 * time.Second
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	exited := make(chan error, 1)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return measurement{}, err
	}
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}

	select {
	case o := <-api.Answered():
		stop()
		m := measurement{First: o.At.Sub(start), Answer: answerOf(o)}
		if next := api.NextAt(); !next.IsZero() {
			m.Init = next.Sub(start)
		}
		if o.Kind == "init-error" {
			return m, fmt.Errorf("%s: init failed: %s\n%s", l.Function, o.Body, logs.String())
		}
		return m, nil
	case err := <-exited:
		return measurement{}, fmt.Errorf("%s exited before answering (%v):\n%s", l.Function, err, logs.String())
	case <-runCtx.Done():
		stop()
		return measurement{}, fmt.Errorf("%s: no answer within %s (%v):\n%s", l.Function, l.Timeout, runCtx.Err(), logs.String())
	}
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
