package member

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
)

// Service registers, finds and links members.
type Service struct {
	store store.Store
	box   *pii.Box
	now   func() time.Time
	newID func() string

	absorbers []Absorber
	rules     rulesCache
}

// NewService returns a member service over a store. box protects phone
// numbers; now and newID are the clock and the member id source.
func NewService(s store.Store, box *pii.Box, now func() time.Time, newID func() string) *Service {
	return &Service{store: s, box: box, now: now, newID: newID}
}

// maxTries bounds optimistic retries when concurrent writers race.
const maxTries = 16

// Arrival is a person arriving through some entry point: the identities the
// platform vouched for, and what else is known.
type Arrival struct {
	Identities []Identity // Platform-verified; at least one.
	Phone      pii.Phone  // Verified by the platform, with its country; optional.
	Channel    Channel    // Attribution for a new member.
	Nickname   string
	Avatar     string
	// Welcome marks a member not welcomed yet as welcomed in the arrival's
	// write: the caller grants the registration rewards in that same write
	// (Result.Welcomes says when).
	Welcome bool
}

// Result is the outcome of an arrival.
type Result struct {
	Member  Member
	Created bool // A new member was registered.
	Claimed bool // An imported member was claimed by this arrival.
	// PhoneInUse says the arrival's phone was left out: the member holding
	// it has an openid of the same app, so it is another WeChat account's
	// (a recycled number). The arrival went on as its own member.
	PhoneInUse bool
	// NeedsPhone asks the client to request phone authorization (binding
	// mode forced, and the member has no phone yet).
	NeedsPhone bool
	// Welcomes says the arrival marks the member welcomed (Arrival.Welcome):
	// the write that records it must grant the registration rewards.
	Welcomes bool
	// Linked are the identities the arrival linked to the existing member
	// (none for a new one): an identity linked is that platform's first
	// arrival of the member, e.g. its first login to a mini-program.
	Linked []Identity
}

// Admission is an arrival worked out against the store as read and not yet
// written: the result it has once Mutations are written. A caller writes
// them in one atomic write with its own; a write that fails a condition
// means the store moved since: work the arrival out again (Admit).
type Admission struct {
	Result
	Mutations []store.Mutation // None when the member needs no change.
}

// Arrive registers a new member or finds the existing one for the arrival's
// identities, linking identities the member does not have yet, in one
// atomic write (Admit, then the write; a lost race looks again).
// Concurrent arrivals of the same new person create exactly one member. An
// archived member is restored. A phone joins the arrival to the member
// holding it only when that member has no openid of the arrival's app;
// otherwise the arrival goes on without the phone (Result.PhoneInUse). It
// fails as Admit does, and with errs.Transient when it loses too many races.
func (s *Service) Arrive(ctx context.Context, a Arrival) (Result, error) {
	const op = "member.Arrive"
	for range retry.Tries(ctx, maxTries) {
		adm, err := s.Admit(ctx, a)
		if err != nil {
			return Result{}, errs.E(op, err)
		}
		if len(adm.Mutations) == 0 {
			return adm.Result, nil
		}
		err = s.store.Write(ctx, adm.Mutations...)
		if errs.Is(errs.Conflict, err) {
			continue // Someone else wrote first: look again.
		}
		if err != nil {
			return Result{}, errs.E(op, err)
		}
		return adm.Result, nil
	}
	return Result{}, errs.E(op, errs.Transient, "too much contention, retry")
}

// Admit works an arrival out without writing it: it reads the members the
// arrival's identities belong to and returns the new member to register, or
// the found member with the identities to link, as mutations for the
// caller's atomic write. Two members found to be one person are merged
// first (a command of its own). It fails with errs.Invalid for an arrival
// without identities, with a malformed phone, nickname or avatar
// (CheckProfileText), errs.Conflict when its identities belong to members
// of two accounts of one app (without a phone to leave out), and
// errs.Transient when it loses too many races while reading.
func (s *Service) Admit(ctx context.Context, a Arrival) (Admission, error) {
	const op = "member.Admit"
	if err := CheckProfileText(a.Nickname, a.Avatar); err != nil {
		return Admission{}, errs.E(op, err)
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		return Admission{}, errs.E(op, err)
	}
	if !a.Phone.IsZero() {
		if a.Phone, err = pii.NewPhone(a.Phone.Country, a.Phone.Number); err != nil {
			return Admission{}, errs.E(op, err)
		}
	}
	all, err := s.identities(a)
	if err != nil {
		return Admission{}, errs.E(op, err)
	}
	ids := usable(rules.Bind, all)
	if len(ids) == 0 {
		return Admission{}, errs.E(op, errs.Invalid, "no identity usable under the binding mode")
	}
	phoneInUse := false
	for range retry.Tries(ctx, maxTries) {
		found, indexed, err := s.owners(ctx, ids)
		if err != nil {
			return Admission{}, errs.E(op, err)
		}
		if !a.Phone.IsZero() && s.phoneTaken(found, a.Phone, ids) {
			// Another WeChat account's number: go on without it.
			ids = slices.DeleteFunc(ids, func(id Identity) bool { return id.Kind == Phone })
			a.Phone, phoneInUse = pii.Phone{}, true
			if found, indexed, err = s.owners(ctx, ids); err != nil {
				return Admission{}, errs.E(op, err)
			}
		}
		var adm Admission
		switch len(found) {
		case 0:
			adm = s.register(a, ids)
		case 1:
			adm, err = s.link(found[0], a, ids, indexed)
		default:
			// Two members turn out to be one person: join them, then look again.
			_, err = s.Merge(ctx, found[0].ID, found[1].ID)
			if err == nil {
				continue
			}
		}
		if errors.Is(err, errTwoAccounts) && a.Phone.IsZero() {
			return Admission{}, errs.E(op, err) // No phone to leave out: looking again would not help.
		}
		if errs.Is(errs.Conflict, err) {
			// Someone else wrote first: look again. A phone another account
			// claimed meanwhile is then in use (phoneTaken).
			continue
		}
		if err != nil {
			return Admission{}, errs.E(op, err)
		}
		adm.NeedsPhone = rules.Bind == BindForced && adm.Member.PhoneSeal == ""
		adm.PhoneInUse = phoneInUse
		return adm, nil
	}
	return Admission{}, errs.E(op, errs.Transient, "too much contention, retry")
}

// identities is the arrival's identity list with the phone, if any (checked
// by Arrive), added as its keyed hash.
func (s *Service) identities(a Arrival) ([]Identity, error) {
	ids := make([]Identity, 0, len(a.Identities)+1)
	for _, id := range a.Identities {
		if id.Value == "" {
			continue
		}
		if len(id.Value) > 128 || len(id.Scope) > 128 {
			return nil, errs.E(errs.Invalid, "identity too long")
		}
		ids = append(ids, id)
	}
	if !a.Phone.IsZero() {
		ids = append(ids, phoneIdentity(s.box, a.Phone))
	}
	if len(ids) == 0 {
		return nil, errs.E(errs.Invalid, "no identity given")
	}
	return ids, nil
}

// owners resolves each identity to its live member, in the order given,
// without repeats, reading each member's profile once. The first entry is
// the member the arrival belongs to. indexed holds the identities whose
// index items exist: those a link must not write again.
func (s *Service) owners(ctx context.Context, ids []Identity) ([]owner, map[Identity]bool, error) {
	var out []owner
	indexed := map[Identity]bool{}
	seen := map[string]bool{} // Index targets already read.
	for _, id := range ids {
		var e indexEntry
		_, err := store.GetJSON(ctx, s.store, indexKey(id), &e)
		if errs.Is(errs.NotExist, err) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		indexed[id] = true
		if seen[e.MemberID] {
			continue // Its profile is read already: one read per member.
		}
		seen[e.MemberID] = true
		m, v, err := s.get(ctx, e.MemberID)
		if err != nil {
			return nil, nil, err
		}
		if !slices.ContainsFunc(out, func(o owner) bool { return o.ID == m.ID }) {
			out = append(out, owner{Member: m, version: v})
		}
	}
	return out, indexed, nil
}

// phoneTaken reports whether the phone p belongs to a member of another
// WeChat account: one of the found members holds it and also holds a
// per-app identity (an openid, a WeCom external id) of an app the arrival
// comes through, with another value. One person has one openid per app, so
// that member is someone else, who had the number before (numbers are
// recycled). A member without such an identity (an imported record, a
// member known only through other apps) is joined by the phone.
func (s *Service) phoneTaken(found []owner, p pii.Phone, ids []Identity) bool {
	phone := phoneIdentity(s.box, p)
	for _, o := range found {
		if !o.Has(phone) {
			continue
		}
		for _, id := range ids {
			if id.Kind != OpenID && id.Kind != External {
				continue
			}
			if otherAccount(o.Member, id) {
				return true
			}
		}
	}
	return false
}

// errTwoAccounts is the cause of the conflict a link or a merge reports
// when it would give one member two identities of one app: the members, or
// the member and the arrival, are two WeChat accounts, not one person.
var errTwoAccounts = errors.New("identities of two accounts of one app")

// otherAccount reports whether m holds another identity of id's per-app
// kind and scope (another openid of the same app, another WeCom external id
// of the same corp). One person has one per app, so m is someone else.
func otherAccount(m Member, id Identity) bool {
	if id.Kind != OpenID && id.Kind != External {
		return false
	}
	return !m.Has(id) && slices.ContainsFunc(m.Identities, func(x Identity) bool { return x.Kind == id.Kind && x.Scope == id.Scope })
}

// twoAccounts is the conflict of a write that would join two accounts.
func twoAccounts() error {
	return errs.E(errs.Conflict, "these identities belong to two different accounts", errTwoAccounts)
}

// owner is a member found through an identity, with the version of its
// profile as read, so a write can require that nothing changed since.
type owner struct {
	Member
	version int64
}

// register works out a new member for the arrival: its profile, its
// activity index item and an index item per identity, each required absent
// so that a concurrent arrival of the same person fails the write.
func (s *Service) register(a Arrival, ids []Identity) Admission {
	now := s.now().UTC()
	m := Member{
		ID: s.newID(), Status: Active, CreatedAt: now, ActiveAt: now,
		Nickname: a.Nickname, Avatar: a.Avatar, Channel: a.Channel, Identities: ids,
		Welcomed: a.Welcome,
	}
	if m.Channel.Kind == "" {
		m.Channel.Kind = "unknown"
	}
	s.setPhone(&m, a.Phone)
	ms := []store.Mutation{store.PutJSON(profileKey(m.ID), m).IfAbsent(), store.Put(activeKey(calendar.Day(now), m.ID), nil)}
	for _, id := range ids {
		ms = append(ms, store.PutJSON(indexKey(id), indexEntry{MemberID: m.ID}).IfAbsent())
	}
	return Admission{Result: Result{Member: m, Created: true, Welcomes: a.Welcome}, Mutations: ms}
}

// link works out the arrival of an existing member: the arrival's
// identities it lacks (those without an index item, as owners read them),
// an archived member restored, the activity index moved, and the welcome
// mark when asked for. A member merged away, or an identity another member
// claimed, since Admit looked fails the write: the caller looks again (and
// merges). So is an identity of an app the member already has another
// identity of (errTwoAccounts): the write is conditioned on the version
// checked, so no merge landing meanwhile can slip one in. An arrival that
// changes nothing worth a write has no mutations.
func (s *Service) link(o owner, a Arrival, ids []Identity, indexed map[Identity]bool) (Admission, error) {
	m := o.Member
	if m.Status == Merged {
		return Admission{}, errs.E(errs.Conflict, "merged meanwhile")
	}
	res := Result{Member: m}
	var ms []store.Mutation
	for _, id := range ids {
		if m.Has(id) || indexed[id] {
			continue // Its index item names this member (owners found no other).
		}
		if otherAccount(m, id) {
			return Admission{}, twoAccounts()
		}
		m.Identities = append(m.Identities, id)
		res.Linked = append(res.Linked, id)
		ms = append(ms, store.PutJSON(indexKey(id), indexEntry{MemberID: m.ID}).IfAbsent())
	}
	if m.PhoneSeal == "" && !a.Phone.IsZero() && m.Has(phoneIdentity(s.box, a.Phone)) {
		s.setPhone(&m, a.Phone)
	}
	if m.Imported && hasPlatformIdentity(m) {
		m.Imported, res.Claimed = false, true
	}
	if m.Nickname == "" && a.Nickname != "" {
		m.Nickname, m.Avatar = a.Nickname, a.Avatar
	}
	if a.Welcome && !m.Welcomed {
		m.Welcomed, res.Welcomes = true, true
	}
	now := s.now().UTC()
	if len(ms) == 0 && m.Status == Active && !res.Claimed && !res.Welcomes && now.Sub(m.ActiveAt) < time.Hour {
		res.Member = m
		return Admission{Result: res}, nil // Nothing worth a write.
	}
	if m.Status == Archived {
		m.Status = Active
	}
	ms = append(ms, touch(m, now)...)
	m.ActiveAt = now
	ms = append([]store.Mutation{store.PutJSON(profileKey(m.ID), m).IfVersion(o.version)}, ms...)
	res.Member = m
	return Admission{Result: res, Mutations: ms}, nil
}

// phoneIdentity is the identity of a phone number: the keyed hash of its
// key, so a foreign number never matches a mainland one. The phone must have
// been checked by pii.NewPhone (Arrive does it for an arrival).
func phoneIdentity(box *pii.Box, p pii.Phone) Identity {
	return Identity{Kind: Phone, Value: box.Hash("phone", p.Key())}
}

func hasPlatformIdentity(m Member) bool {
	for _, id := range m.Identities {
		if id.Kind != Phone {
			return true
		}
	}
	return false
}

// setPhone keeps a checked phone on the member: sealed in E.164 form, with
// its country, and masked for display.
func (s *Service) setPhone(m *Member, p pii.Phone) {
	if p.IsZero() {
		return
	}
	m.PhoneSeal, m.PhoneMask = s.box.Seal(p.E164()), p.Mask()
}

// Resolve finds the live member an identity belongs to, following merges.
// It fails with errs.NotExist when no member has the identity.
func (s *Service) Resolve(ctx context.Context, id Identity) (Member, error) {
	var e indexEntry
	if _, err := store.GetJSON(ctx, s.store, indexKey(id), &e); err != nil {
		return Member{}, errs.E("member.Resolve", err)
	}
	return s.Get(ctx, e.MemberID)
}

// Get returns a member by id, following merges to the surviving member. It
// fails with errs.NotExist for an unknown id.
func (s *Service) Get(ctx context.Context, id string) (Member, error) {
	m, _, err := s.get(ctx, id)
	return m, err
}

// get is Get with the version of the profile it read.
func (s *Service) get(ctx context.Context, id string) (Member, int64, error) {
	const op = "member.Get"
	for hops := 0; hops < 8; hops++ {
		var m Member
		it, err := store.GetJSON(ctx, s.store, profileKey(id), &m)
		if err != nil {
			if errs.Is(errs.NotExist, err) {
				return Member{}, 0, errs.E(op, errs.NotExist, "member not found", err)
			}
			return Member{}, 0, errs.E(op, err)
		}
		if m.Status != Merged {
			return m, it.Version, nil
		}
		id = m.MergedInto
	}
	return Member{}, 0, errs.E(op, errs.Internal, fmt.Errorf("merge chain too long at %s", id))
}

// Unlink removes an identity from its member (an Official Account follower
// who unsubscribed, under a rule that asks for it). The member keeps
// everything else. Unlinking an unknown identity is not an error.
func (s *Service) Unlink(ctx context.Context, id Identity) error {
	const op = "member.Unlink"
	for range retry.Tries(ctx, maxTries) {
		var e indexEntry
		_, err := store.GetJSON(ctx, s.store, indexKey(id), &e)
		if errs.Is(errs.NotExist, err) {
			return nil
		}
		if err != nil {
			return errs.E(op, err)
		}
		var m Member
		it, err := store.GetJSON(ctx, s.store, profileKey(e.MemberID), &m)
		if err != nil {
			return errs.E(op, err)
		}
		kept := m.Identities[:0:0]
		for _, x := range m.Identities {
			if x != id {
				kept = append(kept, x)
			}
		}
		m.Identities = kept
		err = s.store.Write(ctx, store.PutJSON(profileKey(m.ID), m).IfVersion(it.Version), store.Delete(indexKey(id)))
		if errs.Is(errs.Conflict, err) {
			continue
		}
		if err != nil {
			return errs.E(op, err)
		}
		return nil
	}
	return errs.E(op, errs.Transient, "too much contention, retry")
}
