// Package codes says how invite codes look: formats as data, crypto-random
// generation and the parsing of what people type or paste.
//
// This file is a placeholder of the package's contract; the codes branch
// replaces it.
package codes

import (
	"crypto/rand"
	"io"
	"strings"

	"github.com/wemember/wemember/shared/errs"
)

// Format is how a code looks.
type Format struct {
	Length  int    `json:"length,omitempty"`
	Charset string `json:"charset,omitempty"`
	Prefix  string `json:"prefix,omitempty"`
	Postfix string `json:"postfix,omitempty"`
	Pattern string `json:"pattern,omitempty"`
}

// DefaultCharset has no look-alikes.
const DefaultCharset = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// Validate reports a format that cannot make codes.
func (f Format) Validate() error {
	if f.Pattern == "" && (f.Length < 4 || f.Length > 64) {
		return errs.E("codes.Validate", errs.Invalid, "length must be 4..64")
	}
	return nil
}

// Generate makes n distinct codes.
func Generate(r io.Reader, f Format, n int) ([]string, error) {
	if r == nil {
		r = rand.Reader
	}
	cs := f.Charset
	if cs == "" {
		cs = DefaultCharset
	}
	out := make([]string, 0, n)
	seen := map[string]bool{}
	for len(out) < n {
		b := make([]byte, f.Length)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, errs.E("codes.Generate", errs.Internal, err)
		}
		for i := range b {
			b[i] = cs[int(b[i])%len(cs)]
		}
		c := f.Prefix + string(b) + f.Postfix
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out, nil
}

// Normalize turns typed input into a code's canonical text.
func Normalize(input string) (string, bool) {
	s := strings.TrimSpace(input)
	return s, s != "" && len(s) <= 64
}
