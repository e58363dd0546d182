// Package once keeps the idempotency record a domain command writes with its
// effects, so that a retried command takes effect once and answers as the
// first time.
package once

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// Record is the idempotency record a domain command writes in the same
// atomic write as its effects: which command claimed the key (Scope) and
// the result it answered. Where Guard makes a request's answer stable, a
// Record makes a command's effects happen once.
type Record struct {
	Scope  string          `json:"scope"`
	At     time.Time       `json:"at"`
	Result json.RawMessage `json:"result"`
}

// Claim is the mutation that claims k for a command of scope with its
// result: written with the command's effects, it fails the whole write with
// errs.Conflict when k is already claimed. A ttl > 0 lets the record expire.
func Claim(k store.Key, scope string, at time.Time, result any, ttl time.Duration) (store.Mutation, error) {
	b, err := json.Marshal(result)
	if err != nil {
		return store.Mutation{}, errs.E("once.Claim", errs.Internal, err)
	}
	m := store.PutJSON(k, Record{Scope: scope, At: at, Result: b}).IfAbsent()
	if ttl > 0 {
		m = m.ExpiresAt(at.Add(ttl))
	}
	return m, nil
}

// Lookup reads the result a command stored under k. It reports false when
// k is unclaimed, and fails with errs.Exist when a command of another scope
// claimed it.
func Lookup[T any](ctx context.Context, st store.Store, k store.Key, scope string) (T, bool, error) {
	const op = "once.Lookup"
	var zero, res T
	var rec Record
	if _, err := store.GetJSON(ctx, st, k, &rec); err != nil {
		if errs.Is(errs.NotExist, err) {
			return zero, false, nil
		}
		return zero, false, errs.E(op, err)
	}
	if rec.Scope != scope {
		return zero, false, errs.E(op, errs.Exist, "idempotency key already used for a different command")
	}
	if err := json.Unmarshal(rec.Result, &res); err != nil {
		return zero, false, errs.E(op, errs.Internal, fmt.Errorf("decode idempotency record: %w", err))
	}
	return res, true, nil
}
