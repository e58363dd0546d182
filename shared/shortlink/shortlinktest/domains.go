package shortlinktest

import (
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/shortlink"
	"github.com/wemember/wemember/shared/store"
)

// url returns the address of id, failing the test on an error.
func (e *env) url(id string) string {
	e.t.Helper()
	u, err := e.svc.URL(e.ctx, id)
	if err != nil {
		e.t.Fatalf("URL(%q): %v", id, err)
	}
	return u
}

// testDomains switches to the backup domain and back: the links handed out
// change, the links themselves do not, and every change is on record.
func testDomains(t *testing.T, open Opener) {
	e := newEnv(t, open, nil, shortlink.WithDomains("s.example.com", "s.example.net"))
	l := e.create(share())
	d, err := e.svc.Domains(e.ctx)
	if err != nil || d != (shortlink.Domains{Primary: "s.example.com", Backup: "s.example.net"}) {
		t.Errorf("Domains = %+v, %v; want the configured ones", d, err)
	}
	if got, want := e.url(l.ID), "https://s.example.com/s/"+l.ID; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}

	e.advance(time.Minute)
	d.UseBackup = true
	set, err := e.svc.SetDomains(e.ctx, d, "op-carol")
	if err != nil {
		t.Fatal(err)
	}
	want := shortlink.Domains{Primary: "s.example.com", Backup: "s.example.net", UseBackup: true, UpdatedBy: "op-carol", UpdatedAt: t0.Add(time.Minute)}
	if set != want {
		t.Errorf("SetDomains = %+v, want %+v", set, want)
	}
	if got, err := e.svc.Domains(e.ctx); err != nil || !got.UpdatedAt.Equal(want.UpdatedAt) || got.UseBackup != true || got.UpdatedBy != "op-carol" {
		t.Errorf("Domains after the switch = %+v, %v; want %+v", got, err, want)
	}
	if got, want := e.url(l.ID), "https://s.example.net/s/"+l.ID; got != want {
		t.Errorf("URL on the backup = %q, want %q", got, want)
	}
	e.resolves(l.ID, l)

	e.advance(time.Minute)
	d.UseBackup = false
	if _, err := e.svc.SetDomains(e.ctx, d, "op-dave"); err != nil {
		t.Fatal(err)
	}
	if got, want := e.url(l.ID), "https://s.example.com/s/"+l.ID; got != want {
		t.Errorf("URL back on the primary = %q, want %q", got, want)
	}
	page, err := e.st.Query(e.ctx, store.Query{PK: "rules#shortlink-domains", Prefix: "history#"})
	if err != nil || len(page.Items) != 2 {
		t.Errorf("history holds %d changes, %v; want 2", len(page.Items), err)
	}
}

func testDomainsRefused(t *testing.T, open Opener) {
	e := newEnv(t, open, nil, shortlink.WithDomains("s.example.com", ""))
	tests := map[string]shortlink.Domains{
		"no primary":          {Backup: "s.example.net"},
		"upper case":          {Primary: "S.example.com"},
		"scheme":              {Primary: "https://s.example.com"},
		"path":                {Primary: "s.example.com/s"},
		"trailing dot label":  {Primary: "s..example.com"},
		"dash label":          {Primary: "-s.example.com"},
		"underscore":          {Primary: "s_1.example.com"},
		"bad port":            {Primary: "localhost:0"},
		"port too big":        {Primary: "localhost:65536"},
		"port letters":        {Primary: "localhost:http"},
		"port sign":           {Primary: "localhost:+80"},
		"no port":             {Primary: "localhost:"},
		"non-ASCII":           {Primary: "短.example.com"},
		"bad backup":          {Primary: "s.example.com", Backup: "s.example.net/x"},
		"backup is primary":   {Primary: "s.example.com", Backup: "s.example.com"},
		"switch to no backup": {Primary: "s.example.com", UseBackup: true},
	}
	for name, d := range tests {
		_, err := e.svc.SetDomains(e.ctx, d, "op-carol")
		wantKind(t, name+": SetDomains", err, errs.Invalid)
	}
	_, err := e.svc.SetDomains(e.ctx, shortlink.Domains{Primary: "s.example.org"}, "")
	wantKind(t, "SetDomains without operator", err, errs.Invalid)
	if n := e.st.writes.Load(); n != 0 {
		t.Errorf("refused domains were written %d times", n)
	}
	if d, err := e.svc.Domains(e.ctx); err != nil || d.Primary != "s.example.com" {
		t.Errorf("Domains after refusals = %+v, %v; want the configured ones", d, err)
	}
	if _, err := e.svc.SetDomains(e.ctx, shortlink.Domains{Primary: "localhost:8080"}, "op-carol"); err != nil {
		t.Errorf("SetDomains(localhost:8080): %v", err)
	}
}

// testURLOptions checks the prefix option, an id in lower case, a malformed
// id and a service with no domain configured.
func testURLOptions(t *testing.T, open Opener) {
	e := newEnv(t, open, nil, shortlink.WithDomains("s.example.com", ""), shortlink.WithPrefix("go"))
	if got := e.svc.Prefix(); got != "/go/" {
		t.Errorf("Prefix = %q, want /go/", got)
	}
	if got, want := e.url("abcd2345"), "https://s.example.com/go/ABCD2345"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	_, err := e.svc.URL(e.ctx, "ABCD/345")
	wantKind(t, "URL of a malformed id", err, errs.Invalid)

	bare := newEnv(t, open, nil)
	if got := bare.svc.Prefix(); got != "/s/" {
		t.Errorf("default Prefix = %q, want /s/", got)
	}
	_, err = bare.svc.URL(bare.ctx, "ABCD2345")
	wantKind(t, "URL without domains", err, errs.Internal)
	for in, want := range map[string]string{"/x/": "/x/", "x": "/x/", "/a/b": "/a/b/", "": "/", "/": "/"} {
		if got := shortlink.New(bare.st, time.Now, nil, shortlink.WithPrefix(in)).Prefix(); got != want {
			t.Errorf("WithPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}
