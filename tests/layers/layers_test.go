// Package layers_test enforces the layering of STYLE.md: domain packages
// under shared/ import only the standard library and each other — no
// cloud, WeChat or database code.
package layers_test

import (
	"os/exec"
	"strings"
	"testing"
)

// domain lists the packages that hold business rules.
var domain = []string{
	"errs", "store", "web", "config", "session", "pii", "idem", "auth",
	"member", "channels", "loyalty", "coupons", "onboard", "imports", "reminders",
}

// foreign are import path prefixes a domain package must not reach.
var foreign = []string{
	"github.com/aws/", "github.com/tencentyun/", "github.com/silenceper/",
	"github.com/wechatpay-apiv3/", "go.etcd.io/bbolt",
	"github.com/wemember/wemember/shared/bolt", "github.com/wemember/wemember/shared/dynamo",
	"github.com/wemember/wemember/shared/lambda", "github.com/wemember/wemember/shared/scf",
	"github.com/wemember/wemember/shared/wechat", "github.com/wemember/wemember/shared/boot",
}

func TestDomainImportsNoInfrastructure(t *testing.T) {
	for _, p := range domain {
		pkg := "github.com/wemember/wemember/shared/" + p
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range foreign {
				if strings.HasPrefix(dep, f) {
					t.Errorf("%s imports %s", pkg, dep)
				}
			}
		}
	}
}
