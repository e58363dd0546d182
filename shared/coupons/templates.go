package coupons

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// SaveTemplate creates or updates a template on behalf of operator. t.Version
// is the version the operator last read: 0 creates (errs.Exist when the id is
// taken), n updates only if the stored version is still n (errs.Conflict
// otherwise). Every saved version is also kept for audit. It returns the
// stored template. Rule violations are errs.Invalid.
func (s *Service) SaveTemplate(ctx context.Context, t Template, operator string) (Template, error) {
	const op = "coupons.SaveTemplate"
	if err := validID(op, "operator", operator); err != nil {
		return Template{}, err
	}
	now := s.clock()
	if t.Version == 0 {
		t.CreatedBy, t.CreatedAt = operator, now
		if t.Shards == 0 {
			t.Shards = s.defaultShards(t.Stock)
		}
	} else {
		old, err := s.Template(ctx, t.ID)
		if err != nil {
			return Template{}, err
		}
		if t.Shards == 0 {
			t.Shards = old.Shards
		}
		if err := checkChange(old, t); err != nil {
			return Template{}, err
		}
		t.CreatedBy, t.CreatedAt = old.CreatedBy, old.CreatedAt
	}
	t.UpdatedBy, t.UpdatedAt = operator, now
	if err := t.Validate(); err != nil {
		return Template{}, err
	}
	expect := t.Version
	t.Version = expect + 1
	err := s.st.Write(ctx,
		store.PutJSON(tplKey(t.ID), t).IfVersion(expect),
		store.PutJSON(tplVersionKey(t.ID, t.Version), t))
	if errs.Is(errs.Conflict, err) {
		if expect == 0 {
			return Template{}, errs.E(op, errs.Exist, fmt.Sprintf("template %q already exists", t.ID), err)
		}
		return Template{}, errs.E(op, errs.Conflict, "template was changed by someone else; reload it", err)
	}
	if err != nil {
		return Template{}, errs.E(op, err)
	}
	return t, nil
}

// defaultShards spreads a stock over up to s.shards counters of at least
// s.shardMin each; unlimited stock gets them all. One counter is exact and
// cheap, but on DynamoDB concurrent transactions touching the same item are
// cancelled (TransactionConflict) and retried, so a hot template's issue
// rate is bounded by one item's conflict rate; n shards divide it by n.
func (s *Service) defaultShards(stock int64) int {
	if stock == 0 {
		return s.shards
	}
	return int(max(1, min(int64(s.shards), stock/s.shardMin)))
}

// SetTemplateStatus pauses or resumes a template (errs.NotExist if unknown).
func (s *Service) SetTemplateStatus(ctx context.Context, id string, st TemplateStatus, operator string) (Template, error) {
	for range 5 {
		t, err := s.Template(ctx, id)
		if err != nil {
			return Template{}, err
		}
		t.Status = st
		t, err = s.SaveTemplate(ctx, t, operator)
		if !errs.Is(errs.Conflict, err) {
			return t, err
		}
	}
	return Template{}, errs.E("coupons.SetTemplateStatus", errs.Conflict, "template is being changed; retry")
}

// Template returns one template (errs.NotExist if unknown).
func (s *Service) Template(ctx context.Context, id string) (Template, error) {
	const op = "coupons.Template"
	if err := validID(op, "template id", id); err != nil {
		return Template{}, err
	}
	var t Template
	it, err := store.GetJSON(ctx, s.st, tplKey(id), &t)
	if errs.Is(errs.NotExist, err) {
		return Template{}, errs.E(op, errs.NotExist, fmt.Sprintf("coupon template %q not found", id), err)
	}
	if err != nil {
		return Template{}, errs.E(op, err)
	}
	t.Version = it.Version
	return t, nil
}

// Templates lists templates in id order, a page at a time; pass the returned
// cursor back to continue (empty: done).
func (s *Service) Templates(ctx context.Context, cursor string, limit int) ([]Template, string, error) {
	const op = "coupons.Templates"
	pg, err := s.st.Query(ctx, store.Query{PK: tplPK, Prefix: "tpl#", After: cursor, Limit: limit})
	if err != nil {
		return nil, "", errs.E(op, err)
	}
	out := make([]Template, 0, len(pg.Items))
	for _, it := range pg.Items {
		var t Template
		if err := json.Unmarshal(it.Data, &t); err != nil {
			return nil, "", errs.E(op, errs.Internal, fmt.Errorf("decode %s: %w", it.Key, err))
		}
		t.Version = it.Version
		out = append(out, t)
	}
	return out, pg.Next, nil
}

// TemplateVersion returns a past version of a template, as saved.
func (s *Service) TemplateVersion(ctx context.Context, id string, version int64) (Template, error) {
	var t Template
	if _, err := store.GetJSON(ctx, s.st, tplVersionKey(id, version), &t); err != nil {
		return Template{}, errs.E("coupons.TemplateVersion", err)
	}
	return t, nil
}

// Taken reports how many instances of a template have been issued (the sum
// of its stock shards).
func (s *Service) Taken(ctx context.Context, id string) (int64, error) {
	pg, err := s.st.Query(ctx, store.Query{PK: "ctpl#" + id, Prefix: "stock#"})
	if err != nil {
		return 0, errs.E("coupons.Taken", err)
	}
	var n int64
	for _, it := range pg.Items {
		n += it.N
	}
	return n, nil
}

// InstallDefaults stores the Defaults templates that are not there yet (as
// operator "system"). It is safe to call on every start: existing templates
// are never overwritten.
func (s *Service) InstallDefaults(ctx context.Context) error {
	const op = "coupons.InstallDefaults"
	for _, t := range Defaults() {
		if _, err := s.SaveTemplate(ctx, t, "system"); err != nil && !errs.Is(errs.Exist, err) {
			return errs.E(op, err)
		}
	}
	return nil
}

// memberOf checks that an id is a plausible member id and not a key prefix.
func memberOf(op, member string) error {
	if err := validID(op, "member id", member); err != nil {
		return err
	}
	if strings.ContainsAny(member, "\x00") {
		return errs.E(op, errs.Invalid, "bad member id")
	}
	return nil
}
