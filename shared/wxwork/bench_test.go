package wxwork_test

import (
	"testing"

	"github.com/wemember/wemember/tests/wxsim/push"
)

// BenchmarkWeComParse measures verify + decrypt + parse of an add_external_contact callback.
func BenchmarkWeComParse(b *testing.B) {
	s := newServer(b)
	p := build(b, sim(), push.WeComAdd("zhangsan", "wmEXT1", "inv:K7Q2"))
	q := p.Query()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Parse(q, p.Body); err != nil {
			b.Fatal(err)
		}
	}
}
