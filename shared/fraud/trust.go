package fraud

import (
	"context"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/text"
)

// Trust is a member on the whitelist: as an inviter, the member has no
// daily limit and no device flag.
type Trust struct {
	Member string    `json:"member"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// Trust puts a member on the whitelist, for an operator; trusting a
// trusted member again records the new operator. A missing or malformed
// member id, or a missing operator, is errs.Invalid.
func (s *Service) Trust(ctx context.Context, memberID, operator string) (Trust, error) {
	const op = "fraud.Trust"
	if err := checkMember(op, memberID, operator); err != nil {
		return Trust{}, err
	}
	t := Trust{Member: memberID, By: operator, At: s.now().UTC()}
	if err := s.st.Write(ctx, store.PutJSON(trustKey(memberID), t), store.PutJSON(trustListKey(memberID), t)); err != nil {
		return Trust{}, errs.E(op, err)
	}
	return t, nil
}

// Untrust takes a member off the whitelist, for an operator; a member who
// is not on it is no error. A missing member id or operator is
// errs.Invalid.
func (s *Service) Untrust(ctx context.Context, memberID, operator string) error {
	const op = "fraud.Untrust"
	if err := checkMember(op, memberID, operator); err != nil {
		return err
	}
	if err := s.st.Write(ctx, store.Delete(trustKey(memberID)), store.Delete(trustListKey(memberID))); err != nil {
		return errs.E(op, err)
	}
	return nil
}

// Trusted reports whether a member is on the whitelist.
func (s *Service) Trusted(ctx context.Context, memberID string) (bool, error) {
	const op = "fraud.Trusted"
	if memberID == "" || text.Problem(memberID, MaxRef) != "" {
		return false, errs.E(op, errs.Invalid, "member id is required")
	}
	_, err := s.st.Get(ctx, trustKey(memberID))
	if errs.Is(errs.NotExist, err) {
		return false, nil
	}
	if err != nil {
		return false, errs.E(op, err)
	}
	return true, nil
}

// TrustedMembers lists the whitelist for operators in member id order, a
// page of up to limit (1..MaxList; otherwise MaxList) after cursor ("" for
// the first page). It returns the next page's cursor, "" after the last. A
// bad cursor is errs.Invalid.
func (s *Service) TrustedMembers(ctx context.Context, cursor string, limit int) ([]Trust, string, error) {
	var out []Trust
	next, err := listJSON(ctx, s.st, store.Query{PK: trustedPK, After: cursor}, limit, func(t Trust) {
		out = append(out, t)
	})
	if err != nil {
		return nil, "", errs.E("fraud.TrustedMembers", err)
	}
	return out, next, nil
}

func checkMember(op, memberID, operator string) error {
	if memberID == "" || text.Problem(memberID, MaxRef) != "" {
		return errs.E(op, errs.Invalid, "member id is required")
	}
	if operator == "" {
		return errs.E(op, errs.Invalid, "operator is required")
	}
	return nil
}
