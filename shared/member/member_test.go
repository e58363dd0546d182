package member_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/pii"
	"github.com/wemember/wemember/shared/store"
)

func newService(t *testing.T) (*member.Service, store.Store) {
	t.Helper()
	s, err := bolt.Open(t.TempDir() + "/m.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	box, _ := pii.New([]byte(strings.Repeat("k", 32)))
	return member.NewService(s, box, time.Now, member.NewID), s
}

func openid(app, v string) member.Identity {
	return member.Identity{Kind: member.OpenID, Scope: app, Value: v}
}

func unionid(v string) member.Identity { return member.Identity{Kind: member.UnionID, Value: v} }

func TestArriveRegistersOnceConcurrently(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	const n = 20
	var wg sync.WaitGroup
	results := make([]member.Result, n)
	errors := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errors[i] = svc.Arrive(ctx, member.Arrival{
				Identities: []member.Identity{unionid("u1"), openid("mp", "o1")},
				Channel:    member.Channel{Kind: "mini-program"},
			})
		}()
	}
	wg.Wait()
	created := 0
	for i := range n {
		if errors[i] != nil {
			t.Fatalf("arrival %d: %v", i, errors[i])
		}
		if results[i].Created {
			created++
		}
		if results[i].Member.ID != results[0].Member.ID {
			t.Fatalf("arrival %d got member %s, arrival 0 got %s", i, results[i].Member.ID, results[0].Member.ID)
		}
	}
	if created != 1 {
		t.Fatalf("created %d members, want 1", created)
	}
}

func TestArriveLinksAcrossApps(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	first, err := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{unionid("u1"), openid("mp", "o1")}})
	if err != nil {
		t.Fatal(err)
	}
	// The same person follows the Official Account: a new openid, same unionid.
	second, err := svc.Arrive(ctx, member.Arrival{Identities: []member.Identity{unionid("u1"), openid("oa", "o2")}, Phone: pii.Phone{Country: "86", Number: "13800138000"}})
	if err != nil {
		t.Fatal(err)
	}
	if second.Created || second.Member.ID != first.Member.ID {
		t.Fatalf("second arrival = %+v; want the existing member %s", second, first.Member.ID)
	}
	byOA, err := svc.Resolve(ctx, openid("oa", "o2"))
	if err != nil || byOA.ID != first.Member.ID {
		t.Fatalf("Resolve(oa openid) = %v, %v; want %s", byOA.ID, err, first.Member.ID)
	}
	if got, want := byOA.PhoneMask, "138****8000"; got != want {
		t.Fatalf("phone mask = %q, want %q", got, want)
	}
	if strings.Contains(fmt.Sprintf("%+v", byOA), "13800138000") {
		t.Fatal("member record holds the plain phone number")
	}
}

func TestArriveRefusesBadInput(t *testing.T) {
	svc, s := newService(t)
	ctx := context.Background()
	for _, a := range []member.Arrival{
		{},
		{Identities: []member.Identity{openid("mp", "")}},
		{Identities: []member.Identity{openid("mp", "o1")}, Phone: pii.Phone{Country: "86", Number: "12"}},
		{Identities: []member.Identity{openid("mp", "o1")}, Phone: pii.Phone{Country: "86", Number: "12025550199"}},
		{Identities: []member.Identity{openid("mp", "o1")}, Phone: pii.Phone{Number: "13800138000"}},
		{Identities: []member.Identity{openid("mp", strings.Repeat("x", 200))}},
	} {
		if _, err := svc.Arrive(ctx, a); !errs.Is(errs.Invalid, err) {
			t.Errorf("Arrive(%+v) = %v; want invalid", a, err)
		}
	}
	if _, err := s.Get(ctx, store.K("ident#openid#mp#o1", "ident")); !errs.Is(errs.NotExist, err) {
		t.Fatalf("a refused arrival stored an index item: %v", err)
	}
}

func TestGetUnknown(t *testing.T) {
	svc, _ := newService(t)
	if _, err := svc.Get(context.Background(), "mnope"); !errs.Is(errs.NotExist, err) {
		t.Fatalf("Get(unknown) = %v; want not_exist", err)
	}
}
