// Package push plays WeChat's side of the Official Account and WeCom
// callbacks: builders that turn an event into the signed (and, in safe mode,
// encrypted) HTTP request the real platform sends, and a Sender with the
// platform's retry behaviour. Its crypto is silenceper's, independent of the
// edges under test (shared/wxoa, shared/wxwork), so a round trip checks one
// implementation against the other.
package push

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The defaults the local runner configures the functions with.
const (
	DefaultOAToken      = "wemember-oa-token"
	DefaultOAAppID      = "wxoa0000000000000001"
	DefaultOAAESKey     = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	DefaultOAOriginalID = "gh_wemember00001"

	DefaultWeComToken   = "wemember-wecom-token"
	DefaultWeComCorpID  = "ww00000000000000001"
	DefaultWeComAESKey  = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
	DefaultWeComAgentID = "1000002"
)

// Mode is the Official Account's message encryption mode (消息加解密方式).
type Mode int

// The three modes.
const (
	Safe   Mode = iota // 安全模式: the body holds only ciphertext.
	Compat             // 兼容模式: the body holds the plain fields and the ciphertext.
	Plain              // 明文模式: the body is the plain XML.
)

// ParseMode reads "safe", "compat" or "plain".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "safe", "aes":
		return Safe, nil
	case "compat":
		return Compat, nil
	case "plain", "raw":
		return Plain, nil
	}
	return 0, fmt.Errorf("push: unknown mode %q (safe, compat, plain)", s)
}

// String names the mode.
func (m Mode) String() string {
	switch m {
	case Safe:
		return "safe"
	case Compat:
		return "compat"
	case Plain:
		return "plain"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// Push is one callback request as WeChat sends it. Send it over HTTP with
// Request, or hand Query and Body straight to an edge's Parse.
type Push struct {
	Method string
	URL    *url.URL // The target with the signature query parameters.
	Body   []byte   // Empty for GET.
}

// Query is the push's query parameters (a copy).
func (p *Push) Query() url.Values { return p.URL.Query() }

// WithQuery returns a copy of p with query parameter k set to v (deleted if
// v is empty): for tests that tamper with a signature or a timestamp.
func (p *Push) WithQuery(k, v string) *Push {
	u := *p.URL
	q := u.Query()
	if v == "" {
		q.Del(k)
	} else {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return &Push{Method: p.Method, URL: &u, Body: bytes.Clone(p.Body)}
}

// Request builds the HTTP request; the body is XML, as WeChat posts it.
func (p *Push) Request(ctx context.Context) (*http.Request, error) {
	var body io.Reader
	if len(p.Body) > 0 {
		body = bytes.NewReader(p.Body)
	}
	req, err := http.NewRequestWithContext(ctx, p.Method, p.URL.String(), body)
	if err != nil {
		return nil, fmt.Errorf("push: build request: %w", err)
	}
	if len(p.Body) > 0 {
		req.Header.Set("Content-Type", "text/xml")
	}
	req.Header.Set("User-Agent", "Mozilla/4.0")
	return req, nil
}

// withQuery parses the callback URL and sets query parameters on it.
func withQuery(raw string, q url.Values) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("push: target url: %w", err)
	}
	all := u.Query()
	for k, v := range q {
		all[k] = v
	}
	u.RawQuery = all.Encode()
	return u, nil
}

// clock and entropy are the injected time and randomness with their defaults.
func clock(now func() time.Time) time.Time {
	if now == nil {
		return time.Now()
	}
	return now()
}

func entropy(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	return r
}

// nonce draws a numeric nonce, as WeChat's are.
func nonce(r io.Reader) (string, error) {
	var b [4]byte
	if _, err := io.ReadFull(entropy(r), b[:]); err != nil {
		return "", fmt.Errorf("push: nonce: %w", err)
	}
	return strconv.FormatUint(uint64(binary.BigEndian.Uint32(b[:])), 10), nil
}

// random16 draws the 16 random bytes that start every ciphertext.
func random16(r io.Reader) ([]byte, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(entropy(r), b); err != nil {
		return nil, fmt.Errorf("push: random: %w", err)
	}
	return b, nil
}

// cdata marshals as a CDATA section, as WeChat writes its string fields.
type cdata struct {
	Text string `xml:",cdata"`
}

// cd wraps s for marshalling; an empty string leaves the element out.
func cd(s string) *cdata {
	if s == "" {
		return nil
	}
	return &cdata{s}
}

// encryptedReply is the envelope of an encrypted passive reply.
type encryptedReply struct {
	XMLName      xml.Name `xml:"xml"`
	Encrypt      string   `xml:"Encrypt"`
	MsgSignature string   `xml:"MsgSignature"`
	TimeStamp    string   `xml:"TimeStamp"`
	Nonce        string   `xml:"Nonce"`
}
