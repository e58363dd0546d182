package fraud

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"sync"
	"time"

	"github.com/wemember/wemember/shared/cached"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/text"
)

// Service assesses redemptions and keeps the freezes, the whitelist, the
// spike alerts and the rules. It is safe for concurrent use.
type Service struct {
	st     store.Store
	now    func() time.Time
	shards int
	rules  cached.Value[Rules]

	mu      sync.Mutex
	alerted string // The last hour this instance found an alert for.
}

// Option configures a Service.
type Option func(*Service)

// WithSpikeShards sets how many partitions an hour's redemption count is
// spread over (1 to store.Shards, store.Shards by default): every Assess
// reads them all, and concurrent redemptions add to them in parallel.
func WithSpikeShards(n int) Option {
	return func(s *Service) { s.shards = min(max(n, 1), store.Shards) }
}

// New returns the anti-fraud service over a store, reading time from now.
func New(st store.Store, now func() time.Time, opts ...Option) *Service {
	s := &Service{st: st, now: now, shards: store.Shards}
	for _, o := range opts {
		o(s)
	}
	return s
}

// MaxRef is the longest member id, client hash or device hash an Attempt
// may carry, in bytes.
const MaxRef = 128

// check refuses an attempt that cannot be assessed.
func (a Attempt) check(op string) error {
	if a.Invitee == "" {
		return errs.E(op, errs.Invalid, "invitee is required")
	}
	for _, f := range []struct{ name, v string }{
		{"inviter", a.Inviter}, {"invitee", a.Invitee}, {"client", a.Client}, {"device", a.Device},
	} {
		if msg := text.Problem(f.v, MaxRef); msg != "" {
			return errs.E(op, errs.Invalid, f.name+" "+msg)
		}
	}
	if msg := text.Problem(a.Platform, 64); msg != "" {
		return errs.E(op, errs.Invalid, "platform "+msg)
	}
	return nil
}

// reads are the positions of an Assess's keys in its one batched read; -1
// for a key it does not read.
type reads struct {
	keys                       []store.Key
	freeze, ip, inviter, trust int
	devCount, devMark, alert   int
	spike                      int // The first of the spike shards.
}

func (r *reads) add(k store.Key) int {
	r.keys = append(r.keys, k)
	return len(r.keys) - 1
}

// Assess judges a redemption before it happens. It reads the counters in
// one batched, strongly consistent read and returns:
//   - Refuse with ReasonIPFrozen while a.Client is frozen;
//   - Refuse with ReasonIPRate when a.Client already made Rules.IPHourly
//     redemptions this hour: it freezes the address first (FreezeAfter);
//   - otherwise Mutations for the redemption's own write, and Hold, StepUp
//     and Flags for its rewards.
//
// The Mutations count the redemption for its address (with the hourly rate
// as a ceiling), its inviter (with the daily limit as a ceiling while the
// inviter is under it), its device and the hour's spike count, and record
// the hour's spike alert once the count is over Rules.SpikeHourly. A write
// that fails on one of their conditions lost a race to a concurrent
// redemption: on an IsRateKey key it is over the rate (call FreezeAfter),
// on another key Owns reports, Assess again.
//
// A trusted inviter (Trust) has no daily limit and no device flag. An
// attempt without an invitee, or with a field that is not short plain
// text, is errs.Invalid; store failures are returned as they come.
func (s *Service) Assess(ctx context.Context, a Attempt) (Verdict, error) {
	const op = "fraud.Assess"
	if err := a.check(op); err != nil {
		return Verdict{}, err
	}
	if a.At.IsZero() {
		a.At = s.now()
	}
	r, err := s.Rules(ctx)
	if err != nil {
		return Verdict{}, errs.E(op, err)
	}
	hour, hourEnd := hourOf(a.At)
	day, dayEnd := dayOf(a.At)

	rd := reads{freeze: -1, ip: -1, inviter: -1, trust: -1, devCount: -1, devMark: -1}
	if a.Client != "" {
		rd.freeze, rd.ip = rd.add(freezeKey(a.Client)), rd.add(ipKey(a.Client, hour))
	}
	if a.Inviter != "" {
		rd.inviter, rd.trust = rd.add(inviterDayKey(a.Inviter, day)), rd.add(trustKey(a.Inviter))
	}
	if a.Device != "" {
		rd.devCount, rd.devMark = rd.add(deviceCountKey(a.Device)), rd.add(deviceInviteeKey(a.Device, a.Invitee))
	}
	// Once an instance knows the hour's alert is written, it reads the
	// hour's count no more: during a spike, a redemption reads 6 keys instead of 23.
	alerted := s.knownAlert(hour)
	rd.alert, rd.spike = -1, -1
	if !alerted {
		rd.alert = rd.add(alertKey(hour))
		rd.spike = len(rd.keys)
		rd.keys = append(rd.keys, s.spikeKeys(hour)...)
	}
	var items []store.Item
	if len(rd.keys) > 0 {
		if items, err = s.st.GetMany(ctx, rd.keys, store.Strong); err != nil {
			return Verdict{}, errs.E(op, err)
		}
	}

	var v Verdict
	if a.Client != "" {
		if f, ok := liveFreeze(items[rd.freeze], a.At); ok {
			return Verdict{Refuse: true, Reason: ReasonIPFrozen, FrozenUntil: f.Until}, nil
		}
		if items[rd.ip].N >= int64(r.IPHourly) {
			v, err := s.freezeAfter(ctx, a, r)
			if err != nil {
				return Verdict{}, errs.E(op, err)
			}
			return v, nil
		}
		v.Mutations = append(v.Mutations,
			store.Add(ipKey(a.Client, hour), 1).AtMost(int64(r.IPHourly)).ExpiresAt(hourEnd.Add(grace)))
	}

	trusted := false
	if a.Inviter != "" {
		trusted = items[rd.trust].Found()
		add := store.Add(inviterDayKey(a.Inviter, day), 1).ExpiresAt(dayEnd.Add(grace))
		switch {
		case trusted:
		case items[rd.inviter].N >= int64(r.InviterDaily):
			v.StepUp = true
			v.Flags = append(v.Flags, FlagInviterDaily)
		default:
			add = add.AtMost(int64(r.InviterDaily))
		}
		v.Mutations = append(v.Mutations, add)
	}

	if a.Device != "" {
		invitees := items[rd.devCount].N
		if !items[rd.devMark].Found() {
			invitees++
			until := a.At.Add(r.DeviceWindow())
			v.Mutations = append(v.Mutations,
				store.Put(deviceInviteeKey(a.Device, a.Invitee), nil).IfAbsent().ExpiresAt(until),
				store.Add(deviceCountKey(a.Device), 1).ExpiresAt(until))
		}
		if invitees > int64(r.DeviceInvitees) && !trusted {
			v.Flags = append(v.Flags, FlagSharedDevice)
		}
	}

	if r.emulator(a.Platform) {
		v.Flags = append(v.Flags, FlagEmulator)
	}

	switch {
	case alerted:
	case items[rd.alert].Found():
		s.remember(hour)
	default:
		v.Mutations = append(v.Mutations, s.alertIfOver(items[rd.spike:], r, a.At, hour, hourEnd)...)
	}
	v.Mutations = append(v.Mutations, store.Add(s.spikeKey(hour, a.Invitee), 1).ExpiresAt(hourEnd.Add(grace)))

	v.Hold = v.StepUp || len(v.Flags) > 0
	return v, nil
}

// alertIfOver is the hour's alert, to write IfAbsent with the redemption,
// when the hour's count read from shards, with the redemption, is over the
// threshold.
func (s *Service) alertIfOver(shards []store.Item, r Rules, at time.Time, hour string, hourEnd time.Time) []store.Mutation {
	var count int64
	for _, it := range shards {
		count += it.N
	}
	count++ // This redemption.
	if count <= int64(r.SpikeHourly) {
		return nil
	}
	al := Alert{Hour: hour, Start: hourEnd.Add(-time.Hour).UTC(), Count: count, Threshold: r.SpikeHourly, At: at.UTC()}
	return []store.Mutation{store.PutJSON(alertKey(hour), al).IfAbsent()}
}

// knownAlert reports whether this instance found the hour's alert written.
func (s *Service) knownAlert(hour string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.alerted == hour
}

// remember keeps that the hour's alert is written.
func (s *Service) remember(hour string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if hour > s.alerted {
		s.alerted = hour
	}
}

// liveFreeze decodes a freeze item read at at: ok when the address is
// frozen then. A freeze the store still holds but whose end the caller's
// clock has passed is over.
func liveFreeze(it store.Item, at time.Time) (Freeze, bool) {
	if !it.Found() {
		return Freeze{}, false
	}
	var f Freeze
	if err := json.Unmarshal(it.Data, &f); err != nil {
		// An unreadable freeze still freezes, until the store expires it.
		return Freeze{Until: it.Expires}, true
	}
	return f, at.Before(f.Until)
}

// spikeKeys are the partitions of an hour's redemption count.
func (s *Service) spikeKeys(hour string) []store.Key {
	ks := make([]store.Key, s.shards)
	for i := range ks {
		ks[i] = store.K(store.ShardPK(spikePrefix+hour, i), "n")
	}
	return ks
}

// spikeKey is the partition of the hour's count that an invitee's
// redemption adds to.
func (s *Service) spikeKey(hour, invitee string) store.Key {
	h := fnv.New32a()
	h.Write([]byte(invitee))
	return store.K(store.ShardPK(spikePrefix+hour, int(h.Sum32()%uint32(s.shards))), "n")
}
