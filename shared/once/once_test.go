package once_test

import (
	"context"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/once"
	"github.com/wemember/wemember/shared/store"
)

type credit struct {
	Points int64 `json:"points"`
}

func TestRecordClaimsOnceAndAnswersTheFirstResult(t *testing.T) {
	st, ctx := open(t), context.Background()
	k := store.K("idem#loyalty#points#order-1", "idem")
	if _, ok, err := once.Lookup[credit](ctx, st, k, "earn|m1"); ok || err != nil {
		t.Fatalf("Lookup before any claim = %v, %v; want nothing", ok, err)
	}
	at := time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
	claim, err := once.Claim(k, "earn|m1", at, credit{Points: 50}, 0)
	if err != nil {
		t.Fatal(err)
	}
	effect := store.Put(store.K("member#m1", "points"), []byte(`{"balance":50}`))
	if err := st.Write(ctx, effect, claim); err != nil {
		t.Fatalf("first claim: %v", err)
	}
	again, _ := once.Claim(k, "earn|m1", at, credit{Points: 99}, 0)
	if err := st.Write(ctx, effect, again); !errs.Is(errs.Conflict, err) {
		t.Errorf("second claim = %v, want errs.Conflict (the effects are not written twice)", err)
	}
	got, ok, err := once.Lookup[credit](ctx, st, k, "earn|m1")
	if !ok || err != nil || got.Points != 50 {
		t.Errorf("Lookup = %+v, %v, %v; want the first result (50 points)", got, ok, err)
	}
	if _, _, err := once.Lookup[credit](ctx, st, k, "spend|m1"); !errs.Is(errs.Exist, err) {
		t.Errorf("Lookup by another command = %v, want errs.Exist", err)
	}
}

func open(t *testing.T) store.Store {
	s, err := bolt.Open(t.TempDir() + "/once.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
