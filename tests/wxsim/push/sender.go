package push

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// WeChat's delivery behaviour: an answer within 5 s, 3 tries in all.
const (
	DefaultTimeout = 5 * time.Second
	DefaultTries   = 3
	maxReplyBody   = 1 << 20
)

// Sender delivers pushes as WeChat does: each try waits at most Timeout for
// the answer, a try that times out, fails or gets a non-2xx status is
// retried at once with the very same request, up to Tries tries.
type Sender struct {
	Client  *http.Client  // http.DefaultClient if nil.
	Timeout time.Duration // Per try; DefaultTimeout if zero.
	Tries   int           // DefaultTries if zero.
}

// Attempt is one try.
type Attempt struct {
	Status int           // 0 if no answer.
	Body   []byte        // The answer's body, up to 1 MiB.
	Err    error         // Transport error or timeout.
	Took   time.Duration // From sending to the answer or the error.
}

// Result is one delivery: its tries, in order.
type Result struct {
	Attempts []Attempt
}

// OK reports whether the last try got a 2xx answer.
func (r Result) OK() bool {
	a := r.Last()
	return a.Err == nil && a.Status >= 200 && a.Status < 300
}

// Last is the final try (zero if none was made).
func (r Result) Last() Attempt {
	if len(r.Attempts) == 0 {
		return Attempt{}
	}
	return r.Attempts[len(r.Attempts)-1]
}

func (s Sender) client() *http.Client {
	if s.Client == nil {
		return http.DefaultClient
	}
	return s.Client
}

// Send delivers p with retries and returns every try. It stops early when
// ctx is done.
func (s Sender) Send(ctx context.Context, p *Push) Result {
	tries, timeout := s.Tries, s.Timeout
	if tries <= 0 {
		tries = DefaultTries
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	var res Result
	for i := 0; i < tries && ctx.Err() == nil; i++ {
		a := s.try(ctx, p, timeout)
		res.Attempts = append(res.Attempts, a)
		if a.Err == nil && a.Status >= 200 && a.Status < 300 {
			break
		}
	}
	return res
}

func (s Sender) try(ctx context.Context, p *Push, timeout time.Duration) Attempt {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	req, err := p.Request(ctx)
	if err != nil {
		return Attempt{Err: err}
	}
	resp, err := s.client().Do(req)
	if err != nil {
		return Attempt{Err: fmt.Errorf("push: send: %w", err), Took: time.Since(start)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBody))
	a := Attempt{Status: resp.StatusCode, Body: body, Took: time.Since(start)}
	if err != nil {
		a.Err = fmt.Errorf("push: read answer: %w", err)
	}
	return a
}

// SendCopies delivers n copies of p at once, as WeChat sometimes does, each
// with its own retries, released together so they overlap; results are in
// copy order.
func (s Sender) SendCopies(ctx context.Context, p *Push, n int) []Result {
	out := make([]Result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = s.Send(ctx, p)
		}()
	}
	close(start)
	wg.Wait()
	return out
}
