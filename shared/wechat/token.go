package wechat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/credential"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// TokenSource hands out an app's access token from the store shared by every
// instance, refreshing it when it is missing or near expiry. A lease item
// written with IfAbsent makes one instance refresh while the others keep
// using the old token if it still works, or wait briefly and re-read.
//
// A mini-program's or Official Account's source (NewTokenSource) refreshes
// through the stable-token API (POST /cgi-bin/stable_token) because, unlike
// /cgi-bin/token, a normal call does not invalidate the token others hold. A
// WeCom corp's source (NewWeComTokenSource) refreshes through WeCom's
// gettoken with corpid and corpsecret. The lease and the cache are the same
// for both.
//
// TokenSource implements silenceper's credential.AccessTokenContextHandle.
// It is safe for concurrent use.
type TokenSource struct {
	st        store.Store
	partition string // The store partition of the token and the lease.
	// fetch asks WeChat for a token; force asks for a new one where the API
	// can (stable_token's force_refresh), else it is ignored.
	fetch    func(ctx context.Context, force bool) (credential.ResAccessToken, error)
	canForce bool
	now      func() time.Time
	owner    string
	leaseTTL time.Duration
	margin   time.Duration
	poll     time.Duration
	wait     time.Duration
}

// TokenOption configures a TokenSource.
type TokenOption func(*TokenSource)

// WithTokenClock makes the source read time from now instead of time.Now.
// It must agree with the store's clock, which expires the lease.
func WithTokenClock(now func() time.Time) TokenOption {
	return func(t *TokenSource) { t.now = now }
}

// WithLease sets how long a refresh lease lasts if its holder dies
// (default 10s).
func WithLease(ttl time.Duration) TokenOption { return func(t *TokenSource) { t.leaseTTL = ttl } }

// WithRefreshMargin sets how long before expiry a token is renewed (default
// 5 minutes, the span in which WeChat's normal mode hands out a new token; a
// larger margin would refresh in vain).
func WithRefreshMargin(d time.Duration) TokenOption { return func(t *TokenSource) { t.margin = d } }

// WithWait sets how often and for how long a caller with no usable token
// re-reads the store while another instance refreshes (default every 50ms
// for up to 5s).
func WithWait(poll, max time.Duration) TokenOption {
	return func(t *TokenSource) { t.poll, t.wait = poll, max }
}

// WithOwner names the lease holder in the store (default: random).
func WithOwner(id string) TokenOption { return func(t *TokenSource) { t.owner = id } }

// NewTokenSource returns the token source of one mini-program or Official
// Account over the shared store, refreshed through the stable-token API.
func NewTokenSource(st store.Store, appID, secret string, opts ...TokenOption) *TokenSource {
	t := newTokenSource(st, "wxtoken#"+appID, opts)
	// silenceper's stable handle demands a cache; only its direct fetch is used.
	stable := credential.NewStableAccessToken(appID, secret, credential.CacheKeyMiniProgramPrefix, cache.NewMemory()).(*credential.StableAccessToken)
	t.canForce = true
	t.fetch = func(ctx context.Context, force bool) (credential.ResAccessToken, error) {
		res, err := stable.GetAccessTokenDirectly(ctx, force)
		return tokenAnswer("wechat.stableToken", "stable_token", res, err)
	}
	return t
}

// NewWeComTokenSource returns the token source of one WeCom corp and secret
// (the customer-contact secret, or that of an app allowed to call the
// customer-contact APIs) over the shared store, refreshed through WeCom's
// gettoken. The store holds one token per corp: give every instance the same
// secret.
func NewWeComTokenSource(st store.Store, corpID, corpSecret string, opts ...TokenOption) *TokenSource {
	t := newTokenSource(st, "wxtoken#wecom/"+corpID, opts)
	u := WeComAPIBase + "/cgi-bin/gettoken?" + url.Values{"corpid": {corpID}, "corpsecret": {corpSecret}}.Encode()
	t.fetch = func(ctx context.Context, _ bool) (credential.ResAccessToken, error) {
		res, err := credential.GetTokenFromServerContext(ctx, u)
		return tokenAnswer("wechat.gettoken", "gettoken", res, err)
	}
	return t
}

func newTokenSource(st store.Store, partition string, opts []TokenOption) *TokenSource {
	t := &TokenSource{
		st: st, partition: partition, now: time.Now,
		leaseTTL: 10 * time.Second, margin: 5 * time.Minute,
		poll: 50 * time.Millisecond, wait: 5 * time.Second,
	}
	for _, o := range opts {
		o(t)
	}
	if t.owner == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b) // Only names the holder; never fails on supported platforms.
		t.owner = hex.EncodeToString(b)
	}
	return t
}

var _ credential.AccessTokenContextHandle = (*TokenSource)(nil)

// cachedToken is the stored token item's data.
type cachedToken struct {
	Token     string `json:"token"`
	ExpiresAt int64  `json:"expires_at"` // Unix seconds.
	FetchedAt int64  `json:"fetched_at"` // Unix seconds.
}

// minRefetch is how soon after a fetch a token counts as fresh whatever its
// expires_in, so a short-lived answer cannot make every call refetch.
const minRefetch = 30 * time.Second

func (t *TokenSource) tokenKey() store.Key { return store.K(t.partition, "access_token") }
func (t *TokenSource) leaseKey() store.Key { return store.K(t.partition, "lease") }

// errLeaseHeld says another instance is refreshing.
var errLeaseHeld = errors.New("refresh lease held elsewhere")

// GetAccessToken is GetAccessTokenContext without a context, for silenceper
// calls that do not pass one.
func (t *TokenSource) GetAccessToken() (string, error) {
	return t.GetAccessTokenContext(context.Background())
}

// GetAccessTokenContext returns a working access token: the cached one
// unless it is missing or within the refresh margin of expiry. Errors:
// errs.Transient when WeChat is unreachable or another instance's refresh
// does not finish in time, errs.Internal for a misconfigured app.
func (t *TokenSource) GetAccessTokenContext(ctx context.Context) (string, error) {
	return t.get(ctx, "")
}

// Refresh is the path for an API that rejected token bad (errcode 40001,
// 40014 or 42001): unless the cache already holds another token, it fetches
// the current token, and, for a stable-token source, forces a new one
// (force_refresh, limited by WeChat to 20 a day) only if WeChat still hands
// out bad. WeCom's gettoken cannot be forced: its answer is stored as it is.
func (t *TokenSource) Refresh(ctx context.Context, bad string) (string, error) {
	return t.get(ctx, bad)
}

func (t *TokenSource) get(ctx context.Context, bad string) (string, error) {
	const op = "wechat.AccessToken"
	deadline := time.Now().Add(t.wait)
	for {
		cur, found, err := t.read(ctx)
		if err != nil {
			return "", errs.E(op, err)
		}
		if found && cur.Token != bad && t.fresh(cur) {
			return cur.Token, nil
		}
		tok, err := t.refresh(ctx, bad)
		if !errors.Is(err, errLeaseHeld) {
			if err != nil {
				return "", errs.E(op, err)
			}
			return tok, nil
		}
		if found && cur.Token != bad && t.now().Before(time.Unix(cur.ExpiresAt, 0)) {
			return cur.Token, nil // Near expiry but working; the holder renews it.
		}
		if !time.Now().Before(deadline) {
			return "", errs.E(op, errs.Transient, "access token unavailable, retry", errors.New("timed out waiting for another instance's refresh"))
		}
		timer := time.NewTimer(t.poll)
		select {
		case <-ctx.Done():
			timer.Stop()
			return "", errs.E(op, errs.Transient, ctx.Err())
		case <-timer.C:
		}
	}
}

// fresh reports whether a cached token is outside the refresh margin.
func (t *TokenSource) fresh(c cachedToken) bool {
	now, exp := t.now(), time.Unix(c.ExpiresAt, 0)
	if now.Sub(time.Unix(c.FetchedAt, 0)) < minRefetch {
		return now.Before(exp)
	}
	return now.Add(t.margin).Before(exp)
}

func (t *TokenSource) read(ctx context.Context) (cachedToken, bool, error) {
	var c cachedToken
	_, err := store.GetJSON(ctx, t.st, t.tokenKey(), &c)
	switch {
	case errs.Is(errs.NotExist, err):
		return c, false, nil
	case err != nil:
		return c, false, err
	}
	return c, c.Token != "", nil
}

// refresh takes the lease, re-reads, fetches a token if still needed and
// stores it, releasing the lease in the same write.
func (t *TokenSource) refresh(ctx context.Context, bad string) (string, error) {
	lease := store.Put(t.leaseKey(), []byte(t.owner)).IfAbsent().ExpiresAt(t.now().Add(t.leaseTTL))
	if err := t.st.Write(ctx, lease); err != nil {
		if errs.Is(errs.Conflict, err) {
			return "", errLeaseHeld
		}
		return "", err
	}
	release := func() { _ = t.st.Write(context.WithoutCancel(ctx), store.Delete(t.leaseKey())) }
	// Another instance may have refreshed between our read and the lease.
	cur, found, err := t.read(ctx)
	if err != nil {
		release()
		return "", err
	}
	if found && cur.Token != bad && t.fresh(cur) {
		release()
		return cur.Token, nil
	}
	res, err := t.fetch(ctx, false)
	if err == nil && bad != "" && res.AccessToken == bad && t.canForce {
		res, err = t.fetch(ctx, true)
	}
	if err != nil {
		release()
		return "", err
	}
	now := t.now()
	exp := now.Add(time.Duration(res.ExpiresIn) * time.Second)
	c := cachedToken{Token: res.AccessToken, ExpiresAt: exp.Unix(), FetchedAt: now.Unix()}
	if err := t.st.Write(ctx, store.PutJSON(t.tokenKey(), c).ExpiresAt(exp), store.Delete(t.leaseKey())); err != nil {
		release()
		return "", err
	}
	return c.Token, nil
}

// tokenAnswer classifies a token API's answer through silenceper.
func tokenAnswer(op, api string, res credential.ResAccessToken, err error) (credential.ResAccessToken, error) {
	switch {
	case err != nil && res.ErrCode == 0:
		return res, transport(op, err)
	case err != nil:
		e := &apiError{API: api, ErrCode: res.ErrCode, ErrMsg: res.ErrMsg}
		if e.ErrCode == codeSystemBusy {
			return res, errs.E(op, errs.Transient, "WeChat is busy", e)
		}
		return res, errs.E(op, errs.Internal, e)
	case res.AccessToken == "" || res.ExpiresIn <= 0:
		return res, errs.E(op, errs.Internal, fmt.Errorf("%s answered without a token", api))
	}
	return res, nil
}
