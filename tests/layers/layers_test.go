// Package layers_test enforces the layering of STYLE.md over the module's
// dependency graph (go list, test files excluded):
//
//   - every package under shared/ is domain code that imports no
//     infrastructure, unless it is on the adapter allow-list;
//   - handler packages (functions/<name>/<pkg>) take the services they use
//     and see neither the composition root nor any infrastructure;
//   - the WeChat simulator under tests/ is seen only by the local runner's
//     command and by tests, never by a deployable function.
//
// A new shared/ package is domain code until it is added to an allow-list.
package layers_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/wemember/wemember"

// adapters are the shared/ packages (and their subpackages) that exist to
// talk to a dependency: a store, a cloud platform, WeChat's API, or the
// composition root wiring them together. WeChat's push codecs (wxoa,
// wxwork) and its answers (wxuser) are plain Go, checked as domain code, so
// the callback handlers may use them.
var adapters = []string{
	"shared/bolt", "shared/dynamo", // Stores.
	"shared/lambda", "shared/scf", "shared/launch", "shared/local", // Platforms.
	"shared/wechat", // WeChat's API through its SDK.
	"shared/boot",   // The composition root.
}

// httpLayer are the shared/ packages that carry requests and may use
// net/http's vocabulary (headers, statuses); the rest of the domain may not.
var httpLayer = []string{"shared/web", "shared/auth", "shared/idem"}

// infrastructure are import path prefixes domain code must not reach.
var infrastructure = []string{
	"github.com/aws/", "github.com/tencentyun/", "github.com/silenceper/",
	"github.com/wechatpay-apiv3/", "go.etcd.io/bbolt",
	module + "/tests/",
}

// rooted reports whether pkg is one of the module paths or below one.
func rooted(pkg string, paths []string) bool {
	for _, p := range paths {
		if pkg == module+"/"+p || strings.HasPrefix(pkg, module+"/"+p+"/") {
			return true
		}
	}
	return false
}

// moduleAdapters are the adapter packages as import path prefixes, for the
// forbidden lists.
func moduleAdapters() []string {
	out := make([]string, len(adapters))
	for i, a := range adapters {
		out[i] = module + "/" + a
	}
	return out
}

// pkg is one package of the module as go list sees it.
type pkg struct {
	ImportPath string
	Name       string
	Deps       []string
}

// graph lists every package of the module with its transitive imports.
func graph(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Name,Deps", "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		pkgs[p.ImportPath] = p
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages, want the whole module", len(pkgs))
	}
	return pkgs
}

// rule is one layering rule: the packages it covers must not depend on any
// path starting with one of forbidden.
type rule struct {
	covers    func(p pkg) bool
	forbidden []string
}

// under reports whether dep is path or inside it; a path ending in "/" is
// a plain prefix ("github.com/aws/").
func under(dep, path string) bool {
	if strings.HasSuffix(path, "/") {
		return strings.HasPrefix(dep, path)
	}
	return dep == path || strings.HasPrefix(dep, path+"/")
}

// violations lists "pkg imports dep" for every dependency that breaks r.
func (r rule) violations(pkgs map[string]pkg) []string {
	var out []string
	for _, p := range pkgs {
		if !r.covers(p) {
			continue
		}
		for _, dep := range p.Deps {
			if slices.ContainsFunc(r.forbidden, func(f string) bool { return under(dep, f) }) {
				out = append(out, p.ImportPath+" imports "+dep)
			}
		}
	}
	slices.Sort(out)
	return out
}

// domainRule: every shared/ package off the adapter list reaches no
// infrastructure and no adapter; off the HTTP layer, not net/http either.
var domainRule = rule{
	covers: func(p pkg) bool {
		return strings.HasPrefix(p.ImportPath, module+"/shared/") && !rooted(p.ImportPath, adapters)
	},
	forbidden: append(slices.Clone(infrastructure), moduleAdapters()...),
}

var domainHTTPRule = rule{
	covers: func(p pkg) bool {
		return domainRule.covers(p) && !rooted(p.ImportPath, httpLayer)
	},
	forbidden: []string{"net/http"},
}

// handlerRule: a function's handler package takes what it uses; it never
// sees the composition root, a store, a platform, WeChat's SDK or tests.
var handlerRule = rule{
	covers: func(p pkg) bool {
		rest, ok := strings.CutPrefix(p.ImportPath, module+"/functions/")
		return ok && p.Name != "main" && strings.Contains(rest, "/") &&
			!rooted(p.ImportPath, []string{"functions/local", "functions/wiring"})
	},
	forbidden: append(slices.Clone(infrastructure), moduleAdapters()...),
}

// deployableRule: nothing but the local runner's command and the tests
// themselves sees tests/ (the WeChat simulator, fixtures).
var deployableRule = rule{
	covers: func(p pkg) bool {
		return !rooted(p.ImportPath, []string{"tests"}) && p.ImportPath != module+"/functions/local"
	},
	forbidden: []string{module + "/tests/"},
}

// check reports r's violations, a line per package with its first few
// forbidden dependencies.
func check(t *testing.T, r rule) {
	t.Helper()
	byPkg := map[string][]string{}
	var order []string
	for _, v := range r.violations(graph(t)) {
		p, dep, _ := strings.Cut(v, " imports ")
		if byPkg[p] == nil {
			order = append(order, p)
		}
		byPkg[p] = append(byPkg[p], dep)
	}
	for _, p := range order {
		deps := byPkg[p]
		t.Errorf("%s imports %d forbidden packages: %s", p, len(deps), strings.Join(deps[:min(len(deps), 4)], ", "))
	}
}

func TestSharedImportsNoInfrastructure(t *testing.T) { check(t, domainRule) }

func TestSharedDomainImportsNoHTTP(t *testing.T) { check(t, domainHTTPRule) }

func TestHandlersImportNoInfrastructure(t *testing.T) { check(t, handlerRule) }

func TestOnlyLocalRunnerSeesTests(t *testing.T) { check(t, deployableRule) }

// TestRulesCover makes sure the rules look at what they claim to: the
// handler rule finds every handler package, and the domain rule finds a
// package nobody listed.
func TestRulesCover(t *testing.T) {
	pkgs := graph(t)
	var handlers []string
	for _, p := range pkgs {
		if handlerRule.covers(p) {
			handlers = append(handlers, strings.TrimPrefix(p.ImportPath, module+"/functions/"))
		}
	}
	for _, want := range []string{"member-api/memberapi", "mp-login/mplogin", "admin-api/adminapi",
		"oa-callback/oacallback", "wecom-callback/wecomcallback", "expiry-sweep/sweep"} {
		if !slices.Contains(handlers, want) {
			t.Errorf("handler rule does not cover %s (covers %v)", want, handlers)
		}
	}
	for _, p := range []string{"shared/member", "shared/loyalty", "shared/onboard", "shared/reminders"} {
		if !domainRule.covers(pkgs[module+"/"+p]) {
			t.Errorf("domain rule does not cover %s", p)
		}
	}
	if !deployableRule.covers(pkgs[module+"/functions/member-api"]) || deployableRule.covers(pkgs[module+"/functions/local"]) {
		t.Error("deployable rule covers the wrong commands")
	}
}

// TestRulesCatchViolations runs the rules over a synthetic graph: an
// unlisted shared/ package reaching the AWS SDK, a domain package reaching
// net/http, a handler reaching the composition root and a function
// reaching the simulator are each reported; allowed edges are not.
func TestRulesCatchViolations(t *testing.T) {
	pkgs := map[string]pkg{}
	add := func(path, name string, deps ...string) {
		pkgs[module+"/"+path] = pkg{ImportPath: module + "/" + path, Name: name, Deps: deps}
	}
	add("shared/newdomain", "newdomain", "context", "github.com/aws/aws-sdk-go-v2/aws")
	add("shared/member", "member", "net/http")
	add("shared/loyalty", "loyalty", module+"/shared/store", "time")
	add("shared/web", "web", "net/http")
	add("shared/dynamo", "dynamo", "github.com/aws/aws-sdk-go-v2/aws")
	add("shared/wechatpay", "wechatpay", "github.com/wechatpay-apiv3/wechatpay-go/core")
	add("functions/member-api/memberapi", "memberapi", module+"/shared/boot", module+"/shared/member")
	add("functions/mp-login/mplogin", "mplogin", module+"/shared/member", module+"/shared/web")
	add("functions/mp-login", "main", module+"/tests/wxsim")
	add("functions/local", "main", module+"/tests/wxsim")
	got := map[string][]string{
		"domain":     domainRule.violations(pkgs),
		"domainHTTP": domainHTTPRule.violations(pkgs),
		"handler":    handlerRule.violations(pkgs),
		"deployable": deployableRule.violations(pkgs),
	}
	want := map[string][]string{
		"domain": {
			module + "/shared/newdomain imports github.com/aws/aws-sdk-go-v2/aws",
			module + "/shared/wechatpay imports github.com/wechatpay-apiv3/wechatpay-go/core",
		},
		"domainHTTP": {module + "/shared/member imports net/http"},
		"handler":    {module + "/functions/member-api/memberapi imports " + module + "/shared/boot"},
		"deployable": {module + "/functions/mp-login imports " + module + "/tests/wxsim"},
	}
	for k := range want {
		if !slices.Equal(got[k], want[k]) {
			t.Errorf("%s rule: got %q, want %q", k, got[k], want[k])
		}
	}
}
