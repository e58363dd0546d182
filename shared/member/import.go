package member

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/parallel"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/text"
)

// MaxImportRows is the most rows one Import or ImportBatch call takes; larger
// files go through the asynchronous jobs of package imports.
const MaxImportRows = 1000

// MaxImportName bounds an imported name and an external id, in characters.
const MaxImportName = 64

// importWriteItems is how many mutations one atomic write of new members
// carries: 45 members of a profile and a phone index each, leaving room
// under store.MaxWrite for the members with an import record.
const importWriteItems = 90

// importLookups bounds the concurrent phone lookups of one import, and
// importWriters its concurrent writes: a store such as DynamoDB serves them
// in parallel; bbolt serializes the writes.
const (
	importLookups = 8
	importWriters = 4
)

// ImportRow is one offline member: a mainland mobile phone and a name, and
// optionally a birthday ("MM-DD", or "YYYY-MM-DD" of which only the
// month-day is kept) and the merchant's own id for the person.
type ImportRow struct {
	Phone      string `json:"phone"`
	Name       string `json:"name"`
	Birthday   string `json:"birthday,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
}

// InvalidRow is a row an import refused, and why. Phone is masked: the
// number is never echoed back in full.
type InvalidRow struct {
	Row    int    `json:"row"` // 1-based position among the rows given.
	Phone  string `json:"phone,omitempty"`
	Reason string `json:"reason"`
}

// ImportResult is the outcome of an import. Created counts the members this
// batch created, including on an earlier run of the same batch, so re-running
// a batch reports the same result; Existing counts rows whose phone already
// belonged to a member from elsewhere (left unchanged).
type ImportResult struct {
	Batch     string       `json:"batch"`
	Created   int          `json:"created"`
	Existing  int          `json:"existing"`
	Invalid   []InvalidRow `json:"invalid"`
	MemberIDs []string     `json:"member_ids"` // Per row, in order; "" for an invalid row.
}

// ImportRecord is what an import knew about a member beyond the profile: the
// batch, the merchant's id and the sealed birthday. It is stored under the
// member's partition only for rows that carried either.
type ImportRecord struct {
	Batch        string    `json:"batch"`
	ExternalID   string    `json:"external_id,omitempty"`
	BirthdaySeal string    `json:"birthday_seal,omitempty"` // Sealed with pii.Box.
	At           time.Time `json:"at"`
}

func importKey(id string) store.Key { return store.K(Partition(id), "import") }

// candidate is a valid row on its way to becoming a member.
type candidate struct {
	row      int // Index into the rows given.
	phone    string
	ident    Identity
	in       ImportRow
	owner    string // The member already owning the phone, if any.
	ownBatch bool   // The owner was created by this very batch.
}

// Import creates members from offline rows under a fresh batch id, as
// ImportBatch does.
func (s *Service) Import(ctx context.Context, rows []ImportRow) (ImportResult, error) {
	return s.ImportBatch(ctx, "imp-"+s.newID(), rows)
}

// ImportBatch creates an unclaimed member (Imported, channel "import" with
// the batch id as its value) for every valid row whose phone no member owns
// yet, with the phone identity, the sealed phone and the sealed name. A row
// whose phone a member already owns is counted, not changed. Invalid rows
// (bad phone, missing or overlong name, bad birthday, a phone repeating an
// earlier row) are reported with reasons and nothing is stored for them. It
// is idempotent: re-importing rows creates nothing new, and a later Arrive
// with the same phone claims the member. It fails with errs.Invalid for an
// empty or oversized batch or a bad batch id; after a store failure some
// members may be created and a retry of the same batch completes the rest.
func (s *Service) ImportBatch(ctx context.Context, batch string, rows []ImportRow) (ImportResult, error) {
	const op = "member.Import"
	switch {
	case batch == "" || len(batch) > 128:
		return ImportResult{}, errs.E(op, errs.Invalid, "import batch id is missing or too long")
	case len(rows) == 0:
		return ImportResult{}, errs.E(op, errs.Invalid, "no rows to import")
	case len(rows) > MaxImportRows:
		return ImportResult{}, errs.E(op, errs.Invalid, fmt.Sprintf("at most %d rows per import call", MaxImportRows))
	}
	res := ImportResult{Batch: batch, MemberIDs: make([]string, len(rows))}
	cands, invalid := s.checkRows(rows)
	res.Invalid = invalid
	if err := s.lookupOwners(ctx, batch, cands); err != nil {
		return ImportResult{}, errs.E(op, err)
	}
	var fresh []*candidate
	for _, c := range cands {
		if c.owner != "" {
			res.count(c)
			continue
		}
		fresh = append(fresh, c)
	}
	now := s.now().UTC()
	var packs [][]*candidate
	var writes [][]store.Mutation
	for rest := fresh; len(rest) > 0; {
		var pack []*candidate
		var ms []store.Mutation
		for len(rest) > 0 {
			next := s.importMutations(batch, rest[0], now)
			if len(ms)+len(next) > importWriteItems {
				break
			}
			ms = append(ms, next...)
			pack, rest = append(pack, rest[0]), rest[1:]
		}
		packs, writes = append(packs, pack), append(writes, ms)
	}
	err := parallel.Each(ctx, importWriters, len(packs), func(ctx context.Context, i int) error {
		return s.writePack(ctx, batch, packs[i], writes[i], now)
	})
	if err != nil {
		return ImportResult{}, errs.E(op, err)
	}
	for _, c := range fresh {
		res.count(c)
	}
	return res, nil
}

// writePack creates a pack of members in one atomic write or, when a phone
// was taken meanwhile, row by row.
func (s *Service) writePack(ctx context.Context, batch string, pack []*candidate, ms []store.Mutation, now time.Time) error {
	err := s.store.Write(ctx, ms...)
	if errs.Is(errs.Conflict, err) {
		for _, c := range pack {
			if err := s.importOne(ctx, batch, c, now); err != nil {
				return err
			}
		}
		return nil
	}
	if err != nil {
		return err
	}
	for _, c := range pack {
		c.ownBatch = true
	}
	return nil
}

// count records a settled candidate in the result.
func (r *ImportResult) count(c *candidate) {
	r.MemberIDs[c.row] = c.owner
	if c.ownBatch {
		r.Created++
	} else {
		r.Existing++
	}
}

// checkRows validates rows, returning the valid ones as candidates and the
// rest with reasons.
func (s *Service) checkRows(rows []ImportRow) ([]*candidate, []InvalidRow) {
	invalid := []InvalidRow{}
	var cands []*candidate
	first := make(map[string]int, len(rows))
	for i, r := range rows {
		bad := func(reason string, phone string) {
			invalid = append(invalid, InvalidRow{Row: i + 1, Phone: phone, Reason: reason})
		}
		raw := strings.TrimSpace(r.Phone)
		if raw == "" {
			bad("phone is missing", "")
			continue
		}
		phone, err := pii.NormalizePhone(raw)
		if err != nil {
			bad("phone is not a mainland mobile number", pii.MaskPhone(raw))
			continue
		}
		masked := pii.MaskPhone(phone)
		row := ImportRow{Phone: phone, Name: strings.TrimSpace(r.Name),
			Birthday: strings.TrimSpace(r.Birthday), ExternalID: strings.TrimSpace(r.ExternalID)}
		if reason := CheckImportRow(row); reason != "" {
			bad(reason, masked)
			continue
		}
		row.Birthday, _ = monthDay(row.Birthday)
		if f, dup := first[phone]; dup {
			bad(fmt.Sprintf("phone repeats row %d", f), masked)
			continue
		}
		first[phone] = i + 1
		cands = append(cands, &candidate{row: i, phone: phone, in: row,
			ident: phoneIdentity(s.box, mainlandPhone(phone))})
	}
	return cands, invalid
}

// CheckImportRow returns why a row's name, birthday and external id are
// unacceptable, or "" when they are fine: a name is text.NameProblem's
// name (no control, bidi-override or other invisible characters, something
// visible), an external id text.Problem's text. The phone is checked by
// pii.NormalizePhone. Values are expected trimmed.
func CheckImportRow(r ImportRow) string {
	switch {
	case r.Name == "":
		return "name is missing"
	case utf8.RuneCountInString(r.Name) > MaxImportName:
		return fmt.Sprintf("name is longer than %d characters", MaxImportName)
	}
	if p := text.NameProblem(r.Name, utf8.UTFMax*MaxImportName); p != "" {
		return "name " + p
	}
	switch {
	case r.Birthday != "" && !validBirthday(r.Birthday):
		return "birthday is not a valid date (MM-DD or YYYY-MM-DD)"
	case len(r.ExternalID) > MaxImportName:
		return fmt.Sprintf("external id is longer than %d characters", MaxImportName)
	}
	if p := text.Problem(r.ExternalID, MaxImportName); p != "" {
		return "external id " + p
	}
	return ""
}

// validBirthday accepts "MM-DD" of a real day in a leap year, or a real
// date "YYYY-MM-DD".
func validBirthday(b string) bool {
	_, ok := monthDay(b)
	return ok
}

// monthDay is the "MM-DD" of a birthday given as "MM-DD" or "YYYY-MM-DD".
// Only the month-day is kept: the member model has no place for the year.
func monthDay(b string) (string, bool) {
	if len(b) == len("2006-01-02") {
		t, err := time.Parse("2006-01-02", b)
		if err != nil || t.Format("2006-01-02") != b {
			return "", false
		}
		return t.Format("01-02"), true
	}
	t, err := time.Parse("01-02", b)
	if err != nil {
		return "", false
	}
	d := time.Date(2000, t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return b, d.Format("01-02") == b
}

// lookupOwners finds the member that already owns each candidate's phone.
func (s *Service) lookupOwners(ctx context.Context, batch string, cands []*candidate) error {
	return parallel.Each(ctx, importLookups, len(cands), func(ctx context.Context, i int) error {
		return s.lookupOwner(ctx, batch, cands[i])
	})
}

// lookupOwner sets c.owner (and c.ownBatch) when a member owns c's phone.
func (s *Service) lookupOwner(ctx context.Context, batch string, c *candidate) error {
	m, err := s.Resolve(ctx, c.ident)
	if errs.Is(errs.NotExist, err) {
		return nil
	}
	if err != nil {
		return err
	}
	c.owner = m.ID
	c.ownBatch = m.Channel.Kind == "import" && m.Channel.Value == batch
	return nil
}

// mainlandPhone is a number pii.NormalizePhone accepted, with its country:
// import files hold mainland numbers only.
func mainlandPhone(number string) pii.Phone { return pii.Phone{Country: "86", Number: number} }

// importMutations are the writes that create c's member: the profile, the
// phone index and, when the row carries more, the import record.
func (s *Service) importMutations(batch string, c *candidate, now time.Time) []store.Mutation {
	m := Member{
		ID: s.newID(), Status: Active, CreatedAt: now, ActiveAt: now,
		Channel:    Channel{Kind: "import", Value: batch},
		Identities: []Identity{c.ident},
		NameSeal:   s.box.Seal(c.in.Name),
		Imported:   true,
	}
	s.setPhone(&m, mainlandPhone(c.phone))
	c.owner = m.ID
	ms := []store.Mutation{
		store.PutJSON(profileKey(m.ID), m).IfAbsent(),
		store.PutJSON(indexKey(c.ident), indexEntry{MemberID: m.ID}).IfAbsent(),
	}
	if c.in.Birthday != "" || c.in.ExternalID != "" {
		rec := ImportRecord{Batch: batch, ExternalID: c.in.ExternalID, BirthdaySeal: s.box.Seal(c.in.Birthday), At: now}
		ms = append(ms, store.PutJSON(importKey(m.ID), rec).IfAbsent())
	}
	return ms
}

// importOne settles one candidate on its own after its pack lost a race:
// it creates the member, or finds the one that took the phone meanwhile.
func (s *Service) importOne(ctx context.Context, batch string, c *candidate, now time.Time) error {
	for range retry.Tries(ctx, maxTries) {
		c.owner, c.ownBatch = "", false
		err := s.store.Write(ctx, s.importMutations(batch, c, now)...)
		if err == nil {
			c.ownBatch = true
			return nil
		}
		if !errs.Is(errs.Conflict, err) {
			c.owner = ""
			return err
		}
		c.owner = ""
		if err := s.lookupOwner(ctx, batch, c); err != nil {
			return err
		}
		if c.owner != "" {
			return nil
		}
	}
	return errs.E(errs.Transient, "too much contention importing a row, retry")
}

// ImportRecordOf returns the import record of a member, or errs.NotExist
// when the member was not imported with a birthday or an external id.
func (s *Service) ImportRecordOf(ctx context.Context, id string) (ImportRecord, error) {
	var rec ImportRecord
	if _, err := store.GetJSON(ctx, s.store, importKey(id), &rec); err != nil {
		return ImportRecord{}, errs.E("member.ImportRecordOf", err)
	}
	return rec, nil
}
