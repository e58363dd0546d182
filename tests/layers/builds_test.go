package layers_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wemember/wemember/shared/config"
)

// build is one way of building the deployable functions: the build tags,
// the import paths (or prefixes ending in "/") every function must link,
// and those none may.
type build struct {
	name    string
	tags    string
	present []string
	absent  []string
}

// Paths the tests name.
const (
	lambdaRuntime = "github.com/aws/aws-lambda-go/lambda"
	scfRuntime    = "github.com/tencentyun/scf-go-lib/cloudfunction/messages" // The runtime's wire types (shared/scf serves them).
	scfLib        = "github.com/tencentyun/"
	dynamoClient  = "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awsSDK        = "github.com/aws/aws-sdk-go-v2"
	smithy        = "github.com/aws/smithy-go"
	bbolt         = "go.etcd.io/bbolt"
	lambdaLib     = "github.com/aws/aws-lambda-go"
)

// credentialChain is what the SDK's full configuration loading brings in
// and a function never uses: shared config files, SSO, STS, IMDS.
var credentialChain = []string{
	"github.com/aws/aws-sdk-go-v2/config", "github.com/aws/aws-sdk-go-v2/credentials/",
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds", "github.com/aws/aws-sdk-go-v2/service/sso",
	"github.com/aws/aws-sdk-go-v2/service/ssooidc", "github.com/aws/aws-sdk-go-v2/service/sts",
}

// rpcStack is what net/rpc drags in (the Lambda Go1 protocol without
// lambda.norpc, scf-go-lib's own runtime server); its calling methods by
// reflection also keeps every exported method in the binary.
var rpcStack = []string{"net/rpc", "html/template"}

// builds are the deployments infra/package.sh builds, the bbolt ones, and
// the default build (every platform and store, for make run and tests).
var builds = []build{
	{
		name: "AWS Lambda on DynamoDB", tags: "lambda,lambda.norpc,dynamo",
		present: []string{lambdaRuntime, dynamoClient},
		absent:  slices.Concat([]string{scfLib, bbolt}, credentialChain, rpcStack),
	},
	{
		name: "Tencent SCF on DynamoDB", tags: "scf,dynamo",
		present: []string{scfRuntime, dynamoClient},
		absent:  slices.Concat([]string{lambdaLib, bbolt}, credentialChain, rpcStack),
	},
	{
		name: "AWS Lambda on bbolt", tags: "lambda,lambda.norpc,bolt",
		present: []string{lambdaRuntime, bbolt},
		absent:  slices.Concat([]string{scfLib, awsSDK, smithy}, rpcStack),
	},
	{
		name: "Tencent SCF on bbolt", tags: "scf,bolt",
		present: []string{scfRuntime, bbolt},
		absent:  slices.Concat([]string{lambdaLib, awsSDK, smithy}, rpcStack),
	},
	{
		name: "default (every platform and store)", tags: "",
		present: []string{lambdaRuntime, scfRuntime, dynamoClient, bbolt},
	},
}

// deployables are the functions' main packages (functions/local, the
// development runner, is not deployed).
func deployables(t *testing.T) []string {
	t.Helper()
	mains, err := filepath.Glob("../../functions/*/main.go")
	if err != nil || len(mains) == 0 {
		t.Fatalf("no functions/*/main.go (%v)", err)
	}
	var out []string
	for _, m := range mains {
		if name := filepath.Base(filepath.Dir(m)); name != "local" {
			out = append(out, module+"/functions/"+name)
		}
	}
	return out
}

// TestBuildsLinkOnlyTheirPlatformAndStore lists each deployable function's
// dependencies under each build's tags: a deployment links its platform's
// runtime and its store and nothing of the others.
func TestBuildsLinkOnlyTheirPlatformAndStore(t *testing.T) {
	fns := deployables(t)
	for _, b := range builds {
		t.Run(b.name, func(t *testing.T) {
			cmd := exec.Command("go", append([]string{"list", "-tags", b.tags, "-json=ImportPath,Deps"}, fns...)...)
			cmd.Dir = "../.."
			cmd.Env = append(os.Environ(), "GOOS=linux", "CGO_ENABLED=0")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list -tags %q: %v", b.tags, err)
			}
			dec := json.NewDecoder(bytes.NewReader(out))
			seen := 0
			for {
				var p pkg
				if err := dec.Decode(&p); err == io.EOF {
					break
				} else if err != nil {
					t.Fatal(err)
				}
				seen++
				for _, want := range b.present {
					if !slices.ContainsFunc(p.Deps, func(d string) bool { return under(d, want) }) {
						t.Errorf("%s with -tags %q does not link %s", p.ImportPath, b.tags, want)
					}
				}
				for _, d := range p.Deps {
					if slices.ContainsFunc(b.absent, func(f string) bool { return under(d, f) }) {
						t.Errorf("%s with -tags %q links %s", p.ImportPath, b.tags, d)
					}
				}
			}
			if seen != len(fns) {
				t.Fatalf("go list described %d packages, want %d", seen, len(fns))
			}
		})
	}
}

// TestMissingPlatformOrStoreFailsAtStart builds a function for SCF on
// bbolt and starts it where Lambda or DynamoDB is asked for: it exits at
// once with status 1, naming the build tag it lacks. The same binary's
// package initialisation shows that none of the module's packages does
// work at start (each allocates next to nothing), since every cold start
// pays for it.
func TestMissingPlatformOrStoreFailsAtStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a function")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "mp-login")
	cmd := exec.Command("go", "build", "-tags", "scf,bolt", "-o", bin, "./functions/mp-login")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	vars := config.Dev(dir, "http://127.0.0.1:1")
	start := func(extra ...string) (string, int) {
		cmd := exec.Command(bin)
		cmd.Dir = dir
		cmd.Env = []string{"HOME=" + dir, "GODEBUG=inittrace=1"}
		for k, v := range vars {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Env = append(cmd.Env, extra...)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	for _, tt := range []struct {
		name string
		env  []string
		want string
	}{
		{"on Lambda", []string{"AWS_LAMBDA_RUNTIME_API=127.0.0.1:1"}, "built without the lambda runtime: build it with -tags lambda"},
		{"on DynamoDB", []string{"_LAMBDA_SERVER_PORT=1", "WEMEMBER_STORE=dynamo:members"}, "built without the dynamo store: build it with -tags dynamo"},
	} {
		out, code := start(tt.env...)
		if code != 1 || !strings.Contains(out, tt.want) {
			t.Errorf("%s: exit %d, output:\n%s\nwant exit 1 and %q", tt.name, code, out, tt.want)
		}
		if tt.name == "on Lambda" {
			checkInit(t, out)
		}
	}
}

// initLine is one package's line of GODEBUG=inittrace=1.
var initLine = regexp.MustCompile(`(?m)^init (\S+) @\S+ ms, \S+ ms clock, (\d+) bytes, (\d+) allocs$`)

// maxInitAllocs bounds the allocations of one of the module's packages at
// start: a few package variables, nothing built (a compiled regexp is
// hundreds).
const maxInitAllocs = 16

func checkInit(t *testing.T, trace string) {
	t.Helper()
	lines := initLine.FindAllStringSubmatch(trace, -1)
	if len(lines) == 0 {
		t.Fatalf("no inittrace lines in:\n%s", trace)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l[1], module+"/") {
			continue
		}
		if allocs, _ := strconv.Atoi(l[3]); allocs > maxInitAllocs {
			t.Errorf("package %s allocates %s times (%s bytes) at start, want at most %d", l[1], l[3], l[2], maxInitAllocs)
		}
	}
}
