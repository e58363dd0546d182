package main

import (
	"archive/zip"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/wemember/wemember/shared/dynamo"
)

// target is one function to measure.
type target struct {
	name         string
	platform     string // "lambda" or "scf": how it is started and which tags build it.
	hello        bool   // The platform's hello-world function, the yardstick.
	pkg          string // ./functions/<name> to build for the host; empty for a prebuilt binary.
	binary       string // The host binary measured (set by build for pkg targets).
	deployedSize int64  // Size of the deployed binary (zip's bootstrap or a foreign binary), if given.
	deployedArch string
}

// resolve turns the arguments (zips, binaries, function folders or names)
// into targets; no arguments means every function but local.
func resolve(root string, args []string) ([]target, error) {
	if len(args) == 0 {
		dirs, err := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
		if err != nil {
			return nil, err
		}
		for _, d := range dirs {
			if name := filepath.Base(filepath.Dir(d)); name != "local" {
				args = append(args, name)
			}
		}
		sort.Strings(args)
	}
	var out []target
	for _, a := range args {
		t, err := resolveOne(root, a)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func resolveOne(root, arg string) (target, error) {
	fromSource := func(name string) (target, error) {
		if _, err := os.Stat(filepath.Join(root, "functions", name, "main.go")); err != nil {
			return target{}, fmt.Errorf("%s: no functions/%s/main.go to build", arg, name)
		}
		return target{name: name, pkg: "./functions/" + name}, nil
	}
	if strings.HasSuffix(arg, ".zip") {
		t, err := fromSource(strings.TrimSuffix(filepath.Base(arg), ".zip"))
		if err != nil {
			return t, err
		}
		t.deployedSize, t.deployedArch, err = zippedBinary(arg)
		return t, err
	}
	fi, err := os.Stat(arg)
	switch {
	case err != nil:
		return fromSource(arg) // A function name.
	case fi.IsDir():
		if _, err := os.Stat(filepath.Join(arg, "main.go")); err == nil {
			return fromSource(filepath.Base(arg))
		}
		for _, b := range []string{"bootstrap", "main"} {
			if _, err := os.Stat(filepath.Join(arg, b)); err == nil {
				return resolveOne(root, filepath.Join(arg, b))
			}
		}
		return target{}, fmt.Errorf("%s: neither a function folder nor one holding bootstrap or main", arg)
	}
	name := filepath.Base(arg)
	if name == "bootstrap" || name == "main" {
		name = filepath.Base(filepath.Dir(arg))
	}
	arch, err := elfArch(arg)
	if err != nil {
		return target{}, fmt.Errorf("%s: %w", arg, err)
	}
	if arch == runtime.GOARCH {
		abs, err := filepath.Abs(arg)
		return target{name: name, binary: abs, deployedSize: fi.Size(), deployedArch: arch}, err
	}
	// A binary for another machine (dist/aws is arm64): measure the host
	// build of the same function, report the given binary's size.
	t, err := fromSource(name)
	if err != nil {
		return t, fmt.Errorf("%s is linux/%s and cannot run here: %w", arg, arch, err)
	}
	t.deployedSize, t.deployedArch = fi.Size(), arch
	return t, nil
}

// zippedBinary is the size and architecture of the executable in a
// deployment zip (bootstrap for Lambda, main for SCF).
func zippedBinary(path string) (int64, string, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return 0, "", err
	}
	defer zr.Close()
	for _, f := range zr.File {
		if b := filepath.Base(f.Name); b != "bootstrap" && b != "main" {
			continue
		}
		arch := ""
		rc, err := f.Open()
		if err == nil {
			head := make([]byte, 20)
			if _, err := io.ReadFull(rc, head); err == nil && string(head[:4]) == elf.ELFMAG {
				arch = machineArch(elf.Machine(uint16(head[18]) | uint16(head[19])<<8))
			}
			rc.Close()
		}
		return int64(f.UncompressedSize64), arch, nil
	}
	return 0, "", fmt.Errorf("%s: no bootstrap or main inside", path)
}

func elfArch(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("not an ELF executable: %w", err)
	}
	defer f.Close()
	return machineArch(f.Machine), nil
}

func machineArch(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "amd64"
	case elf.EM_AARCH64:
		return "arm64"
	case elf.EM_386:
		return "386"
	}
	return m.String()
}

// helloPkg is the hello-world function of a platform.
func helloPkg(platform string) string { return "./tests/coldstart/hello/" + platform }

// buildTags are the tags infra/package.sh builds a platform's functions
// with, over the given store.
func buildTags(platform, store string) string {
	if platform == "scf" {
		return "scf," + store
	}
	return "lambda,lambda.norpc," + store
}

// build compiles the pkg targets for the host into dir, one go build per
// platform with the platform's tags as infra/package.sh compiles them, and
// sets their binary paths.
func build(ctx context.Context, root, dir, store string, targets []target) error {
	pkgs := map[string][]string{}
	var platforms []string
	for _, t := range targets {
		if t.pkg == "" {
			continue
		}
		if _, ok := pkgs[t.platform]; !ok {
			platforms = append(platforms, t.platform)
		}
		pkgs[t.platform] = append(pkgs[t.platform], t.pkg)
	}
	for _, p := range platforms {
		out := filepath.Join(dir, p) + string(filepath.Separator)
		args := append([]string{"build", "-tags", buildTags(p, store), "-trimpath", "-ldflags", "-s -w", "-o", out}, pkgs[p]...)
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build -tags %s: %v\n%s", buildTags(p, store), err, out)
		}
	}
	for i, t := range targets {
		if t.pkg != "" {
			targets[i].binary = filepath.Join(dir, t.platform, filepath.Base(t.pkg))
		}
	}
	return nil
}

// dynamoTables creates fresh tables on DynamoDB Local and deletes them on
// Close.
type dynamoTables struct {
	endpoint string
	client   *dynamodb.Client
	tables   []string
}

func newDynamoTables() (*dynamoTables, error) {
	endpoint := os.Getenv("WEMEMBER_DYNAMO_ENDPOINT")
	if endpoint == "" {
		return nil, fmt.Errorf("-store dynamo needs WEMEMBER_DYNAMO_ENDPOINT (tests/dynamodb-local.sh start)")
	}
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") && !strings.HasPrefix(endpoint, "http://localhost:") {
		return nil, fmt.Errorf("WEMEMBER_DYNAMO_ENDPOINT = %q: only a loopback DynamoDB Local", endpoint)
	}
	client := dynamodb.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	})
	return &dynamoTables{endpoint: endpoint, client: client}, nil
}

// Create makes a fresh table and returns its name.
func (d *dynamoTables) Create(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	table := fmt.Sprintf("coldstart-%d-%d", os.Getpid(), time.Now().UnixNano())
	if err := dynamo.CreateTable(ctx, d.client, table); err != nil {
		return "", fmt.Errorf("create table %s: %w", table, err)
	}
	d.tables = append(d.tables, table)
	return table, nil
}

// Close deletes the tables Create made.
func (d *dynamoTables) Close() {
	for _, table := range d.tables {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		d.client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
		cancel()
	}
}
