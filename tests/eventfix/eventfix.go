// Package eventfix loads the golden platform events in the module's events/
// folder for tests and local invocation, filling in their {{placeholders}}.
//
// Placeholders ({{code}}, {{token}}, {{openid}}, {{unionid}}) may appear in
// any JSON string of a fixture. A fixture whose top-level isBase64Encoded is
// true has its body decoded, filled in and re-encoded, so tests never encode
// by hand. A placeholder with no value in vars takes its value from
// Defaults; one with no default is an error, so a typo cannot pass silently.
package eventfix

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/tencentyun/scf-go-lib/functioncontext"
)

// placeholder matches {{name}}.
var placeholder = regexp.MustCompile(`\{\{([A-Za-z0-9_]+)\}\}`)

// Defaults are the values placeholders take when a test gives none.
func Defaults() map[string]string {
	return map[string]string{
		"code":    "FIXTURE_CODE",
		"token":   "FIXTURE_TOKEN",
		"openid":  "oFIXTURE_OPENID_0001",
		"unionid": "uFIXTURE_UNIONID_0001",
	}
}

// Dir is the events folder: <module root>/events, the module root being the
// nearest directory holding go.mod above the working directory.
func Dir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("eventfix.Dir: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "events"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("eventfix.Dir: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Load reads events/<name> (e.g. "lambda-http-v2.json") and fills in its
// placeholders from vars, then Defaults.
func Load(name string, vars map[string]string) ([]byte, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(dir, filepath.Base(name)))
	if err != nil {
		return nil, fmt.Errorf("eventfix.Load: %w", err)
	}
	out, err := Fill(raw, vars)
	if err != nil {
		return nil, fmt.Errorf("eventfix.Load %s: %w", name, err)
	}
	return out, nil
}

// Fill fills in the placeholders of a JSON event (see the package comment).
func Fill(raw []byte, vars map[string]string) ([]byte, error) {
	values := Defaults()
	for k, v := range vars {
		values[k] = v
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("fill: %w", err)
	}
	if obj, ok := doc.(map[string]any); ok && obj["isBase64Encoded"] == true {
		if body, ok := obj["body"].(string); ok {
			plain, err := base64.StdEncoding.DecodeString(body)
			if err != nil {
				return nil, fmt.Errorf("fill: base64 body: %w", err)
			}
			filled, err := substitute(string(plain), values)
			if err != nil {
				return nil, err
			}
			obj["body"] = base64.StdEncoding.EncodeToString([]byte(filled))
		}
	}
	doc, err := walk(doc, values)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("fill: %w", err)
	}
	return buf.Bytes(), nil
}

// walk substitutes placeholders in every string of a decoded JSON value.
func walk(v any, values map[string]string) (any, error) {
	switch t := v.(type) {
	case string:
		return substitute(t, values)
	case map[string]any:
		for k, x := range t {
			y, err := walk(x, values)
			if err != nil {
				return nil, err
			}
			t[k] = y
		}
	case []any:
		for i, x := range t {
			y, err := walk(x, values)
			if err != nil {
				return nil, err
			}
			t[i] = y
		}
	}
	return v, nil
}

// substitute fills the placeholders of one string.
func substitute(s string, values map[string]string) (string, error) {
	var missing []string
	out := placeholder.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-2]
		v, ok := values[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("fill: no value for placeholder(s) %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// contextFile is the shape of a <name>.context.json file: what the SCF
// runtime puts in an invocation's function context.
type contextFile struct {
	RequestID   string            `json:"requestId"`
	Environment map[string]string `json:"environment"`
}

// SCFContext is parent carrying the SCF function context that goes with
// the fixture name ("cloudbase-call.json" → "cloudbase-call.context.json"),
// placeholders filled in as by Load. It is how the CloudBase runtime hands
// an invocation the caller's identity.
func SCFContext(parent context.Context, name string, vars map[string]string) (context.Context, error) {
	ctxName := strings.TrimSuffix(filepath.Base(name), ".json") + ".context.json"
	raw, err := Load(ctxName, vars)
	if err != nil {
		return nil, fmt.Errorf("eventfix.SCFContext: %w", err)
	}
	var cf contextFile
	if err := json.Unmarshal(raw, &cf); err != nil {
		return nil, fmt.Errorf("eventfix.SCFContext %s: %w", ctxName, err)
	}
	return functioncontext.NewContext(parent, &functioncontext.FunctionContext{
		RequestID:   cf.RequestID,
		Environment: cf.Environment,
	}), nil
}
