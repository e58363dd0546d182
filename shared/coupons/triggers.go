package coupons

import (
	"context"
	"fmt"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/errs"
)

// OnRegistration issues the registration coupon, once per member ever.
// Errors as for Issue (errs.Conflict when the template is paused or sold out).
func (s *Service) OnRegistration(ctx context.Context, memberID string) (Issued, error) {
	t, err := s.triggers(ctx)
	if err != nil {
		return Issued{}, err
	}
	return s.Issue(ctx, registrationCmd(t, memberID))
}

// PlanRegistration works the registration coupon out without issuing it
// (PlanIssue), for a caller that writes it in one atomic write with the
// member's registration. Errors as for OnRegistration.
func (s *Service) PlanRegistration(ctx context.Context, memberID string) (Grant, error) {
	t, err := s.triggers(ctx)
	if err != nil {
		return Grant{}, err
	}
	return s.PlanIssue(ctx, registrationCmd(t, memberID))
}

// registrationCmd is the command that issues the registration coupon: its
// key is the member's, so a member has it once ever.
func registrationCmd(t Triggers, memberID string) IssueCmd {
	return IssueCmd{TemplateID: t.Registration, MemberID: memberID, Reason: ReasonRegistration, Key: "reg#" + memberID}
}

// OnSignInStreak issues the sign-in streak coupon for the streak completed on
// day (yyyymmdd in CST), once per member and day.
func (s *Service) OnSignInStreak(ctx context.Context, memberID, day string) (Issued, error) {
	if _, err := calendar.ParseDay(day); err != nil {
		return Issued{}, errs.E("coupons.OnSignInStreak", errs.Invalid, "day must be yyyymmdd")
	}
	t, err := s.triggers(ctx)
	if err != nil {
		return Issued{}, err
	}
	return s.Issue(ctx, StreakIssue(t.Streak, memberID, day))
}

// StreakIssue is the command that issues memberID the sign-in streak coupon
// of template templateID for the streak completed on day (yyyymmdd in CST):
// once per member and day, whether the sign-in issues it in its own write
// (PrepareIssue) or OnSignInStreak does.
func StreakIssue(templateID, memberID, day string) IssueCmd {
	return IssueCmd{TemplateID: templateID, MemberID: memberID, Reason: ReasonStreak, Key: "streak#" + memberID + "#" + day}
}

// StreakReached is OnSignInStreak in the shape of signin.Coupons, so a
// *Service can be handed to the sign-in package as is.
func (s *Service) StreakReached(ctx context.Context, memberID, day string, _ int) error {
	_, err := s.OnSignInStreak(ctx, memberID, day)
	return err
}

// IssueMonthlyLevel issues the monthly coupon of a level (template tpl, as
// the level's benefits name it), once per member, month (in CST) and level.
// A level without a monthly coupon (tpl "") is errs.NotExist.
func (s *Service) IssueMonthlyLevel(ctx context.Context, memberID, level, tpl string, now time.Time) (Issued, error) {
	if tpl == "" {
		return Issued{}, errs.E("coupons.IssueMonthlyLevel", errs.NotExist,
			fmt.Sprintf("level %q has no monthly coupon", level))
	}
	month := calendar.Month(now)
	return s.Issue(ctx, IssueCmd{TemplateID: tpl, MemberID: memberID, Reason: ReasonLevel + ":" + level,
		Key: "lvl#" + memberID + "#" + month + "#" + level})
}

// IssueBirthday issues the birthday coupon when BirthdayDue says it is due,
// once per member and birthday year; birthday is "MM-DD". It reports whether
// a coupon is due (and so was issued now or before).
func (s *Service) IssueBirthday(ctx context.Context, memberID, birthday string, now time.Time) (Issued, bool, error) {
	t, err := s.triggers(ctx)
	if err != nil {
		return Issued{}, false, err
	}
	year, due, err := BirthdayDue(birthday, now, t.BirthdayLead)
	if err != nil || !due {
		return Issued{}, false, err
	}
	got, err := s.Issue(ctx, IssueCmd{TemplateID: t.Birthday, MemberID: memberID,
		Reason: ReasonBirthday, Key: fmt.Sprintf("bday#%s#%d", memberID, year)})
	return got, err == nil, err
}

// BirthdayLead is how many days before a birthday its coupon is due
// (Triggers.BirthdayLead): the birthday sweep reads that many days ahead.
func (s *Service) BirthdayLead(ctx context.Context) (int, error) {
	t, err := s.triggers(ctx)
	return t.BirthdayLead, err
}

// BirthdayDue reports whether a birthday ("MM-DD") is due at now: from lead
// days before it through the day itself, in CST. year is the year of the
// birthday that is due (a 2 January birthday is due on 30 December for the
// next year), the part of the idempotency key that makes the coupon once a
// year. A 29 February birthday falls on 28 February in other years.
func BirthdayDue(birthday string, now time.Time, lead int) (year int, due bool, err error) {
	b, err := time.Parse("01-02", birthday)
	if err != nil || len(birthday) != 5 {
		return 0, false, errs.E("coupons.BirthdayDue", errs.Invalid, "birthday must be MM-DD")
	}
	if lead < 0 {
		return 0, false, errs.E("coupons.BirthdayDue", errs.Invalid, "lead days must not be negative")
	}
	today := calendar.Date(now)
	for _, y := range []int{today.Year(), today.Year() + 1} {
		day := b.Day()
		if b.Month() == time.February && day == 29 && !leap(y) {
			day = 28
		}
		bd := time.Date(y, b.Month(), day, 0, 0, 0, 0, time.UTC)
		if !today.After(bd) && !today.Before(bd.AddDate(0, 0, -lead)) {
			return y, true, nil
		}
	}
	return 0, false, nil
}

func leap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }
