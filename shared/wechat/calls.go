package wechat

import (
	"context"
	"errors"
	"fmt"

	"github.com/silenceper/wechat/v2/util"

	"github.com/wemember/wemember/shared/errs"
)

// callAPI runs one silenceper call that needs an access token: fn makes the
// call with the token handle it is given and returns silenceper's error.
// When WeChat rejects the token (40001, 40014, 42001) the source refreshes it
// and fn runs once more. The result is nil, an *apiError for an errcode
// answer (classify it with the API's table), or an errs error for a failure
// to get a token or to reach WeChat.
//
// Most silenceper calls take no context: fn then runs in its own goroutine
// and callAPI returns errs.Transient when ctx ends first, leaving the call to
// finish in the background (silenceper's HTTP client has no timeout of its
// own).
func callAPI(ctx context.Context, op, api string, src *TokenSource, fn func(h *boundTokens) error) error {
	for attempt := 0; ; attempt++ {
		h := &boundTokens{ctx: ctx, src: src, op: op}
		err := detached(ctx, func() error { return fn(h) })
		if err == nil {
			return nil
		}
		if k := errs.KindOf(err); k != errs.Other {
			return errs.E(op, err) // From the token source or the context.
		}
		var e *apiError
		var ce *util.CommonError
		switch {
		case errors.As(err, &e):
		case errors.As(err, &ce):
			e = &apiError{API: api, ErrCode: ce.ErrCode, ErrMsg: ce.ErrMsg}
		default:
			return transport(op, err)
		}
		if isTokenRejected(e.ErrCode) && attempt == 0 && h.used != "" {
			if _, err := src.Refresh(ctx, h.used); err != nil {
				return errs.E(op, err)
			}
			continue
		}
		return e
	}
}

// classify turns callAPI's *apiError into an errs error with the API's
// errcode table; other errors are already classified.
func classify(op string, err error, table func(op string, e *apiError) error) error {
	if e, ok := err.(*apiError); ok {
		return table(op, e)
	}
	return err
}

// detached runs fn and waits for it or for ctx, whichever ends first.
func detached(ctx context.Context, fn func() error) error {
	if ctx.Done() == nil {
		return fn()
	}
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return errs.E(errs.Transient, "WeChat did not answer in time", ctx.Err())
	}
}

// boundTokens hands silenceper tokens under the caller's context and
// remembers which token it handed out, so a rejection can name it.
type boundTokens struct {
	ctx  context.Context
	src  *TokenSource
	op   string
	used string
}

// GetAccessToken implements silenceper's credential.AccessTokenHandle.
func (b *boundTokens) GetAccessToken() (string, error) {
	if b.src == nil {
		return "", errs.E(b.op, errs.Internal, fmt.Errorf("no token source"))
	}
	t, err := b.src.GetAccessTokenContext(b.ctx)
	b.used = t
	return t, err
}
