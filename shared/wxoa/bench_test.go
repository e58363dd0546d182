package wxoa_test

import (
	"testing"

	"github.com/wemember/wemember/tests/wxsim/push"
)

// BenchmarkOAParseSafe measures verify + decrypt + parse of a safe-mode SCAN push.
func BenchmarkOAParseSafe(b *testing.B) {
	s := newServer(b)
	p := build(b, sim(push.Safe), push.OAScan("o-alice", "123"))
	q := p.Query()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Parse(q, p.Body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOAParsePlain measures verify + parse of a plain-mode SCAN push.
func BenchmarkOAParsePlain(b *testing.B) {
	s := newServer(b)
	p := build(b, sim(push.Plain), push.OAScan("o-alice", "123"))
	q := p.Query()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Parse(q, p.Body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOAReplyTextSafe measures building and sealing a passive text reply.
func BenchmarkOAReplyTextSafe(b *testing.B) {
	s := newServer(b)
	p := build(b, sim(push.Safe), push.OAText("o-alice", "会员", 1))
	m, err := s.Parse(p.Query(), p.Body)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.ReplyText(m, "欢迎加入会员"); err != nil {
			b.Fatal(err)
		}
	}
}
