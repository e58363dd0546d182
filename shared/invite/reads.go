package invite

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/store"
)

// MemberCode is one of a member's own codes with its text, for the member.
type MemberCode struct {
	Code
	Text string `json:"text"`
}

// MemberCodes lists a member's own codes — one per kind and campaign, the
// current one — with their texts: the member is entitled to its own.
func (s *Service) MemberCodes(ctx context.Context, memberID string) ([]MemberCode, error) {
	const op = "invite.MemberCodes"
	if memberID == "" {
		return nil, errs.E(op, errs.Invalid, "member is required")
	}
	page, err := s.st.Query(ctx, store.Query{PK: member.Partition(memberID), Prefix: "invown#"})
	if err != nil {
		return nil, errs.E(op, err)
	}
	cs, err := s.codesOf(ctx, op, page.Items)
	if err != nil {
		return nil, err
	}
	out := make([]MemberCode, 0, len(cs))
	for _, c := range cs {
		text, err := s.Text(c)
		if err != nil {
			return nil, errs.E(op, err)
		}
		out = append(out, MemberCode{Code: c, Text: text})
	}
	return out, nil
}

// CodePage is a page of codes as operators see them: ids, kinds, statuses
// and validity, never the text (Seal is empty).
type CodePage struct {
	Codes []Code `json:"codes"`
	Next  string `json:"next,omitempty"`
}

// BatchCodes lists a batch's codes for operators, limit at a time (at most
// store.MaxPage) after cursor. The texts were shown once, in CreateBatch's
// answer; they are not shown again (an operator who lost them makes a new
// batch), so a leaked admin session reveals no redeemable code.
func (s *Service) BatchCodes(ctx context.Context, batchID, cursor string, limit int) (CodePage, error) {
	const op = "invite.BatchCodes"
	if _, err := s.Batch(ctx, batchID); err != nil {
		return CodePage{}, err
	}
	if limit <= 0 || limit > store.MaxPage {
		limit = store.MaxPage
	}
	page, err := s.st.Query(ctx, store.Query{PK: batchPK(batchID), Prefix: "c#", After: cursor, Limit: limit,
		Consistency: store.Eventual})
	if err != nil {
		return CodePage{}, errs.E(op, err)
	}
	cs, err := s.codesOf(ctx, op, page.Items)
	if err != nil {
		return CodePage{}, err
	}
	for i := range cs {
		cs[i].Seal = ""
	}
	return CodePage{Codes: cs, Next: page.Next}, nil
}

// Batch returns a batch's record (without texts).
func (s *Service) Batch(ctx context.Context, id string) (Batch, error) {
	const op = "invite.Batch"
	if id == "" || strings.Contains(id, "\x00") {
		return Batch{}, errs.E(op, errs.NotExist, "unknown batch")
	}
	var b Batch
	_, err := store.GetJSON(ctx, s.st, batchKey(id), &b)
	if errs.Is(errs.NotExist, err) {
		return Batch{}, errs.E(op, errs.NotExist, "unknown batch")
	}
	if err != nil {
		return Batch{}, errs.E(op, err)
	}
	return b, nil
}

// codesOf reads the codes index items point to, in their order; an item
// whose code is gone is skipped.
func (s *Service) codesOf(ctx context.Context, op string, items []store.Item) ([]Code, error) {
	if len(items) == 0 {
		return nil, nil
	}
	ks := make([]store.Key, len(items))
	for i, it := range items {
		var ref codeRef
		if err := json.Unmarshal(it.Data, &ref); err != nil {
			return nil, errs.E(op, errs.Internal, err)
		}
		ks[i] = codeKey(ref.ID)
	}
	got, err := s.st.GetMany(ctx, ks, store.Strong)
	if err != nil {
		return nil, errs.E(op, err)
	}
	out := make([]Code, 0, len(got))
	for _, it := range got {
		if !it.Found() {
			continue
		}
		var c Code
		if err := json.Unmarshal(it.Data, &c); err != nil {
			return nil, errs.E(op, errs.Internal, err)
		}
		out = append(out, c)
	}
	return out, nil
}
