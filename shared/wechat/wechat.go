// Package wechat is the edge over github.com/silenceper/wechat/v2: the
// mini-program (login, phone number, subscribe messages), the Official
// Account (user info) and WeCom (external contacts, welcome messages), with
// access tokens cached in the store so that concurrent, cold serverless
// instances share one token instead of invalidating each other's.
//
// WeChat errcodes are turned into errs kinds in one place (errcodes.go), with
// messages safe to show a client. Secrets, session keys, phone numbers,
// names and unionids never appear in an error or a log line from this
// package.
package wechat

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/wxuser"
)

// APIBase is where WeChat's server API lives (mini-program, Official
// Account).
const APIBase = "https://api.weixin.qq.com"

// WeComAPIBase is where WeCom's server API lives.
const WeComAPIBase = "https://qyapi.weixin.qq.com"

// MPBase is where the Official Account's QR images are served
// (/cgi-bin/showqrcode).
const MPBase = "https://mp.weixin.qq.com"

// UseAPIBase points every silenceper call to APIBase, WeComAPIBase or MPBase at base
// (e.g. a simulator at "http://127.0.0.1:8090"); an empty base restores
// WeChat. Both hosts go to the same base: the simulator tells their paths
// apart (they do not collide for the APIs used here) and, where a path
// exists on both hosts, by the kind of access token.
//
// The redirection is process-global by silenceper's design
// (util.SetURIModifier sets a package variable read, unsynchronised, by
// every request), so call UseAPIBase once at start-up, before any request,
// never per test or per request.
func UseAPIBase(base string) {
	if base == "" {
		util.SetURIModifier(nil)
		return
	}
	base = strings.TrimRight(base, "/")
	util.SetURIModifier(func(uri string) string {
		for _, host := range [...]string{APIBase, WeComAPIBase, MPBase} {
			if rest, ok := strings.CutPrefix(uri, host); ok {
				return base + rest
			}
		}
		return uri
	})
}

// apiError is a WeChat errcode answer, rendered without the request's URL.
type apiError = wxuser.APIError

// ErrCode reports the WeChat errcode along err's chain, or 0.
func ErrCode(err error) int64 {
	if c := wxuser.ErrCode(err); c != 0 {
		return c
	}
	var c *util.CommonError
	if errors.As(err, &c) {
		return c.ErrCode
	}
	return 0
}

// transport classifies an error that is not an errcode answer: a failure to
// reach WeChat, or an answer that is not its JSON, is Transient, anything
// else Internal. silenceper's own errors
// quote the full request URL, which can carry the app secret and the js_code,
// so they are never wrapped as they are.
func transport(op string, err error) error {
	if k := errs.KindOf(err); k != errs.Other {
		return errs.E(op, k, err) // Ours already, e.g. from the token source.
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		path := ""
		if u, perr := url.Parse(ue.URL); perr == nil {
			path = u.Path
		}
		return errs.E(op, errs.Transient, "WeChat is unreachable", fmt.Errorf("%s %s: %w", ue.Op, path, ue.Err))
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "http get error") || strings.HasPrefix(msg, "http post error") {
		status := "?"
		if i := strings.LastIndex(msg, "statusCode="); i >= 0 {
			status = msg[i+len("statusCode="):]
		}
		return errs.E(op, errs.Transient, "WeChat is unavailable", fmt.Errorf("HTTP status %s", status))
	}
	if undecodable(err) {
		return errs.E(op, errs.Transient, "WeChat gave an unreadable answer, retry later",
			fmt.Errorf("undecodable WeChat answer: %w", err))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errs.E(op, errs.Transient, "WeChat is unreachable", errors.New("answer cut short"))
	}
	return errs.E(op, errs.Internal, fmt.Errorf("unexpected failure calling WeChat (%T)", err))
}

// undecodable reports whether err says an answer was not the JSON the API
// promises: an HTML error page from a gateway, an empty or cut-off body, a
// value of the wrong shape. WeChat sends those with status 200 while its
// front end is in trouble, so they are upstream failures a retry may pass,
// not bugs of ours. silenceper returns encoding/json's errors as they are or
// flattens them into its own message ("json Unmarshal Error, err=...").
func undecodable(err error) bool {
	var syntax *json.SyntaxError
	var shape *json.UnmarshalTypeError
	if errors.As(err, &syntax) || errors.As(err, &shape) {
		return true
	}
	msg := err.Error()
	for _, s := range [...]string{"json Unmarshal Error", "invalid character", "cannot unmarshal", "unexpected end of JSON input"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// SetCallTimeout bounds every call silenceper makes. silenceper sends its
// requests through http.DefaultClient, which has no timeout, and several of
// its APIs take no context; without a bound, a hung WeChat call would hang
// its goroutine for good. Like UseAPIBase it is process-global by the
// library's design: call it once at start-up.
func SetCallTimeout(d time.Duration) { http.DefaultClient.Timeout = d }
