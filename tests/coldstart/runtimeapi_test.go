package main

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRuntimeAPI speaks the Runtime API as aws-lambda-go's client does: the
// first next delivers the event with its headers, the answer is accepted
// with 202, a second next waits, unknown ids are refused.
func TestRuntimeAPI(t *testing.T) {
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	api, err := newRuntimeAPI([]byte(`{"hello":1}`), "req-1", 3*time.Second, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	base := "http://" + api.Addr() + "/2018-06-01/runtime/invocation/"

	res, err := http.Get(base + "next")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	wantDeadline := strconv.FormatInt(now.Add(3*time.Second).UnixMilli(), 10)
	if res.StatusCode != 200 || string(body) != `{"hello":1}` || res.Header.Get(headerID) != "req-1" || res.Header.Get(headerDeadline) != wantDeadline {
		t.Fatalf("next = %d %s id=%q deadline=%q; want 200 the event, req-1, %s", res.StatusCode, body, res.Header.Get(headerID), res.Header.Get(headerDeadline), wantDeadline)
	}
	if got := api.NextAt(); !got.Equal(now) {
		t.Fatalf("NextAt = %v, want %v", got, now)
	}

	for _, tt := range []struct {
		path string
		want int
	}{
		{"other-id/response", http.StatusBadRequest},
		{"req-1/response", http.StatusAccepted},
		{"req-1/error", http.StatusAccepted}, // Accepted, but only the first outcome counts.
	} {
		res, err := http.Post(base+tt.path, "application/json", strings.NewReader(`{"statusCode":204}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tt.want {
			t.Fatalf("POST %s = %d, want %d", tt.path, res.StatusCode, tt.want)
		}
	}
	select {
	case o := <-api.Answered():
		if o.Kind != "response" || answerOf(o) != "204" {
			t.Fatalf("outcome %s %q, want response 204", o.Kind, answerOf(o))
		}
	default:
		t.Fatal("no outcome recorded")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"next", nil)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("second next answered %d; want it held until the function is killed", res.StatusCode)
	}
}

func TestAnswerOf(t *testing.T) {
	tests := []struct {
		o    outcome
		want string
	}{
		{outcome{Kind: "response", Body: []byte(`{"statusCode":401,"body":"x"}`)}, "401"},
		{outcome{Kind: "response", Body: []byte(`{"processed":3}`)}, "ok"},
		{outcome{Kind: "error", Body: []byte(`{"errorMessage":"m","errorType":"Error"}`)}, "error Error"},
		{outcome{Kind: "init-error", Body: []byte(`{}`)}, "init-error"},
	}
	for _, tt := range tests {
		if got := answerOf(tt.o); got != tt.want {
			t.Errorf("answerOf(%s %s) = %q, want %q", tt.o.Kind, tt.o.Body, got, tt.want)
		}
	}
}

func TestMedian(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		in            []time.Duration
		wantMin, want time.Duration
	}{
		{nil, 0, 0},
		{[]time.Duration{5 * ms}, 5 * ms, 5 * ms},
		{[]time.Duration{9 * ms, 1 * ms, 5 * ms}, 1 * ms, 5 * ms},
		{[]time.Duration{4 * ms, 2 * ms, 8 * ms, 6 * ms}, 2 * ms, 5 * ms},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
		if got := minOf(tt.in); got != tt.wantMin {
			t.Errorf("minOf(%v) = %v, want %v", tt.in, got, tt.wantMin)
		}
	}
}
