package push_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/wxoa"
	"github.com/wemember/wemember/shared/wxwork"
	"github.com/wemember/wemember/tests/wxsim/push"
)

func TestSendRetries(t *testing.T) {
	tests := []struct {
		name      string
		answers   []int // Status per try; 0 = hang past the timeout.
		wantTries int
		wantOK    bool
	}{
		{"first try", []int{200}, 1, true},
		{"timeout then ok", []int{0, 200}, 2, true},
		{"500 then ok", []int{500, 200}, 2, true},
		{"three timeouts", []int{0, 0, 0}, 3, false},
		{"three errors", []int{503, 500, 400}, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.ReadAll(r.Body) // So the server notices the client hanging up.
				i := int(n.Add(1)) - 1
				if i >= len(tt.answers) {
					t.Errorf("try %d beyond the expected %d", i+1, len(tt.answers))
					return
				}
				if tt.answers[i] == 0 {
					select {
					case <-r.Context().Done():
					case <-time.After(2 * time.Second):
					}
					return
				}
				w.WriteHeader(tt.answers[i])
				io.WriteString(w, "success")
			}))
			defer srv.Close()
			p, err := push.DefaultOA().Build(srv.URL+"/oa-callback", push.OAScan("o", "1"))
			if err != nil {
				t.Fatal(err)
			}
			res := push.Sender{Timeout: 100 * time.Millisecond}.Send(context.Background(), p)
			if len(res.Attempts) != tt.wantTries || res.OK() != tt.wantOK {
				t.Errorf("tries = %d, ok = %v; want %d, %v (%+v)", len(res.Attempts), res.OK(), tt.wantTries, tt.wantOK, res)
			}
			if got := int(n.Load()); got != tt.wantTries {
				t.Errorf("server saw %d tries, want %d", got, tt.wantTries)
			}
		})
	}
}

// TestSendCopiesOverlap checks that copies are in flight at the same time.
func TestSendCopiesOverlap(t *testing.T) {
	var mu sync.Mutex
	inFlight, peak := 0, 0
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		if inFlight == 4 {
			close(release)
		}
		mu.Unlock()
		select {
		case <-release:
		case <-time.After(2 * time.Second):
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		io.WriteString(w, "success")
	}))
	defer srv.Close()
	p, err := push.DefaultOA().Build(srv.URL, push.OAScan("o", "1"))
	if err != nil {
		t.Fatal(err)
	}
	results := push.Sender{Timeout: 3 * time.Second}.SendCopies(context.Background(), p, 4)
	for i, r := range results {
		if !r.OK() || len(r.Attempts) != 1 {
			t.Errorf("copy %d: %+v", i, r)
		}
	}
	if peak != 4 {
		t.Errorf("peak in flight = %d, want 4", peak)
	}
}

// TestOverHTTP sends real HTTP pushes to handlers built on the edges and
// checks WeChat can open what they answer.
func TestOverHTTP(t *testing.T) {
	oaEdge, err := wxoa.New(wxoa.Config{Token: push.DefaultOAToken, EncodingAESKey: push.DefaultOAAESKey, AppID: push.DefaultOAAppID})
	if err != nil {
		t.Fatal(err)
	}
	wcEdge, err := wxwork.New(wxwork.Config{Token: push.DefaultWeComToken, EncodingAESKey: push.DefaultWeComAESKey, CorpID: push.DefaultWeComCorpID})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/oa-callback", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method == http.MethodGet {
			echo, err := oaEdge.VerifyURL(r.URL.Query())
			if err != nil {
				http.Error(w, "refused", http.StatusUnauthorized)
				return
			}
			io.WriteString(w, echo)
			return
		}
		m, err := oaEdge.Parse(r.URL.Query(), body)
		if err != nil {
			http.Error(w, "refused", http.StatusUnauthorized)
			return
		}
		reply, _ := oaEdge.ReplyText(m, "scene "+m.EventKey)
		w.Write(reply)
	})
	mux.HandleFunc("/wecom-callback", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			echo, err := wcEdge.VerifyURL(r.URL.Query())
			if err != nil {
				http.Error(w, "refused", http.StatusUnauthorized)
				return
			}
			w.Write(echo)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if _, err := wcEdge.Parse(r.URL.Query(), body); err != nil {
			http.Error(w, "refused", http.StatusUnauthorized)
			return
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx := context.Background()
	s := push.Sender{Timeout: 2 * time.Second}

	oa := push.DefaultOA()
	p, _ := oa.Build(srv.URL+"/oa-callback", push.OAScan("o-alice", "123"))
	res := s.Send(ctx, p)
	if !res.OK() {
		t.Fatalf("OA push: %+v", res)
	}
	plain, err := oa.OpenReply(res.Last().Body)
	if err != nil || !strings.Contains(string(plain), "scene 123") {
		t.Errorf("OA reply = %q, %v", plain, err)
	}
	v, _ := oa.VerifyURL(srv.URL+"/oa-callback", "8213")
	if res := s.Send(ctx, v); !res.OK() || string(res.Last().Body) != "8213" {
		t.Errorf("OA verify: %+v", res)
	}

	wc := push.DefaultWeCom()
	echo := []byte("5927547029301+/=&?")
	gv, _ := wc.VerifyURL(srv.URL+"/wecom-callback", echo)
	if res := s.Send(ctx, gv); !res.OK() || string(res.Last().Body) != string(echo) {
		t.Errorf("WeCom verify: %+v", res)
	}
	wp, _ := wc.Build(srv.URL+"/wecom-callback", push.WeComAdd("zhangsan", "wmE", "inv:1"))
	if res := s.Send(ctx, wp); !res.OK() {
		t.Errorf("WeCom push: %+v", res)
	}
	bad := wp.WithQuery("msg_signature", "0000000000000000000000000000000000000000")
	if res := (push.Sender{Timeout: time.Second, Tries: 2}).Send(ctx, bad); res.OK() || len(res.Attempts) != 2 || res.Last().Status != http.StatusUnauthorized {
		t.Errorf("forged WeCom push: %+v", res)
	}
}
