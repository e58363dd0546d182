package member_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/store/storetest"
)

// TestAdmitWritesNothing: Admit only reads; its mutations, written, are the
// arrival (a new member with its identities, welcomed when asked), and a
// returning member with nothing worth a write reads its identities and
// profile and writes nothing.
func TestAdmitWritesNothing(t *testing.T) {
	b, err := bolt.Open(t.TempDir() + "/m.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	st := &storetest.Faults{Store: b}
	box, _ := pii.New([]byte(strings.Repeat("k", 32)))
	svc := member.NewService(st, box, time.Now, member.NewID)
	ctx := context.Background()
	if _, err := svc.Rules(ctx); err != nil { // Cached after.
		t.Fatal(err)
	}
	a := member.Arrival{Identities: []member.Identity{unionid("u1"), openid("mp", "o1")}, Welcome: true}
	before := st.Counts()
	adm, err := svc.Admit(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Since(before), (storetest.Counts{Gets: 2}); got != want {
		t.Errorf("Admit of a new person asked the store %+v; want %+v", got, want)
	}
	if !adm.Created || !adm.Welcomes || !adm.Member.Welcomed || len(adm.Mutations) != 4 {
		t.Fatalf("admission = %+v; want a new, welcomed member in 4 mutations", adm)
	}
	if err := st.Write(ctx, adm.Mutations...); err != nil {
		t.Fatal(err)
	}
	if m, err := svc.Resolve(ctx, openid("mp", "o1")); err != nil || m.ID != adm.Member.ID || !m.Welcomed {
		t.Errorf("Resolve = %+v, %v; want the admitted member, welcomed", m, err)
	}
	before = st.Counts()
	res, err := svc.Arrive(ctx, a)
	if err != nil || res.Member.ID != adm.Member.ID || res.Welcomes {
		t.Fatalf("returning arrival = %+v, %v; want the member, welcomed before", res, err)
	}
	if got, want := st.Since(before), (storetest.Counts{Gets: 3}); got != want {
		t.Errorf("a returning arrival asked the store %+v; want %+v", got, want)
	}
}
