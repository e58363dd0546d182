package codes

import (
	"fmt"
	"io"
	"math/big"

	"github.com/wemember/wemember/shared/errs"
)

// MaxBatch is the most codes one Generate call makes: an operator's batch
// of a hundred thousand codes is a few megabytes of text.
const MaxBatch = 100_000

// Generate returns n distinct codes of format f, each random character
// drawn from r without bias (rejection sampling), r being crypto/rand.Reader
// in production. The work is bounded: asking for more than MaxBatch codes,
// or for more than half of what the format can make (past that, drawing
// distinct codes could take ever longer), fails with errs.Invalid before
// reading anything; a source that fails or keeps repeating itself fails
// with errs.Internal. Codes are distinct within the batch only: whoever
// stores them still writes each one if absent.
func Generate(r io.Reader, f Format, n int) ([]string, error) {
	const op = "codes.Generate"
	if err := f.Validate(); err != nil {
		return nil, errs.E(op, err)
	}
	if n < 1 || n > MaxBatch {
		return nil, errs.E(op, errs.Invalid, fmt.Sprintf("a batch must ask for 1 to %d codes", MaxBatch))
	}
	half := new(big.Int).Rsh(f.Capacity(), 1)
	if half.Cmp(big.NewInt(int64(n))) < 0 {
		return nil, errs.E(op, errs.Invalid, fmt.Sprintf(
			"the code format can make %s distinct codes and a batch may take at most half of them (%s); make the codes longer or the charset larger",
			f.Capacity(), half))
	}
	src := source{r: r, charset: f.charset()}
	src.limit = 256 - 256%len(src.charset)
	body := f.body()
	code := make([]byte, 0, f.size())
	seen := make(map[string]struct{}, n)
	out := make([]string, 0, n)
	// Every draw is new with probability at least 1/2, so 3n+64 draws
	// suffice unless the source is broken.
	for draw := 0; len(out) < n; draw++ {
		if draw == 3*n+64 {
			return nil, errs.E(op, errs.Internal, "the random source keeps repeating itself")
		}
		code = append(code[:0], f.Prefix...)
		for i := 0; i < len(body); i++ {
			c := body[i]
			if c == '#' {
				var err error
				if c, err = src.char(); err != nil {
					return nil, errs.E(op, errs.Internal, err)
				}
			}
			code = append(code, c)
		}
		code = append(code, f.Postfix...)
		if _, dup := seen[string(code)]; dup {
			continue
		}
		s := string(code)
		seen[s] = struct{}{}
		out = append(out, s)
	}
	return out, nil
}

// source draws charset characters from a random reader a buffer at a time.
type source struct {
	r        io.Reader
	charset  string
	limit    int // Bytes at or over limit are rejected, so that every character is as likely.
	buf      [256]byte
	pos, end int
}

// char draws one character. A byte is rejected with probability under 1/4
// (the charset has at most 64 characters), so 64 rejections in a row mean
// a broken source.
func (s *source) char() (byte, error) {
	for range 64 {
		b, err := s.byte()
		if err != nil {
			return 0, err
		}
		if int(b) < s.limit {
			return s.charset[int(b)%len(s.charset)], nil
		}
	}
	return 0, fmt.Errorf("random source: 64 bytes in a row out of range")
}

// byte is the next random byte, refilling the buffer when it is used up.
func (s *source) byte() (byte, error) {
	for empty := 0; s.pos == s.end; empty++ {
		if empty == 100 {
			return 0, io.ErrNoProgress
		}
		n, err := s.r.Read(s.buf[:])
		s.pos, s.end = 0, n
		if n == 0 && err != nil {
			return 0, fmt.Errorf("random source: %w", err)
		}
	}
	s.pos++
	return s.buf[s.pos-1], nil
}
