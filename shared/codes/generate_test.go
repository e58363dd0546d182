package codes_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"math"
	mrand "math/rand/v2"
	"strings"
	"testing"

	"github.com/wemember/wemember/shared/codes"
	"github.com/wemember/wemember/shared/errs"
)

// seeded is a deterministic random source for a test.
func seeded(seed byte) io.Reader { return mrand.NewChaCha8([32]byte{seed}) }

// matches reports whether code is one that f can make: the prefix, the
// postfix, and between them the body with a charset character at every
// '#' and the literal everywhere else.
func matches(f codes.Format, code string) bool {
	cs, body := f.Charset, f.Pattern
	if cs == "" {
		cs = codes.DefaultCharset
	}
	if body == "" {
		body = strings.Repeat("#", f.Length)
	}
	rest, ok := strings.CutPrefix(code, f.Prefix)
	if !ok {
		return false
	}
	if rest, ok = strings.CutSuffix(rest, f.Postfix); !ok || len(rest) != len(body) {
		return false
	}
	for i := range len(body) {
		if body[i] == '#' && strings.IndexByte(cs, rest[i]) < 0 || body[i] != '#' && body[i] != rest[i] {
			return false
		}
	}
	return true
}

func TestGenerateMatchesFormat(t *testing.T) {
	formats := []codes.Format{
		{Length: 8},
		{Length: 20, Charset: "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"},
		{Length: 12, Charset: "0123456789"},
		{Length: 10, Prefix: "WECOM-", Charset: "0123456789ABCDEF"},
		{Pattern: "###-###-##", Prefix: "VIP_", Postfix: "-Z", Charset: "XYZ"},
		{Pattern: "A#B#C#D#E#F#G#H#I#J#", Charset: "01"},
		{Length: 64, Charset: "-_"},
	}
	for i, f := range formats {
		got, err := codes.Generate(seeded(byte(i)), f, 500)
		if err != nil {
			t.Fatalf("Generate(%+v, 500): %v", f, err)
		}
		if len(got) != 500 {
			t.Fatalf("Generate(%+v, 500) made %d codes", f, len(got))
		}
		seen := map[string]bool{}
		for _, c := range got {
			if !matches(f, c) {
				t.Errorf("Generate(%+v) made %q, which the format does not make", f, c)
			}
			if seen[c] {
				t.Errorf("Generate(%+v) made %q twice", f, c)
			}
			seen[c] = true
			if n, ok := codes.Normalize(c); !ok || n != c {
				t.Errorf("Normalize(%q) = %q, %v; a generated code must be its own normal form", c, n, ok)
			}
		}
	}
}

func TestGenerateIsRandom(t *testing.T) {
	a, err := codes.Generate(rand.Reader, codes.Format{Length: 8}, 2)
	if err != nil {
		t.Fatal(err)
	}
	b, err := codes.Generate(rand.Reader, codes.Format{Length: 8}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if a[0] == b[0] || a[0] == a[1] {
		t.Errorf("two calls on crypto/rand made %q and %q", a, b)
	}
	c, _ := codes.Generate(seeded(7), codes.Format{Length: 8}, 3)
	d, _ := codes.Generate(seeded(7), codes.Format{Length: 8}, 3)
	if strings.Join(c, ",") != strings.Join(d, ",") {
		t.Errorf("the same seed made %q and %q; the source is not the only randomness", c, d)
	}
}

// TestGenerateCapacity checks that a batch may take half of what a format
// can make, and that one more is refused at once, saying why.
func TestGenerateCapacity(t *testing.T) {
	small := codes.Format{Length: 4, Charset: "AB"} // 16 codes.
	got, err := codes.Generate(seeded(1), small, 8)
	if err != nil || len(got) != 8 {
		t.Fatalf("Generate(16-code format, 8) = %d codes, %v; want 8", len(got), err)
	}
	tests := []struct {
		name string
		f    codes.Format
		n    int
		want string
	}{
		{"over half", small, 9, "can make 16 distinct codes"},
		{"all", small, 16, "at most half of them (8)"},
		{"more than all", codes.Format{Pattern: "####", Charset: "0123456789"}, 6000, "can make 10000"},
		{"zero", codes.Format{Length: 8}, 0, "1 to 100000"},
		{"negative", codes.Format{Length: 8}, -1, "1 to 100000"},
		{"over the batch", codes.Format{Length: 20}, codes.MaxBatch + 1, "1 to 100000"},
		{"bad format", codes.Format{Length: 2}, 1, "length must be"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &countingReader{r: seeded(2)}
			got, err := codes.Generate(r, tc.f, tc.n)
			if !errs.Is(errs.Invalid, err) || !strings.Contains(errs.SafeMessage(err), tc.want) {
				t.Fatalf("Generate(%+v, %d) = %d codes, %v; want errs.Invalid saying %q", tc.f, tc.n, len(got), err, tc.want)
			}
			if r.n > 0 {
				t.Errorf("Generate read %d random bytes before refusing", r.n)
			}
		})
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// stuck is a reader that always yields the same byte.
type stuck byte

func (s stuck) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(s)
	}
	return len(p), nil
}

// idle is a reader that reads nothing and reports no error.
type idle struct{}

func (idle) Read([]byte) (int, error) { return 0, nil }

// TestGenerateBrokenSource checks that a source that fails, dries up or
// repeats itself ends Generate with errs.Internal instead of a loop.
func TestGenerateBrokenSource(t *testing.T) {
	tests := []struct {
		name string
		r    io.Reader
		f    codes.Format
	}{
		{"repeats", stuck(0), codes.Format{Length: 8}},
		{"out of range", stuck(255), codes.Format{Length: 8, Charset: "ABC"}},
		{"fails", iotestErr{}, codes.Format{Length: 8}},
		{"dries up", bytes.NewReader(make([]byte, 10)), codes.Format{Length: 8}},
		{"idle", idle{}, codes.Format{Length: 8}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := codes.Generate(tc.r, tc.f, 3)
			if !errs.Is(errs.Internal, err) {
				t.Errorf("Generate = %q, %v; want errs.Internal", got, err)
			}
		})
	}
}

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errors.New("entropy pool on fire") }

// TestGenerateRejectsOutOfRange checks the rejection sampling byte by byte:
// with a charset of 3, the byte 255 would favour the first character and is
// skipped; 254 is 254 mod 3 = 2.
func TestGenerateRejectsOutOfRange(t *testing.T) {
	r := bytes.NewReader([]byte{255, 254, 0, 255, 255, 4, 3, 255})
	got, err := codes.Generate(r, codes.Format{Length: 4, Charset: "ABC"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != "CABA" {
		t.Errorf("Generate = %q, want CABA", got[0])
	}
}

// TestGenerateUnbiased draws 600,000 characters from a charset of 3, where
// plain modulo would favour the first by 1/85 (6 standard deviations), and
// from one of 32, and wants every character within 4 standard deviations of
// its share.
func TestGenerateUnbiased(t *testing.T) {
	for _, cs := range []string{"ABC", codes.DefaultCharset} {
		got, err := codes.Generate(seeded(3), codes.Format{Length: 60, Charset: cs}, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		count := map[rune]int{}
		for _, c := range got {
			for _, r := range c {
				count[r]++
			}
		}
		p := 1 / float64(len(cs))
		want, sd := 600_000*p, math.Sqrt(600_000*p*(1-p))
		for _, r := range cs {
			if d := math.Abs(float64(count[r]) - want); d > 4*sd {
				t.Errorf("charset %q: %q drawn %d times, want %.0f ± %.0f", cs, r, count[r], want, 4*sd)
			}
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	for _, bc := range []struct {
		name string
		f    codes.Format
		n    int
	}{
		{"default8x1", codes.Format{Length: 8}, 1},
		{"mixed20x1", codes.Format{Length: 20, Charset: "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"}, 1},
		{"digits10x1000", codes.Format{Length: 10, Charset: "0123456789"}, 1000},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := codes.Generate(rand.Reader, bc.f, bc.n); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*bc.n)/b.Elapsed().Seconds(), "codes/s")
		})
	}
}
