package channels

import (
	"context"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// Keyword is one keyword reply of the Official Account: a text message that
// matches gets Reply as a passive reply, or MemberReply when set and the
// follower is already a member. {register_url} in either is replaced by the
// registration link (the member page: it registers a newcomer and shows a
// member their card).
type Keyword struct {
	Match       string `json:"match"`
	Exact       bool   `json:"exact"` // Whole message (trimmed) rather than contains.
	Reply       string `json:"reply"`
	MemberReply string `json:"member_reply,omitempty"` // For a member; empty: Reply for everyone.
}

// Replies are the Official Account's passive replies, stored as data.
type Replies struct {
	Welcome   string    `json:"welcome"` // Sent on subscribe; empty: none.
	Keywords  []Keyword `json:"keywords"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

// DefaultReplies answer 会员 with the registration link (a member with the
// link to their card) and welcome new followers with it.
func DefaultReplies() Replies {
	return Replies{
		Welcome: "欢迎关注！点击注册会员，领取新人礼：{register_url}",
		Keywords: []Keyword{
			{Match: "会员", Reply: "点击注册会员，领取新人礼：{register_url}",
				MemberReply: "您已是会员，点击查看会员卡和权益：{register_url}"},
		},
	}
}

func repliesKey() store.Key { return store.K("rules#oa-replies", "current") }

// Replies returns the replies in force (the defaults until set).
func (s *Service) Replies(ctx context.Context) (Replies, error) {
	var r Replies
	_, err := store.GetJSON(ctx, s.st, repliesKey(), &r)
	if errs.Is(errs.NotExist, err) {
		return DefaultReplies(), nil
	}
	if err != nil {
		return Replies{}, errs.E("channels.Replies", err)
	}
	return r, nil
}

// SetReplies validates and stores the replies, recording who and when.
func (s *Service) SetReplies(ctx context.Context, r Replies, operator string) (Replies, error) {
	const op = "channels.SetReplies"
	if operator == "" {
		return Replies{}, errs.E(op, errs.Invalid, "operator is required")
	}
	if len(r.Keywords) > 200 || len(r.Welcome) > 2000 {
		return Replies{}, errs.E(op, errs.Invalid, "too many keywords or welcome too long")
	}
	for _, k := range r.Keywords {
		if strings.TrimSpace(k.Match) == "" || len(k.Match) > 64 || k.Reply == "" || len(k.Reply) > 2000 || len(k.MemberReply) > 2000 {
			return Replies{}, errs.E(op, errs.Invalid, "a keyword needs a match (≤ 64) and a reply (≤ 2000; member_reply too)")
		}
	}
	r.UpdatedAt, r.UpdatedBy = s.now().UTC(), operator
	if err := s.st.Write(ctx, store.PutJSON(repliesKey(), r)); err != nil {
		return Replies{}, errs.E(op, err)
	}
	return r, nil
}

// Match returns the keyword a text message matches, if any; the first
// matching keyword wins.
func (r Replies) Match(text string) (Keyword, bool) {
	t := strings.TrimSpace(text)
	for _, k := range r.Keywords {
		if (k.Exact && t == k.Match) || (!k.Exact && strings.Contains(t, k.Match)) {
			return k, true
		}
	}
	return Keyword{}, false
}

// Text is the keyword's reply with the link filled in: MemberReply, when
// set, for a follower who is already a member, else Reply.
func (k Keyword) Text(registerURL string, isMember bool) string {
	reply := k.Reply
	if isMember && k.MemberReply != "" {
		reply = k.MemberReply
	}
	return strings.ReplaceAll(reply, "{register_url}", registerURL)
}

// WelcomeText is the subscribe welcome with the link filled in.
func (r Replies) WelcomeText(registerURL string) string {
	return strings.ReplaceAll(r.Welcome, "{register_url}", registerURL)
}
