package channels_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/channels"
	"github.com/wemember/wemember/shared/errs"
)

func TestWeComWelcome(t *testing.T) {
	st, err := bolt.Open(t.TempDir() + "/w.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	svc := channels.New(st, time.Now)

	w, err := svc.WeComWelcome(ctx)
	if err != nil || w.Text != channels.DefaultWeComWelcome().Text {
		t.Fatalf("before any set: %+v, %v; want the default", w, err)
	}
	if got := w.TextFor("https://x.example/r"); !strings.Contains(got, "https://x.example/r") || strings.Contains(got, "{register_url}") {
		t.Errorf("TextFor = %q; want the link filled in", got)
	}
	for _, bad := range []struct {
		name, text, operator string
	}{
		{"no operator", "hi", ""},
		{"too long", strings.Repeat("a", channels.MaxWeComWelcome+1), "ops"},
		{"not UTF-8", "\xff\xfe", "ops"},
	} {
		if _, err := svc.SetWeComWelcome(ctx, channels.WeComWelcome{Text: bad.text}, bad.operator); !errs.Is(errs.Invalid, err) {
			t.Errorf("%s: err = %v, want Invalid", bad.name, err)
		}
	}
	if _, err := svc.SetWeComWelcome(ctx, channels.WeComWelcome{Text: "欢迎 {register_url}"}, "ops"); err != nil {
		t.Fatal(err)
	}
	w, err = svc.WeComWelcome(ctx)
	if err != nil || w.Text != "欢迎 {register_url}" || w.UpdatedBy != "ops" || w.UpdatedAt.IsZero() {
		t.Errorf("after set: %+v, %v", w, err)
	}
	if _, err := svc.SetWeComWelcome(ctx, channels.WeComWelcome{}, "ops"); err != nil {
		t.Fatal(err)
	}
	if w, _ := svc.WeComWelcome(ctx); w.TextFor("u") != "" {
		t.Errorf("an empty welcome stays empty (no message), got %q", w.TextFor("u"))
	}
}
