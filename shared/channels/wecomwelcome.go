package channels

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// WeComWelcome is the welcome message a customer gets after adding a sales
// rep through WeCom, stored as data. {register_url} in Text is replaced by
// the registration link.
type WeComWelcome struct {
	Text      string    `json:"text"` // Empty: no welcome message.
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

// MaxWeComWelcome is the longest welcome text WeCom takes, in bytes.
const MaxWeComWelcome = 4000

// DefaultWeComWelcome greets the customer with the registration link and
// the new-member coupon.
func DefaultWeComWelcome() WeComWelcome {
	return WeComWelcome{Text: "您好，很高兴为您服务！点击注册会员，领取10元新人券：{register_url}"}
}

func wecomWelcomeKey() store.Key { return store.K("rules#wecom-welcome", "current") }

// WeComWelcome returns the WeCom welcome in force (the default until set).
func (s *Service) WeComWelcome(ctx context.Context) (WeComWelcome, error) {
	var w WeComWelcome
	_, err := store.GetJSON(ctx, s.st, wecomWelcomeKey(), &w)
	if errs.Is(errs.NotExist, err) {
		return DefaultWeComWelcome(), nil
	}
	if err != nil {
		return WeComWelcome{}, errs.E("channels.WeComWelcome", err)
	}
	return w, nil
}

// SetWeComWelcome validates and stores the WeCom welcome, recording who and
// when. A text over MaxWeComWelcome bytes or not UTF-8 is errs.Invalid.
func (s *Service) SetWeComWelcome(ctx context.Context, w WeComWelcome, operator string) (WeComWelcome, error) {
	const op = "channels.SetWeComWelcome"
	if operator == "" {
		return WeComWelcome{}, errs.E(op, errs.Invalid, "operator is required")
	}
	if len(w.Text) > MaxWeComWelcome || !utf8.ValidString(w.Text) {
		return WeComWelcome{}, errs.E(op, errs.Invalid, "welcome text must be UTF-8 of at most 4000 bytes")
	}
	w.UpdatedAt, w.UpdatedBy = s.now().UTC(), operator
	if err := s.st.Write(ctx, store.PutJSON(wecomWelcomeKey(), w)); err != nil {
		return WeComWelcome{}, errs.E(op, err)
	}
	return w, nil
}

// TextFor is the welcome text with the link filled in.
func (w WeComWelcome) TextFor(registerURL string) string {
	return strings.ReplaceAll(w.Text, "{register_url}", registerURL)
}
