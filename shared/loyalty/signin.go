package loyalty

import (
	"context"
	"fmt"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// signInState is a member's sign-in streak (item "loysignin").
type signInState struct {
	LastDay string `json:"last_day"` // yyyymmdd, Shanghai.
	Streak  int    `json:"streak"`
}

// SignInResult is the outcome of a daily sign-in.
type SignInResult struct {
	Day    string `json:"day"`    // yyyymmdd, Shanghai.
	Streak int    `json:"streak"` // Consecutive days including this one.
	Points int64  `json:"points"` // Per Rules.Points.SignIn for this streak day.
	Growth int64  `json:"growth"` // Rules.Growth.SignIn.
	Entry  Entry  `json:"entry"`  // The earn entry (zero when Points is 0).
	// Repeat says the member had signed in today already: the result is
	// the first sign-in's and nothing was credited again.
	Repeat bool `json:"-"`
}

// markRepeat notes a result answered from the first sign-in's record.
func (r *SignInResult) markRepeat() { r.Repeat = true }

// SignIn records the member's sign-in for today (Shanghai) and credits the
// points of the streak day from the sign-in table, and the sign-in growth.
// Signing in twice on one day has one effect and returns the first result.
// The streak continues when the previous sign-in was yesterday and starts
// over at 1 otherwise. Points and streak are one atomic write; the growth
// is a second, idempotent command (a retry of SignIn completes it).
func (s *Service) SignIn(ctx context.Context, member string) (SignInResult, error) {
	const op = "loyalty.SignIn"
	if err := validMember(op, member); err != nil {
		return SignInResult{}, err
	}
	day := calendar.Day(s.now())
	key := "signin#" + member + "#" + day
	res, err := runOnce(ctx, s, op, idemKey(pointsScope, key), "signin|"+member, func(now time.Time) ([]store.Mutation, SignInResult, error) {
		r, err := s.Rules(ctx)
		if err != nil {
			return nil, SignInResult{}, errs.E(op, err)
		}
		var st signInState
		it, err := store.GetJSON(ctx, s.st, signInKey(member), &st)
		if err != nil && !errs.Is(errs.NotExist, err) {
			return nil, SignInResult{}, errs.E(op, err)
		}
		if st.LastDay == day {
			return nil, SignInResult{}, errs.E(op, errs.Internal, fmt.Errorf("member %s signed in on %s without a record", member, day))
		}
		yesterday := calendar.Day(calendar.Midnight(now).Add(-time.Hour))
		if st.LastDay == yesterday {
			st.Streak++
		} else {
			st.Streak = 1
		}
		st.LastDay = day
		out := SignInResult{Day: day, Streak: st.Streak, Points: r.SignInPoints(st.Streak), Growth: r.Growth.SignIn}
		ms := []store.Mutation{store.PutJSON(signInKey(member), st).IfVersion(it.Version)}
		if out.Points > 0 {
			pms, e, err := s.creditWrite(ctx, op, KindEarn, EarnCmd{MemberID: member, Points: out.Points,
				Reason: fmt.Sprintf("sign-in day %d", st.Streak), Source: Source{SignInDay: day}, Key: key}, now)
			if err != nil {
				return nil, SignInResult{}, err
			}
			out.Entry, ms = e, append(ms, pms...)
		}
		return ms, out, nil
	})
	if err != nil {
		return SignInResult{}, err
	}
	if res.Growth > 0 {
		_, err := s.AddGrowth(ctx, GrowthCmd{MemberID: member, Growth: res.Growth, Reason: "sign-in",
			Source: Source{SignInDay: day}, Key: key})
		if err != nil && !errs.Is(errs.Exist, err) {
			return SignInResult{}, errs.E(op, err)
		}
	}
	return res, nil
}
