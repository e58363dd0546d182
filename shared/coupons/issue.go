package coupons

import (
	"context"
	"fmt"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/once"
	"github.com/wemember/wemember/shared/store"
)

// Reasons recorded on instances issued by the triggers.
const (
	ReasonRegistration = "registration"
	ReasonBirthday     = "birthday"
	ReasonStreak       = "signin_streak"
	ReasonLevel        = "level_monthly"
)

// IssueCmd asks for one coupon of a template for one member.
type IssueCmd struct {
	TemplateID string
	MemberID   string
	Reason     string // The trigger or the operator's reason; required.
	Operator   string // Set when an operator issues by hand.
	// Key makes the command idempotent: the same key always yields the same
	// one coupon, however often and concurrently it is sent. Required.
	Key string
}

// Issued is the answer to an IssueCmd.
type Issued struct {
	Instance  Instance
	Duplicate bool // The key was seen before; Instance is the first answer.
}

// issued is the result an issue key's idempotency record (package once)
// stores: the coupon it answered.
type issued struct {
	InstanceID string `json:"instance_id"`
}

// issueScope is the command an issue key is claimed for: the key answers
// only the template and member it was first used for.
func issueScope(templateID, memberID string) string {
	return "coupons.Issue|" + templateID + "|" + memberID
}

// legacyRecord is an issue key's record as it was stored before issue keys
// used package once; replay still answers from it.
type legacyRecord struct {
	InstanceID string `json:"instance_id"`
	TemplateID string `json:"template_id"`
	MemberID   string `json:"member_id"`
}

// Issue issues a coupon. Its idempotency record, the instance, the member's
// listing copy, the due index item, the per-member take counter and a stock
// counter shard change in one atomic write, so stock and take limits hold
// under any concurrency and a repeated key yields the first coupon.
//
// Errors: errs.Invalid (bad command, or the key was used for another
// template or member), errs.NotExist (unknown template), errs.Conflict
// (template paused, sold out, or the member's take limit reached),
// errs.Expired (a fixed window that has ended), errs.Transient.
func (s *Service) Issue(ctx context.Context, cmd IssueCmd) (Issued, error) {
	const op = "coupons.Issue"
	got, t, err := s.issuable(ctx, op, cmd)
	if err != nil || got.Duplicate {
		return got, err
	}
	var out Issued
	err = s.retry(ctx, func(attempt int) error {
		var err error
		out, err = s.issueOnce(ctx, op, cmd, t, attempt)
		return err
	})
	return out, err
}

// issuable checks cmd and answers a key seen before (Duplicate); otherwise
// it returns the template to issue from, which is active.
func (s *Service) issuable(ctx context.Context, op string, cmd IssueCmd) (Issued, Template, error) {
	if err := validCmd(op, cmd); err != nil {
		return Issued{}, Template{}, err
	}
	if cmd.Reason == "" || len(cmd.Reason) > 200 {
		return Issued{}, Template{}, errs.E(op, errs.Invalid, "issue reason is required (at most 200 bytes)")
	}
	if got, err := s.replay(ctx, op, cmd); err == nil || !errs.Is(errs.NotExist, err) {
		return got, Template{}, err
	}
	t, err := s.activeTemplate(ctx, op, cmd.TemplateID)
	return Issued{}, t, err
}

// validCmd checks an issue command's template id, member id and key.
func validCmd(op string, cmd IssueCmd) error {
	if err := validID(op, "template id", cmd.TemplateID); err != nil {
		return err
	}
	if err := memberOf(op, cmd.MemberID); err != nil {
		return err
	}
	return validKey(op, cmd.Key)
}

// activeTemplate reads template id; errs.Conflict when it is paused.
func (s *Service) activeTemplate(ctx context.Context, op, id string) (Template, error) {
	t, err := s.Template(ctx, id)
	if err != nil {
		return Template{}, errs.E(op, err)
	}
	if t.Status != Active {
		return Template{}, errs.E(op, errs.Conflict, "coupon template is paused")
	}
	return t, nil
}

// replay answers a key that was seen before; errs.NotExist if it was not.
func (s *Service) replay(ctx context.Context, op string, cmd IssueCmd) (Issued, error) {
	k := idemKey(cmd.Key)
	res, ok, err := once.Lookup[issued](ctx, s.st, k, issueScope(cmd.TemplateID, cmd.MemberID))
	if errs.Is(errs.Exist, err) {
		res, ok, err = s.legacyReplay(ctx, op, k, cmd)
	}
	if err != nil {
		return Issued{}, errs.E(op, err)
	}
	if !ok {
		return Issued{}, errs.E(op, errs.NotExist, "issue key not seen")
	}
	in, err := s.Get(ctx, res.InstanceID)
	if err != nil {
		return Issued{}, errs.E(op, errs.Internal, fmt.Errorf("idempotency record without instance: %w", err))
	}
	return Issued{Instance: in, Duplicate: true}, nil
}

// legacyReplay reads a record of another command's scope as a record of
// the earlier shape: it answers if it was stored for this template and
// member, and refuses the key otherwise.
func (s *Service) legacyReplay(ctx context.Context, op string, k store.Key, cmd IssueCmd) (issued, bool, error) {
	var rec legacyRecord
	if _, err := store.GetJSON(ctx, s.st, k, &rec); err != nil {
		return issued{}, false, err
	}
	if rec.InstanceID == "" || rec.TemplateID != cmd.TemplateID || rec.MemberID != cmd.MemberID {
		return issued{}, false, errs.E(op, errs.Invalid, "idempotency key was already used for another coupon")
	}
	return issued{InstanceID: rec.InstanceID}, true, nil
}

// issueOnce makes one attempt at the write, choosing a stock shard that still
// has room; a shard that filled up meanwhile makes it choose again. Each
// retry after a busy store starts at the next shard, away from the crowd.
func (s *Service) issueOnce(ctx context.Context, op string, cmd IssueCmd, t Template, retry int) (Issued, error) {
	now := s.clock()
	if _, to := t.window(now); now.After(to) {
		return Issued{}, errs.E(op, errs.Expired, "coupon template validity has ended")
	}
	n := max(t.Shards, 1)
	start := int((hash(cmd.MemberID) + uint32(retry)) % uint32(n))
	tried := make([]bool, n)
	for attempt := 0; attempt < n+4; attempt++ {
		shard, err := s.pickShard(ctx, t, start, tried)
		if err != nil {
			return Issued{}, errs.E(op, err)
		}
		g, err := s.grant(cmd, t, shard, now)
		if err != nil {
			return Issued{}, errs.E(op, err)
		}
		err = s.st.Write(ctx, g.Mutations...)
		if err == nil {
			return Issued{Instance: g.Instance}, nil
		}
		k, ok := store.FailedKey(err)
		switch {
		case !ok:
			return Issued{}, errs.E(op, err)
		case k == g.claim:
			return s.replay(ctx, op, cmd)
		case k == instKey(g.Instance.ID):
			continue // An id collision: draw another.
		case k == g.take:
			return Issued{}, errs.E(op, errs.Conflict,
				fmt.Sprintf("member has already taken this coupon %d time(s)", t.PerMember), err)
		case k == g.stock:
			tried[shard] = true // Filled up since we looked; choose again.
		default:
			return Issued{}, errs.E(op, errs.Internal, err)
		}
		if ctx.Err() != nil {
			return Issued{}, errs.E(op, errs.Transient, ctx.Err())
		}
	}
	return Issued{}, errs.E(op, errs.Transient, "coupon stock is contended; retry")
}

// Grant is a coupon worked out for a member and not yet issued: the
// instance and the mutations that issue it (Issue's idempotency record,
// instance, listing copy, due index item, take counter and stock shard),
// for a caller that writes them in one atomic write with its own.
type Grant struct {
	Instance  Instance
	Mutations []store.Mutation

	claim, take, stock store.Key
}

// Spent reports whether a write of the grant that failed the condition of
// key k means the member is not to have the coupon from this command: its
// idempotency key was used already, or the member's take limit is reached.
// Any other failure of the grant's keys (a stock shard that filled up, an
// id drawn twice) asks for a grant worked out again.
func (g Grant) Spent(k store.Key) bool { return k == g.claim || k == g.take }

// PlanIssue works an Issue out without writing it: it reads the template
// and, for a limited one, its stock shards, and returns the grant to write.
// It does not look for an earlier use of cmd.Key: a key used before fails
// the write (Grant.Spent). Errors as for Issue.
func (s *Service) PlanIssue(ctx context.Context, cmd IssueCmd) (Grant, error) {
	const op = "coupons.PlanIssue"
	if err := validCmd(op, cmd); err != nil {
		return Grant{}, err
	}
	t, err := s.activeTemplate(ctx, op, cmd.TemplateID)
	if err != nil {
		return Grant{}, err
	}
	return s.planGrant(ctx, op, cmd, t)
}

// planGrant is the grant of template t for cmd now, from the first stock
// shard with room counting from the member's own.
func (s *Service) planGrant(ctx context.Context, op string, cmd IssueCmd, t Template) (Grant, error) {
	now := s.clock()
	if _, to := t.window(now); now.After(to) {
		return Grant{}, errs.E(op, errs.Expired, "coupon template validity has ended")
	}
	n := max(t.Shards, 1)
	shard, err := s.pickShard(ctx, t, int(hash(cmd.MemberID)%uint32(n)), make([]bool, n))
	if err != nil {
		return Grant{}, errs.E(op, err)
	}
	g, err := s.grant(cmd, t, shard, now)
	if err != nil {
		return Grant{}, errs.E(op, err)
	}
	return g, nil
}

// grant is the coupon of template t for cmd from stock shard at now, with
// a fresh instance id.
func (s *Service) grant(cmd IssueCmd, t Template, shard int, now time.Time) (Grant, error) {
	from, to := t.window(now)
	in := Instance{
		ID: s.newID(), Shard: shard,
		MemberID: cmd.MemberID, TemplateID: t.ID, TemplateVersion: t.Version,
		Name: t.Name, Kind: t.Kind, AmountOff: t.AmountOff, Rate: t.Rate, MaxOff: t.MaxOff,
		Threshold: t.Threshold, Scope: t.Scope, ValidFrom: from, ValidTo: to, Status: Available,
		Reason: cmd.Reason, IssuedBy: cmd.Operator, IssueKey: cmd.Key, IssuedAt: now,
	}
	n := max(t.Shards, 1)
	g := Grant{Instance: in, claim: idemKey(cmd.Key), take: takeKey(cmd.MemberID, t.ID), stock: stockKey(t.ID, shard)}
	stock := store.Add(g.stock, 1)
	if t.Stock > 0 {
		stock = stock.AtMost(shardCap(t.Stock, n, shard))
	}
	take := store.Add(g.take, 1)
	if t.PerMember > 0 {
		take = take.AtMost(t.PerMember)
	}
	claim, err := once.Claim(g.claim, issueScope(t.ID, cmd.MemberID), now, issued{InstanceID: in.ID}, 0)
	if err != nil {
		return Grant{}, err
	}
	g.Mutations = []store.Mutation{
		claim,
		store.PutJSON(instKey(in.ID), in).IfAbsent(),
		take,
		stock,
		store.PutJSON(listKey(in), in),
		store.PutJSON(dueKey(in), dueOf(in, 1)),
	}
	return g, nil
}

// pickShard chooses the first shard from start that has room and was not
// tried, reading all shard counters in one query; unlimited templates just
// take the member's shard.
func (s *Service) pickShard(ctx context.Context, t Template, start int, tried []bool) (int, error) {
	n := len(tried)
	if t.Stock == 0 {
		return start, nil
	}
	pg, err := s.st.Query(ctx, store.Query{PK: "ctpl#" + t.ID, Prefix: "stock#", Limit: n})
	if err != nil {
		return 0, err
	}
	taken := make(map[string]int64, len(pg.Items))
	for _, it := range pg.Items {
		taken[it.SK] = it.N
	}
	for j := range n {
		sh := (start + j) % n
		if !tried[sh] && taken[stockKey(t.ID, sh).SK] < shardCap(t.Stock, n, sh) {
			return sh, nil
		}
	}
	return 0, errs.E("coupons.Issue", errs.Conflict, "coupon is sold out")
}

// dueEntry is the data of a due index item. It carries the coupon as it was
// written with the item and that write's version, so the sweep can expire
// it without reading it first: the expiry is conditioned on that version,
// and a coupon changed since (redeemed, revoked, moved) fails the condition
// and is read again. Items without a copy (Version 0, as earlier releases
// wrote them) are read first.
type dueEntry struct {
	MemberID   string    `json:"member_id"`
	TemplateID string    `json:"template_id"`
	Version    int64     `json:"version,omitempty"`
	Coupon     *Instance `json:"coupon,omitempty"`
}

// dueOf is the due item data of in at version ver.
func dueOf(in Instance, ver int64) dueEntry {
	return dueEntry{MemberID: in.MemberID, TemplateID: in.TemplateID, Version: ver, Coupon: &in}
}
