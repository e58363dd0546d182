// Package reminders holds two resumable sweep jobs that reach out to
// members: birthday coupons, issued a few days before each birthday, and
// pre-expiry reminders for points, coupons and levels, sent as mini-program
// subscribe messages (订阅消息).
//
// Both jobs read only indexes (the birthday index, one partition per
// month-day; the points, coupon and level-end indexes, one partition per
// day),
// keep a per-day scan cursor in the store so a run stopped by its limit or
// its deadline continues where it stopped, and are safe to run twice or
// concurrently: a birthday coupon is issued once per member and birthday
// year (coupons.IssueBirthday), and a reminder is sent at most once per item.
//
// Items it owns:
//
//	remind#bday#<yyyymmdd>      | <MM-DD>   birthday scan cursor of a run day (CST)
//	remind#scan#<kind>          | <yyyymmdd> reminder scan cursor of a run day (CST)
//	remind#<kind>#<item id>     | remind    the reminder sent (or tried) for an item
//
//	remind#monthly#<yyyymm>     | cursor    monthly level coupon scan cursor of a month (CST)
//
// The item id of a level is <member id>#<yyyymmdd of its end, CST>.
//
// Scan cursors and reminder records expire on their own once they cannot
// matter any more.
package reminders

import (
	"context"
	"strconv"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/loyalty"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/store"
)

// Members is what the jobs need of the member service (*member.Service).
type Members interface {
	// Get returns a member, following merges (errs.NotExist if unknown).
	Get(ctx context.Context, id string) (member.Member, error)
	// Birthday returns a member's "MM-DD", or "".
	Birthday(m member.Member) (string, error)
	// BirthdayPartition is the birthday index partition of a month-day; the
	// sort keys of its items are member ids.
	BirthdayPartition(mmdd string) string
	// ActivePartitions are the activity index partitions of a day
	// (yyyymmdd, CST); the sort keys of their items are the ids of the
	// members last active that day.
	ActivePartitions(day string) []string
	// Rules are the identity rules in force (ArchiveAfterDays).
	Rules(ctx context.Context) (member.Rules, error)
}

// Coupons is what the jobs need of the coupon service (*coupons.Service).
type Coupons interface {
	// IssueBirthday issues the birthday coupon when due, once per member and
	// birthday year, reporting whether it was due.
	IssueBirthday(ctx context.Context, memberID, birthday string, now time.Time) (coupons.Issued, bool, error)
	// BirthdayLead is how many days before a birthday its coupon is due.
	BirthdayLead(ctx context.Context) (int, error)
	// IssueMonthlyLevel issues the monthly coupon tpl of a level, once per
	// member, month and level.
	IssueMonthlyLevel(ctx context.Context, memberID, level, tpl string, now time.Time) (coupons.Issued, error)
	// ExpiringSoon pages through available coupons ending within a window.
	ExpiringSoon(ctx context.Context, now time.Time, within time.Duration, cursor string, limit int) ([]coupons.Instance, string, error)
}

// Points is what the reminder job needs of the loyalty service
// (*loyalty.Service).
type Points interface {
	// ExpiringWithin pages through point lots expiring within a window.
	ExpiringWithin(ctx context.Context, now time.Time, d time.Duration, cursor string, limit int) ([]loyalty.Reminder, string, error)
}

// Levels is what the reminder job needs of the loyalty service
// (*loyalty.Service) for levels.
type Levels interface {
	// LevelsEndingWithin pages through set levels and grace periods ending
	// within a window.
	LevelsEndingWithin(ctx context.Context, now time.Time, d time.Duration, cursor string, limit int) ([]loyalty.LevelReminder, string, error)
	// Level is a member's level in force, with its benefits.
	Level(ctx context.Context, member string) (loyalty.LevelView, error)
}

// Sender sends a mini-program subscribe message ((*wechat.MiniProgram).
// SendSubscribe). It fails with errs.Permission when the user has no
// acceptance of the template left, errs.Invalid for an openid or data
// WeChat refuses, errs.RateLimited for quotas, errs.Transient when the
// message may or may not have been sent, errs.Internal otherwise.
type Sender interface {
	SendSubscribe(ctx context.Context, openid, templateID, page string, data map[string]string) error
}

// The kinds of reminder items.
const (
	KindPoints = "points"
	KindCoupon = "coupon"
	KindLevel  = "level"
)

// Item is one thing about to expire that a member is told about.
type Item struct {
	Kind     string    // KindPoints, KindCoupon or KindLevel.
	ID       string    // Lot id, coupon instance id, or member id#yyyymmdd for a level.
	MemberID string    // Its owner.
	Name     string    // The coupon's name; empty for points and levels.
	Points   int64     // Points left in the lot; 0 for coupons and levels.
	Level    string    // A level's id now; empty for points and coupons.
	Next     string    // A level's id after At.
	At       time.Time // When it expires.
}

// Config tunes the jobs. Zero fields take the documented defaults.
type Config struct {
	// MiniProgramAppID is the app whose openid a reminder goes to. Required
	// for reminders; members without an openid there are skipped.
	MiniProgramAppID string
	// TemplateID is the subscribe message template (the id the mini-program's
	// console gives it). Required for reminders.
	TemplateID string
	// Ahead is how long before an expiry members are reminded, when Rules is
	// nil. Default 3 days.
	Ahead time.Duration
	// Rules, when set, gives the loyalty rules in force: every run reminds
	// Rules.Reminders.AheadDays days ahead.
	Rules func(ctx context.Context) (loyalty.Rules, error)
	// Pages are the mini-program pages a reminder opens, by item kind.
	// Default "pages/points/index", "pages/coupons/index" and
	// "pages/level/index".
	Pages map[string]string
	// Data renders an item as the template's keyword values. Default
	// DefaultData.
	Data func(Item) map[string]string
}

// Jobs runs the birthday and reminder sweeps. It is safe for concurrent use.
type Jobs struct {
	st      store.Store
	members Members
	coupons Coupons
	points  Points
	levels  Levels
	send    Sender
	cfg     Config
}

// New builds the jobs. points and send may be nil when only Birthday runs;
// levels may be nil to send no level reminders.
func New(st store.Store, m Members, c Coupons, p Points, l Levels, send Sender, cfg Config) *Jobs {
	if cfg.Ahead <= 0 {
		cfg.Ahead = 3 * 24 * time.Hour
	}
	pages := map[string]string{KindPoints: "pages/points/index", KindCoupon: "pages/coupons/index",
		KindLevel: "pages/level/index"}
	for k, v := range cfg.Pages {
		pages[k] = v
	}
	cfg.Pages = pages
	if cfg.Data == nil {
		cfg.Data = DefaultData
	}
	return &Jobs{st: st, members: m, coupons: c, points: p, levels: l, send: send, cfg: cfg}
}

// DefaultData renders an item for the default template: thing1 what
// expires, number2 how many points (coupons and levels: 1), time3 when
// (CST).
func DefaultData(it Item) map[string]string {
	what, n := "积分即将过期", it.Points
	switch it.Kind {
	case KindCoupon:
		what, n = it.Name+" 即将过期", 1
	case KindLevel:
		what, n = "会员等级即将到期", 1
	}
	if r := []rune(what); len(r) > 20 { // A "thing" keyword holds at most 20 characters.
		what = string(r[:20])
	}
	return map[string]string{
		"thing1":  what,
		"number2": strconv.FormatInt(n, 10),
		"time3":   it.At.In(calendar.Zone()).Format("2006-01-02 15:04"),
	}
}

// Result is what one job call did.
type Result struct {
	Items   int  // Coupons issued (or found issued) or reminders sent.
	Skipped int  // Entries with nothing to do: stale index, no openid, reminded before, not subscribed.
	Failed  int  // Entries given up on (a message WeChat refused, a coupon that could not be issued).
	More    bool // Stopped at the limit or the deadline; call again to continue.
}

func (r Result) handled() int { return r.Items + r.Skipped + r.Failed }

// stopped turns an error that the deadline caused into a normal stop.
func stopped(ctx context.Context, op string, r Result, err error) (Result, error) {
	if err == nil {
		return r, nil
	}
	if ctx.Err() != nil {
		r.More = true
		return r, nil
	}
	return r, errs.E(op, err)
}
