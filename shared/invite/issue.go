package invite

import (
	"context"
	"crypto/rand"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wemember/wemember/shared/codes"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// MaxBatch is the most codes one CreateBatch makes.
const MaxBatch = 1000

// BatchCmd is an operator's order for a batch of codes.
type BatchCmd struct {
	Kind     Kind
	Count    int           // 1..MaxBatch.
	Format   *codes.Format // Overrides the kind's format (a custom prefix…); nil: the kind's.
	Campaign string        // The campaign the codes belong to (kind campaign only).
	Channel  string        // Attribution carried by every code.
	Cap      int64         // Redemptions per code; 0: the kind's rule.
	Operator string
}

// Batch is an operator's batch of codes. Codes holds the texts, shown once
// in CreateBatch's answer and never stored in the clear.
type Batch struct {
	ID        string    `json:"id"`
	Kind      Kind      `json:"kind"`
	Count     int       `json:"count"`
	Campaign  string    `json:"campaign,omitempty"`
	Channel   string    `json:"channel,omitempty"`
	Cap       int64     `json:"cap,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	Codes     []string  `json:"-"`
}

// batchPK holds a batch's record and its list of codes.
func batchPK(id string) string { return "invbatch#" + id }

func batchKey(id string) store.Key { return store.K(batchPK(id), "batch") }

// batchCodeKey lists a code in its batch.
func batchCodeKey(batch, codeID string) store.Key { return store.K(batchPK(batch), "c#"+codeID) }

// batchesKey lists every batch, newest last.
func batchesKey(b Batch) store.Key {
	return store.K("invbatches", "b#"+stamp(b.CreatedAt)+"#"+b.ID)
}

// codeRef is an index item's data: the code it points to.
type codeRef struct {
	ID string `json:"id"`
}

// collisionTries bounds how often a write redraws a text that collides
// with an existing code.
const collisionTries = 5

// CreateBatch makes an operator's batch of codes of a kind: crypto-random
// texts in the kind's format (or cmd.Format), each stored under its keyed
// hash with the text sealed, written in atomic writes of at most
// store.MaxWrite mutations,
// the batch record with the last chunk. A text that collides with an
// existing code is redrawn. It refuses with errs.Invalid a count over
// MaxBatch or over what the format can supply. The answer carries the
// texts; this is the only time they are shown.
func (s *Service) CreateBatch(ctx context.Context, cmd BatchCmd) (Batch, error) {
	const op = "invite.CreateBatch"
	if cmd.Operator == "" {
		return Batch{}, errs.E(op, errs.Invalid, "operator is required")
	}
	if cmd.Count < 1 || cmd.Count > MaxBatch {
		return Batch{}, errs.E(op, errs.Invalid, "count must be 1..1000")
	}
	if cmd.Cap < 0 {
		return Batch{}, errs.E(op, errs.Invalid, "cap must not be negative")
	}
	if err := checkChannel(op, cmd.Channel); err != nil {
		return Batch{}, err
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		return Batch{}, errs.E(op, err)
	}
	kr, ok := rules.Kind(cmd.Kind)
	if !ok {
		return Batch{}, errs.E(op, errs.Invalid, "unknown code kind")
	}
	now := s.now().UTC().Truncate(time.Second)
	tmpl := Code{Kind: cmd.Kind, Channel: cmd.Channel, Cap: cmd.Cap, Status: Active, CreatedAt: now, CreatedBy: cmd.Operator}
	if err := s.applyKind(ctx, op, &tmpl, &kr, cmd.Campaign, now); err != nil {
		return Batch{}, err
	}
	if cmd.Format != nil {
		kr.Format = *cmd.Format
	}
	b := Batch{ID: s.newID(), Kind: cmd.Kind, Count: cmd.Count, Campaign: cmd.Campaign, Channel: cmd.Channel,
		Cap: tmpl.Cap, CreatedAt: now, CreatedBy: cmd.Operator}
	tmpl.Batch = b.ID
	texts, err := s.generate(op, kr.Format, cmd.Count)
	if err != nil {
		return Batch{}, err
	}
	// The mutations per code (its record, batch entry, due, rotation and
	// campaign items) bound how many codes one atomic write carries, with
	// room for the batch record and its list entry.
	chunk := (store.MaxWrite - 2) / len(codeMutations(tmpl))
	for start := 0; start < len(texts); start += chunk {
		end := min(start+chunk, len(texts))
		var extra []store.Mutation
		if end == len(texts) {
			extra = []store.Mutation{store.PutJSON(batchKey(b.ID), b).IfAbsent(), store.PutJSON(batchesKey(b), b)}
		}
		if err := s.writeCodes(ctx, op, kr.Format, tmpl, texts[start:end], extra); err != nil {
			return Batch{}, err
		}
	}
	b.Codes = texts
	return b, nil
}

// applyKind sets the validity and cap of a new code from its kind's rule
// and, for a campaign code, the campaign's window, cap and format.
func (s *Service) applyKind(ctx context.Context, op string, c *Code, kr *KindRule, campaign string, now time.Time) error {
	explicit := c.Cap
	if c.Cap == 0 {
		c.Cap = kr.Cap
	}
	if (campaign != "") != (c.Kind == KindCampaign) {
		return errs.E(op, errs.Invalid, "a campaign code needs its campaign, and only campaign codes have one")
	}
	if campaign != "" {
		cp, _, err := s.campaign(ctx, op, campaign)
		if err != nil {
			return err
		}
		if !now.Before(cp.EndsAt) {
			return errs.E(op, errs.Invalid, "the campaign has ended")
		}
		c.Campaign, c.StartsAt, c.EndsAt = cp.ID, cp.StartsAt, cp.EndsAt
		if explicit == 0 && cp.CapPerCode > 0 {
			c.Cap = cp.CapPerCode
		}
		if cp.Format != nil {
			kr.Format = *cp.Format
		}
		return nil
	}
	if kr.Validity > 0 {
		c.ExpiresAt = now.Add(kr.Validity.D())
	}
	if kr.Rotation > 0 {
		c.RotateAt = now.Add(kr.Rotation.D())
	}
	return nil
}

// writeCodes writes codes with the texts, made from tmpl, in one atomic
// write with extra; a text that collides with an existing code is redrawn
// and the write tried again.
func (s *Service) writeCodes(ctx context.Context, op string, f codes.Format, tmpl Code, texts []string, extra []store.Mutation) error {
	for range collisionTries {
		var ms []store.Mutation
		at := map[store.Key]int{}
		for i, t := range texts {
			c := tmpl
			c.ID, _ = s.CodeID(t)
			c.Seal = s.box.Seal(t)
			at[codeKey(c.ID)] = i
			ms = append(ms, codeMutations(c)...)
		}
		err := s.st.Write(ctx, append(ms, extra...)...)
		if err == nil {
			return nil
		}
		k, _ := store.FailedKey(err)
		i, ok := at[k]
		if !errs.Is(errs.Conflict, err) || !ok {
			return errs.E(op, err)
		}
		fresh, err := s.generate(op, f, 1)
		if err != nil {
			return err
		}
		texts[i] = fresh[0]
	}
	return errs.E(op, errs.Transient, "codes of this format keep colliding; use a longer format")
}

// codeMutations creates a code: its record (absent before) and its index
// items — its batch entry, its due item, its rotation item, its campaign
// entry.
func codeMutations(c Code) []store.Mutation {
	ms := []store.Mutation{store.PutJSON(codeKey(c.ID), c).IfAbsent()}
	if c.Batch != "" {
		ms = append(ms, store.PutJSON(batchCodeKey(c.Batch, c.ID), codeRef{c.ID}))
	}
	return append(ms, indexMutations(c)...)
}

// indexMutations are the sweep index items of a code as it is.
func indexMutations(c Code) []store.Mutation {
	var ms []store.Mutation
	if !c.ExpiresAt.IsZero() {
		ms = append(ms, store.PutJSON(dueKey(c.ExpiresAt, c.ID), codeRef{c.ID}))
	}
	if !c.RotateAt.IsZero() {
		ms = append(ms, store.PutJSON(rotateKey(c.RotateAt, c.ID), codeRef{c.ID}))
	}
	if c.Campaign != "" {
		ms = append(ms, store.PutJSON(campaignCodeKey(c.Campaign, c.ID), codeRef{c.ID}))
	}
	return ms
}

// generate draws n distinct texts of a format, in the canonical form
// they are stored and shown under (codes.Format.Canonical), refusing with
// errs.Invalid a format that cannot make codes or cannot supply n of them
// (codes.Generate takes at most half of what a format can make).
func (s *Service) generate(op string, f codes.Format, n int) ([]string, error) {
	r := s.random
	if r == nil {
		r = rand.Reader
	}
	texts, err := codes.Generate(r, f, n)
	if err != nil {
		return nil, errs.E(op, err)
	}
	for i, t := range texts {
		texts[i] = f.Canonical(t)
	}
	return texts, nil
}

// checkChannel refuses a channel that cannot be carried as attribution.
func checkChannel(op, ch string) error {
	if len(ch) > 64 || strings.ContainsAny(ch, "#\x00") || !utf8.ValidString(ch) {
		return errs.E(op, errs.Invalid, "channel must be at most 64 bytes of text without '#'")
	}
	return nil
}

// stamp is a time as a sort key part, in UTC to the second.
func stamp(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// utcDay is the UTC day (yyyymmdd) of t, the day partition of the indexes.
func utcDay(t time.Time) string { return t.UTC().Format("20060102") }

// dueKey is a code's item in the due index of the day it expires.
func dueKey(at time.Time, id string) store.Key {
	return store.K(store.Sharded("invdue#"+utcDay(at), id), stamp(at)+"#"+id)
}

// rotateKey is a periodic code's item in the index of the day it rotates.
func rotateKey(at time.Time, id string) store.Key {
	return store.K(store.Sharded("invrot#"+utcDay(at), id), stamp(at)+"#"+id)
}
