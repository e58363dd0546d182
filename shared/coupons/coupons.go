// Package coupons is wemember's coupon domain: templates that operators
// define (amount off or discount, threshold, scope, stock, per-member limit,
// validity), coupon instances issued from them to one member each, the
// triggers that issue them (registration, birthday, sign-in streak, monthly
// level coupon, operator), redemption (核销) exactly once, and the expiry
// sweep. It reaches the database only through the store port.
//
// Items it owns:
//
//	ctpl#all            | tpl#<template>          the template (versioned)
//	ctpl#<template>     | v#<version>             every saved version, for audit
//	ctpl#<template>     | stock#<shard>           stock counter shards (N = taken)
//	coupon#<instance>   | coupon                  the instance, authoritative
//	member#<member>     | coupon#c#<rank>#<to>#<id> the member's listing copy
//	member#<member>     | coupon#n#<template>     per-member take counter
//	idem#coupon#<key>   | idem                    issue idempotency record (package once)
//	due#coupon#<day>#s<n> | <validTo unix>#<id>   expiry due index (UTC day, shard n of store.Shards by id)
//	due#coupon#<day>    | <validTo unix>#<id>     the same, as earlier releases wrote it (read, never written)
//	due#coupon#cursor   | cursor                  the sweep's first open day
//
// Every issue, redemption, revocation and expiry changes all affected items
// in one atomic store.Write, so the listing, the due index and the counters
// never disagree with the instance.
package coupons

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"hash/fnv"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
)

// Config tunes a Service. Zero fields take the documented defaults.
type Config struct {
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// NewID returns a fresh, unguessable instance id. Default RandomID.
	NewID func() string
	// Shards is how many stock counter shards a new template gets (fewer
	// when its stock is small: at least ShardMin units per shard). Default 8,
	// at most 64.
	Shards int
	// ShardMin is the least stock per shard; a stock under 2×ShardMin keeps
	// one exact counter. Default 8.
	ShardMin int64
	// Retries bounds how often a write that failed with errs.Transient (for
	// example a DynamoDB transaction conflict on a hot item) is retried.
	// Default 4 (the store adapter retries too).
	Retries int
	// Triggers names the templates the trigger functions issue, when Rules
	// is nil.
	Triggers Triggers
	// Rules, when set, gives the triggers in force: it is read on every
	// trigger, so an operator's change of the rules applies at once, and its
	// values are used as they are (a BirthdayLead of 0 means on the day).
	Rules func(ctx context.Context) (Triggers, error)
	// Lookback is how far back the very first expiry sweep starts, before
	// it has stored its cursor: it must reach the oldest due day that may
	// hold items. Default 400 days (a few small queries per day, once).
	Lookback time.Duration
}

// Triggers binds the trigger functions to template ids. In Config.Triggers
// zero fields take the ids of the default templates. The monthly level
// coupon is named by the level (IssueMonthlyLevel).
type Triggers struct {
	Registration string // Default "registration".
	Birthday     string // Default "birthday".
	Streak       string // Default "signin-streak".
	BirthdayLead int    // Days before the birthday it is due; default 3.
}

// Service runs the coupon rules over a store. It is safe for concurrent use.
type Service struct {
	st       store.Store
	now      func() time.Time
	newID    func() string
	shards   int
	shardMin int64
	retries  int
	trig     Triggers
	rules    func(ctx context.Context) (Triggers, error)
	lookback time.Duration
}

// New builds a Service over s.
func New(s store.Store, cfg Config) *Service {
	sv := &Service{st: s, now: cfg.Now, newID: cfg.NewID, shards: cfg.Shards,
		shardMin: cfg.ShardMin, retries: cfg.Retries, trig: cfg.Triggers, rules: cfg.Rules, lookback: cfg.Lookback}
	if sv.now == nil {
		sv.now = time.Now
	}
	if sv.newID == nil {
		sv.newID = RandomID
	}
	if sv.shards <= 0 {
		sv.shards = 8
	}
	sv.shards = min(sv.shards, 64)
	if sv.shardMin <= 0 {
		sv.shardMin = 8
	}
	if sv.retries <= 0 {
		sv.retries = 4
	}
	if sv.lookback <= 0 {
		sv.lookback = 400 * 24 * time.Hour
	}
	t := &sv.trig
	if t.Registration == "" {
		t.Registration = "registration"
	}
	if t.Birthday == "" {
		t.Birthday = "birthday"
	}
	if t.Streak == "" {
		t.Streak = "signin-streak"
	}
	if t.BirthdayLead <= 0 {
		t.BirthdayLead = 3
	}
	return sv
}

// triggers are the triggers in force: Config.Rules' answer, or the
// configured ones.
func (s *Service) triggers(ctx context.Context) (Triggers, error) {
	if s.rules == nil {
		return s.trig, nil
	}
	t, err := s.rules(ctx)
	if err != nil {
		return Triggers{}, errs.E("coupons.triggers", err)
	}
	return t, nil
}

// RandomID returns 128 bits from crypto/rand as 26 lower-case base32
// characters: an instance id nobody can guess from another.
func RandomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // Never fails since Go 1.24; it crashes instead.
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// clock returns the service time truncated to seconds, the precision the
// store keeps for expiries and the due index uses.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Second) }

// hash spreads members over stock shards without randomness.
func hash(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32()
}

// retry runs f until it succeeds, fails with a kind other than Transient, or
// the retry budget or ctx runs out, pausing as backoff says between tries.
// key names the command, for the reader of a call.
func (s *Service) retry(ctx context.Context, f func(attempt int) error) error {
	var err error
	for attempt := 0; attempt < s.retries; attempt++ {
		if err = f(attempt); !errs.Is(errs.Transient, err) {
			return err
		}
		if backoff().Pause(ctx, attempt+1) != nil {
			return err
		}
	}
	return err
}

// backoff is the pause between tries of a coupon command that found stock,
// counters or an instance busy: 2–4 ms the first time, doubling up to 64 ms.
func backoff() retry.Policy {
	return retry.Policy{Base: 4 * time.Millisecond, Max: 64 * time.Millisecond}
}

// validID checks an id used inside keys.
func validID(op, what, id string) error {
	if id == "" {
		return errs.E(op, errs.Invalid, what+" is required")
	}
	if len(id) > 128 {
		return errs.E(op, errs.Invalid, what+" is too long")
	}
	return nil
}

// validKey checks an idempotency key: required, at most 300 bytes (trigger
// keys embed a member id and a date).
func validKey(op, key string) error {
	if key == "" || len(key) > 300 {
		return errs.E(op, errs.Invalid, "idempotency key is required (at most 300 bytes)")
	}
	return nil
}
