package launch_test

import (
	"testing"

	"github.com/wemember/wemember/shared/launch"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestChoose(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want launch.Platform
	}{
		{"nothing set is local", nil, launch.Local},
		{"Lambda runtime API", map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}, launch.Lambda},
		{"SCF server port", map[string]string{"_LAMBDA_SERVER_PORT": "9000"}, launch.SCF},
		{"both: Lambda wins", map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "_LAMBDA_SERVER_PORT": "9000"}, launch.Lambda},
		{"PORT alone is local", map[string]string{"PORT": "9090"}, launch.Local},
		{"empty values count as unset", map[string]string{"AWS_LAMBDA_RUNTIME_API": "", "_LAMBDA_SERVER_PORT": ""}, launch.Local},
	}
	for _, tt := range tests {
		if got := launch.Choose(env(tt.env)); got != tt.want {
			t.Errorf("%s: Choose = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestAddr(t *testing.T) {
	tests := []struct {
		port, want string
	}{
		{"", "127.0.0.1:8080"},
		{"9090", "127.0.0.1:9090"},
		{" 9090 ", "127.0.0.1:9090"},
		{":9090", ":9090"},
		{"0.0.0.0:9090", "0.0.0.0:9090"},
		{"[::1]:9090", "[::1]:9090"},
	}
	for _, tt := range tests {
		if got := launch.Addr(env(map[string]string{"PORT": tt.port})); got != tt.want {
			t.Errorf("Addr(PORT=%q) = %q, want %q", tt.port, got, tt.want)
		}
	}
}

// TestCheck: the default build carries every platform.
func TestCheck(t *testing.T) {
	for _, p := range []launch.Platform{launch.Lambda, launch.SCF, launch.Local} {
		if err := launch.Check(p); err != nil {
			t.Errorf("Check(%s) = %v, want nil in a build without platform tags", p, err)
		}
	}
}
