package shortlink

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// Domains are the host names links are served on, as data: Primary, and
// Backup, which an operator switches to (UseBackup) when Primary is
// blocked. Every link works on both; only the links handed out change.
type Domains struct {
	Primary   string    `json:"primary"`
	Backup    string    `json:"backup,omitempty"`
	UseBackup bool      `json:"use_backup,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

// Active is the domain links are handed out on.
func (d Domains) Active() string {
	if d.UseBackup {
		return d.Backup
	}
	return d.Primary
}

// Validate fails with errs.Invalid unless Primary is a host name, Backup is
// one or empty, they differ, and UseBackup has a Backup to use. A host name
// is a lower-case DNS name (labels of a-z, 0-9 and inner '-'), with a port
// for local runs ("localhost:8080").
func (d Domains) Validate() error {
	const op = "shortlink.Domains.Validate"
	var msg string
	switch {
	case !validHost(d.Primary):
		msg = "primary domain must be a lower-case host name, e.g. s.example.com"
	case d.Backup == "" && d.UseBackup:
		msg = "a backup domain is needed to switch to it"
	case d.Backup != "" && !validHost(d.Backup):
		msg = "backup domain must be a lower-case host name, e.g. s.example.net"
	case d.Backup != "" && d.Backup == d.Primary:
		msg = "backup domain must differ from the primary"
	default:
		return nil
	}
	return errs.E(op, errs.Invalid, msg)
}

// validHost reports whether h is a lower-case DNS name with an optional
// port.
func validHost(h string) bool {
	name, port, hasPort := strings.Cut(h, ":")
	if hasPort {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] < '1' || port[0] > '9' {
			return false
		}
	}
	if name == "" || len(name) > 253 {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func domainsPK() string { return "rules#shortlink-domains" }

func domainsKey() store.Key { return store.K(domainsPK(), "current") }

// Domains returns the domains in force: the ones an operator set, else the
// configured ones.
func (s *Service) Domains(ctx context.Context) (Domains, error) {
	var d Domains
	_, err := store.GetJSON(ctx, s.st, domainsKey(), &d)
	if errs.Is(errs.NotExist, err) {
		return s.defaults, nil
	}
	if err != nil {
		return Domains{}, errs.E("shortlink.Domains", err)
	}
	return d, nil
}

// SetDomains validates and stores the domains, recording who set them and
// when, with a history item of the change in the same write. Domains that
// Validate refuses, or no operator, are errs.Invalid.
func (s *Service) SetDomains(ctx context.Context, d Domains, operator string) (Domains, error) {
	const op = "shortlink.SetDomains"
	if operator == "" {
		return Domains{}, errs.E(op, errs.Invalid, "operator is required")
	}
	if err := d.Validate(); err != nil {
		return Domains{}, errs.E(op, err)
	}
	d.UpdatedAt, d.UpdatedBy = s.now().UTC(), operator
	hist := store.K(domainsPK(), "history#"+d.UpdatedAt.Format(time.RFC3339Nano))
	if err := s.st.Write(ctx, store.PutJSON(domainsKey(), d), store.PutJSON(hist, d)); err != nil {
		return Domains{}, errs.E(op, err)
	}
	return d, nil
}

// URL is the address a link is handed out as: https://, the active domain,
// the prefix and the id. A malformed id is errs.Invalid; domains that are
// missing or misconfigured are errs.Internal.
func (s *Service) URL(ctx context.Context, id string) (string, error) {
	const op = "shortlink.URL"
	id, ok := canonicalID(id)
	if !ok {
		return "", errs.E(op, errs.Invalid, "not a short link id")
	}
	d, err := s.Domains(ctx)
	if err != nil {
		return "", errs.E(op, err)
	}
	if err := d.Validate(); err != nil {
		return "", errs.E(op, errs.Internal, "no short-link domain is configured", err)
	}
	return "https://" + d.Active() + s.prefix + id, nil
}
