package invitetest

import (
	"bytes"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/codes"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/invite"
	"github.com/wemember/wemember/shared/store"
)

func lcBatchStoresNoText(t *testing.T, e *lcEnv) {
	// A lower-case prefix on a one-case charset: the codes ignore case and
	// are issued in their canonical, upper-case form.
	f := codes.Format{Prefix: "vip", Length: 8, Charset: codes.DefaultCharset}
	b, err := e.svc.CreateBatch(e.ctx, invite.BatchCmd{Kind: invite.KindEnterprise, Count: 150, Format: &f,
		Channel: "store-12", Operator: "op1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Codes) != 150 || b.Count != 150 || b.ID == "" {
		t.Fatalf("batch: %d codes, count %d, id %q", len(b.Codes), b.Count, b.ID)
	}
	seen := map[string]bool{}
	for _, text := range b.Codes {
		if !strings.HasPrefix(text, "VIP") || len(text) != 11 || seen[text] {
			t.Fatalf("code %q: wrong format or repeated", text)
		}
		seen[text] = true
		if e.st.written(text) || e.st.written(text[3:]) {
			t.Fatalf("the text of %q reached the store", text)
		}
		c := e.lookup(t, text)
		if typed := e.lookup(t, " "+strings.ToLower(text)); typed.ID != c.ID {
			t.Fatalf("%q typed in lower case found %s, want %s", text, typed.ID, c.ID)
		}
		id, _ := e.svc.CodeID(text)
		if c.ID != id || c.Kind != invite.KindEnterprise || c.Status != invite.Active || c.Channel != "store-12" ||
			c.CreatedBy != "op1" || c.Batch != b.ID || c.Seal == "" || c.Owner != "" {
			t.Fatalf("stored code: %+v", c)
		}
		if want := lcStart.Add(7 * 24 * time.Hour); !c.ExpiresAt.Equal(want) {
			t.Fatalf("expires %v, want %v", c.ExpiresAt, want)
		}
		if got, err := e.svc.Text(c); err != nil || got != text {
			t.Fatalf("Text = %q, %v; want %q", got, err, text)
		}
	}
	// Every write kept to the store's limit (150 codes need several).
	writes := 0
	e.st.mu.Lock()
	for _, m := range e.st.writes {
		if bytes.Contains([]byte(m.Key.SK), []byte("code")) {
			writes++
		}
	}
	e.st.mu.Unlock()
	if writes != 150 {
		t.Fatalf("%d code records written, want 150", writes)
	}
	page, err := e.svc.BatchCodes(e.ctx, b.ID, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Codes) != 150 || page.Next != "" {
		t.Fatalf("BatchCodes: %d codes, next %q", len(page.Codes), page.Next)
	}
	for _, c := range page.Codes {
		if c.Seal != "" {
			t.Fatal("BatchCodes handed out a sealed text")
		}
	}
	got, err := e.svc.Batch(e.ctx, b.ID)
	if err != nil || got.Count != 150 || got.CreatedBy != "op1" || len(got.Codes) != 0 {
		t.Fatalf("Batch = %+v, %v", got, err)
	}
}

func lcBatchRefusals(t *testing.T, e *lcEnv) {
	bad := []invite.BatchCmd{
		{Kind: invite.KindEnterprise, Count: 0, Operator: "op"},
		{Kind: invite.KindEnterprise, Count: invite.MaxBatch + 1, Operator: "op"},
		{Kind: invite.KindEnterprise, Count: 1},
		{Kind: "nope", Count: 1, Operator: "op"},
		{Kind: invite.KindEnterprise, Count: 1, Operator: "op", Cap: -1},
		{Kind: invite.KindEnterprise, Count: 1, Operator: "op", Channel: "a#b"},
		{Kind: invite.KindEnterprise, Count: 1, Operator: "op", Campaign: "c1"},
		{Kind: invite.KindCampaign, Count: 1, Operator: "op"},
		{Kind: invite.KindEnterprise, Count: 1, Operator: "op", Format: &codes.Format{Length: 1}},
	}
	for i, cmd := range bad {
		if _, err := e.svc.CreateBatch(e.ctx, cmd); !errs.Is(errs.Invalid, err) {
			t.Errorf("case %d: err = %v, want invalid", i, err)
		}
	}
	if len(e.st.writes) != 0 {
		t.Fatalf("refused batches wrote %d mutations", len(e.st.writes))
	}
}

func lcBatchCapacity(t *testing.T, e *lcEnv) {
	f := codes.Format{Length: 4, Charset: "AB"} // 16 codes; a batch takes at most half.
	_, err := e.svc.CreateBatch(e.ctx, invite.BatchCmd{Kind: invite.KindEnterprise, Count: 9, Format: &f, Operator: "op"})
	if !errs.Is(errs.Invalid, err) || !strings.Contains(errs.SafeMessage(err), "16") {
		t.Fatalf("9 codes of a 16-code format: %v", err)
	}
	if len(e.st.writes) != 0 {
		t.Fatal("a refused batch wrote")
	}
	b, err := e.svc.CreateBatch(e.ctx, invite.BatchCmd{Kind: invite.KindEnterprise, Count: 8, Format: &f, Operator: "op"})
	if err != nil || len(b.Codes) != 8 {
		t.Fatalf("8 codes of a 16-code format: %d, %v", len(b.Codes), err)
	}
	// Eight more of the eight left: draws collide with the first batch and
	// are redrawn a bounded number of times — the batch ends either way,
	// and never gives a code twice.
	c, err := e.svc.CreateBatch(e.ctx, invite.BatchCmd{Kind: invite.KindEnterprise, Count: 8, Format: &f, Operator: "op"})
	if err == nil {
		seen := map[string]bool{}
		for _, text := range append(b.Codes, c.Codes...) {
			if seen[text] {
				t.Fatalf("code %q given twice", text)
			}
			seen[text] = true
		}
	}
}

func lcBatchCollisionRedrawn(t *testing.T, e *lcEnv) {
	// Two services draw the same random stream: the second's first draw is
	// the code the first made, so it collides and is redrawn.
	first := invite.New(e.st, e.box, nil, nil, nil, e.clock, lcID, invite.WithRandom(mrand.NewChaCha8([32]byte{7})))
	second := invite.New(e.st, e.box, nil, nil, nil, e.clock, lcID, invite.WithRandom(mrand.NewChaCha8([32]byte{7})))
	a, err := first.CreateBatch(e.ctx, invite.BatchCmd{Kind: invite.KindEnterprise, Count: 1, Operator: "op"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := second.CreateBatch(e.ctx, invite.BatchCmd{Kind: invite.KindEnterprise, Count: 1, Operator: "op"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Codes[0] == b.Codes[0] {
		t.Fatalf("code %q given twice", a.Codes[0])
	}
	for _, bt := range []invite.Batch{a, b} {
		if c := e.lookup(t, bt.Codes[0]); c.Batch != bt.ID {
			t.Fatalf("code %q belongs to batch %q, want %q", bt.Codes[0], c.Batch, bt.ID)
		}
	}
	// The collision was a refused write, not an overwrite.
	failed := 0
	for _, m := range e.st.refused {
		if m.Key.SK == "code" {
			failed++
		}
	}
	if failed == 0 {
		t.Fatal("the second batch never collided; the test proves nothing")
	}
}

func lcOwnCodeOnce(t *testing.T, e *lcEnv) {
	c, text, err := e.svc.OwnCode(e.ctx, "m1", invite.KindRegistration, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Owner != "m1" || c.Kind != invite.KindRegistration || len(text) != 16 || !c.ExpiresAt.Equal(lcStart.Add(24*time.Hour)) {
		t.Fatalf("own code %+v %q", c, text)
	}
	again, text2, err := e.svc.OwnCode(e.ctx, "m1", invite.KindRegistration, "")
	if err != nil || again.ID != c.ID || text2 != text {
		t.Fatalf("second call: %v %q %v", again.ID, text2, err)
	}
	other, _, err := e.svc.OwnCode(e.ctx, "m1", invite.KindMPShare, "")
	if err != nil || other.ID == c.ID || !other.ExpiresAt.IsZero() {
		t.Fatalf("mp-share code: %+v %v", other, err)
	}
	if e.st.written(text) {
		t.Fatal("an own code's text reached the store")
	}
	for _, bad := range []struct {
		m    string
		k    invite.Kind
		camp string
	}{{"", invite.KindRegistration, ""}, {"m1", "x", ""}, {"m1", invite.KindRegistration, "c"}, {"m1", invite.KindCampaign, ""}} {
		if _, _, err := e.svc.OwnCode(e.ctx, bad.m, bad.k, bad.camp); !errs.Is(errs.Invalid, err) {
			t.Errorf("OwnCode(%q, %q, %q) = %v, want invalid", bad.m, bad.k, bad.camp, err)
		}
	}
}

func lcOwnCodeConcurrent(t *testing.T, e *lcEnv) {
	const n = 200
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _, err := e.svc.OwnCode(e.ctx, "hot", invite.KindRegistration, "")
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = c.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent calls got codes %s and %s", ids[0], id)
		}
	}
	created := 0
	for _, m := range e.st.writes {
		if m.Key.SK == "code" {
			created++
		}
	}
	if created != 1 {
		t.Fatalf("%d code records written, want 1", created)
	}
}

func lcOwnCodeReplacedWhenExpired(t *testing.T, e *lcEnv) {
	c, _, err := e.svc.OwnCode(e.ctx, "m1", invite.KindRegistration, "")
	if err != nil {
		t.Fatal(err)
	}
	e.advance(24*time.Hour + time.Second)
	n, _, err := e.svc.OwnCode(e.ctx, "m1", invite.KindRegistration, "")
	if err != nil || n.ID == c.ID {
		t.Fatalf("after expiry: %v %v", n.ID, err)
	}
	list, err := e.svc.MemberCodes(e.ctx, "m1")
	if err != nil || len(list) != 1 || list[0].ID != n.ID || list[0].Text == "" {
		t.Fatalf("MemberCodes = %+v, %v", list, err)
	}
	_ = store.MaxWrite
}

func lcBatchMaxPaged(t *testing.T, e *lcEnv) {
	b, err := e.svc.CreateBatch(e.ctx, invite.BatchCmd{Kind: invite.KindMPShare, Count: invite.MaxBatch, Operator: "op"})
	if err != nil || len(b.Codes) != invite.MaxBatch {
		t.Fatalf("a full batch: %d, %v", len(b.Codes), err)
	}
	ids := map[string]bool{}
	cursor, pages := "", 0
	for {
		page, err := e.svc.BatchCodes(e.ctx, b.ID, cursor, 300)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, c := range page.Codes {
			if ids[c.ID] || c.Batch != b.ID || c.Kind != invite.KindMPShare || c.Seal != "" {
				t.Fatalf("listed %+v", c)
			}
			ids[c.ID] = true
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if len(ids) != invite.MaxBatch || pages != 4 {
		t.Fatalf("listed %d codes in %d pages", len(ids), pages)
	}
	if _, err := e.svc.BatchCodes(e.ctx, "nope", "", 10); !errs.Is(errs.NotExist, err) {
		t.Fatalf("unknown batch: %v", err)
	}
}
