// Package invitetest holds the invitation suites, written against the
// store port so that they run on every adapter: bbolt in package invite's
// own tests, DynamoDB Local in tests/domain.
package invitetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/invite"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/store"
)

// LifecycleOption tunes a lifecycle suite run.
type LifecycleOption func(*lcConfig)

type lcConfig struct {
	members, workers int
}

// WithPoolRace sets how many members race for a campaign's pool of half as
// many codes, over how many goroutines (default 200 over 200). A remote
// store (DynamoDB Local, which times out transactions waiting for a lock)
// keeps the race short with fewer.
func WithPoolRace(members, workers int) LifecycleOption {
	return func(c *lcConfig) { c.members, c.workers = members, workers }
}

// RunLifecycle runs the code lifecycle tests — batches, own codes,
// campaigns and their pools, sharing, resets and the sweeps — against the
// stores open returns.
func RunLifecycle(t *testing.T, open func(t *testing.T) store.Store, opts ...LifecycleOption) {
	cfg := lcConfig{members: 200, workers: 200}
	for _, o := range opts {
		o(&cfg)
	}
	tests := []struct {
		name string
		run  func(*testing.T, *lcEnv)
	}{
		{"BatchStoresNoText", lcBatchStoresNoText},
		{"BatchRefusals", lcBatchRefusals},
		{"BatchCapacity", lcBatchCapacity},
		{"BatchCollisionRedrawn", lcBatchCollisionRedrawn},
		{"BatchMaxPaged", lcBatchMaxPaged},
		{"OwnCodeOnce", lcOwnCodeOnce},
		{"OwnCodeConcurrent", lcOwnCodeConcurrent},
		{"OwnCodeReplacedWhenExpired", lcOwnCodeReplacedWhenExpired},
		{"CampaignSave", lcCampaignSave},
		{"CampaignJoinOnce", lcCampaignJoinOnce},
		{"PoolClaimConcurrent", func(t *testing.T, e *lcEnv) { lcPoolClaimConcurrent(t, e, cfg.members, cfg.workers) }},
		{"PoolRefills", lcPoolRefills},
		{"ShareExtends", lcShareExtends},
		{"ResetArchives", lcResetArchives},
		{"ExpireResumable", lcExpireResumable},
		{"ExpireBatchPage", lcExpireBatchPage},
		{"ExpireStaleItems", lcExpireStaleItems},
		{"CampaignEnds", lcCampaignEnds},
		{"RotateWeCom", lcRotateWeCom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, lcNew(t, open(t)))
		})
	}
}

// lcEnv is one test's service over a recording store, with its clock.
type lcEnv struct {
	st  *lcRecorder
	box *pii.Box
	svc *invite.Service
	now atomic.Int64 // Unix seconds.
	ctx context.Context
}

var lcStart = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

func lcNew(t *testing.T, st store.Store) *lcEnv {
	t.Helper()
	box, err := pii.New([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	e := &lcEnv{st: &lcRecorder{Store: st}, box: box, ctx: context.Background()}
	e.now.Store(lcStart.Unix())
	e.svc = invite.New(e.st, box, nil, nil, nil, e.clock, lcID)
	return e
}

func (e *lcEnv) clock() time.Time { return time.Unix(e.now.Load(), 0).UTC() }

// advance moves the clock on.
func (e *lcEnv) advance(d time.Duration) { e.now.Add(int64(d / time.Second)) }

func lcID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// lcRecorder keeps every mutation written, so that a test can search all
// that reached the store.
type lcRecorder struct {
	store.Store
	mu      sync.Mutex
	writes  []store.Mutation
	refused []store.Mutation // Writes refused on a condition.
}

func (r *lcRecorder) Write(ctx context.Context, ms ...store.Mutation) error {
	err := r.Store.Write(ctx, ms...)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.writes = append(r.writes, ms...)
	} else if k, ok := store.FailedKey(err); ok {
		for _, m := range ms {
			if m.Key == k {
				r.refused = append(r.refused, m)
			}
		}
	}
	return err
}

// written reports whether any key or data ever written contains s.
func (r *lcRecorder) written(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.writes {
		if strings.Contains(m.Key.PK, s) || strings.Contains(m.Key.SK, s) || strings.Contains(string(m.Data), s) {
			return true
		}
	}
	return false
}

// lcLive asserts that a code's text finds the code, live at now.
func (e *lcEnv) lookup(t *testing.T, text string) invite.Code {
	t.Helper()
	c, _, err := e.svc.Lookup(e.ctx, text)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", text, err)
	}
	return c
}
