package eventfix_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/wemember/wemember/tests/eventfix"
)

func TestFill(t *testing.T) {
	tests := []struct {
		name, in string
		vars     map[string]string
		want     map[string]any
	}{
		{"string values", `{"h":{"authorization":"Bearer {{token}}"},"n":1.50}`, map[string]string{"token": "T1"},
			map[string]any{"h": map[string]any{"authorization": "Bearer T1"}, "n": 1.5}},
		{"defaults", `{"body":"{\"code\":\"{{code}}\"}"}`, nil, map[string]any{"body": `{"code":"FIXTURE_CODE"}`}},
		{"values needing JSON escapes stay valid", `{"a":"{{code}}"}`, map[string]string{"code": `x"y\z<`}, map[string]any{"a": `x"y\z<`}},
		{"arrays", `{"c":["{{openid}}"]}`, map[string]string{"openid": "o1"}, map[string]any{"c": []any{"o1"}}},
	}
	for _, tt := range tests {
		out, err := eventfix.Fill([]byte(tt.in), tt.vars)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s: output not JSON: %v", tt.name, err)
		}
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(tt.want)
		if string(gb) != string(wb) {
			t.Errorf("%s: got %s, want %s", tt.name, gb, wb)
		}
	}
}

func TestFillReencodesBase64Bodies(t *testing.T) {
	in := `{"isBase64Encoded":true,"body":"` + base64.StdEncoding.EncodeToString([]byte(`{"code":"{{code}}"}`)) + `"}`
	out, err := eventfix.Fill([]byte(in), map[string]string{"code": "REAL"})
	if err != nil {
		t.Fatal(err)
	}
	var ev struct{ Body string }
	if err := json.Unmarshal(out, &ev); err != nil {
		t.Fatal(err)
	}
	b, err := base64.StdEncoding.DecodeString(ev.Body)
	if err != nil || string(b) != `{"code":"REAL"}` {
		t.Errorf("body decodes to %q, %v; want {\"code\":\"REAL\"}", b, err)
	}
}

func TestFillRefusesUnknownPlaceholders(t *testing.T) {
	if _, err := eventfix.Fill([]byte(`{"a":"{{nosuch}}"}`), nil); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("err = %v, want one naming the placeholder", err)
	}
}

// TestEveryFixtureLoads fills every file in events/ with defaults and
// checks no placeholder is left.
func TestEveryFixtureLoads(t *testing.T) {
	dir, err := eventfix.Dir()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) < 14 {
		t.Fatalf("found %d fixtures (%v), want at least 14", len(files), err)
	}
	for _, f := range files {
		out, err := eventfix.Load(filepath.Base(f), nil)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if strings.Contains(string(out), "{{") {
			t.Errorf("%s: placeholder left: %s", f, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Errorf("events/README.md: %v", err)
	}
}

func TestSCFContext(t *testing.T) {
	ctx, err := eventfix.SCFContext(context.Background(), "cloudbase-call.json", map[string]string{"openid": "oX"})
	if err != nil {
		t.Fatal(err)
	}
	fc, ok := functioncontext.FromContext(ctx)
	if !ok || fc.Environment["WX_OPENID"] != "oX" || fc.Environment["WX_UNIONID"] != "uFIXTURE_UNIONID_0001" || fc.RequestID == "" {
		t.Errorf("function context = %+v, want openid oX, default unionid and a request id", fc)
	}
	if _, err := eventfix.SCFContext(context.Background(), "scf-timer.json", nil); err == nil {
		t.Error("context for a fixture without one: want an error")
	}
}
