package loyalty

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/coupons"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/once"
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
	// Coupon is the streak coupon this sign-in issued, on every
	// Rules.Coupons.StreakDays-th day in a row (see WithCoupons).
	Coupon *coupons.Instance `json:"coupon,omitempty"`
	// CouponMissed says the streak day's coupon could not be had with the
	// sign-in (its template paused, sold out, ended or gone): the day
	// counts without it.
	CouponMissed bool `json:"coupon_missed,omitempty"`
	// Repeat says the member had signed in today already: the result is
	// the first sign-in's and nothing was credited again.
	Repeat bool `json:"-"`
	// Inherited says today's sign-in was made by a member since merged into
	// this one (the merge carried its streak over): this member credited
	// nothing today, and whatever the streak day brings was the merged
	// member's. It is kept in the record, so a repeat says it again.
	Inherited bool `json:"inherited,omitempty"`
	// Member is the member the sign-in was made under: the survivor when
	// the member signing in had been merged into it meanwhile.
	Member string `json:"member,omitempty"`
}

// markRepeat notes a result answered from the first sign-in's record.
func (r *SignInResult) markRepeat() { r.Repeat = true }

// SignIn records the member's sign-in for today (Shanghai) and credits the
// points of the streak day from the sign-in table, and the sign-in growth.
// Signing in twice on one day, even at the same moment, has one effect and
// returns the first result without writing. The streak continues when the
// previous sign-in was yesterday and starts over at 1 otherwise; every
// Rules.Coupons.StreakDays-th day in a row brings the streak coupon (see
// WithCoupons). The streak, the points lot, the growth (with any level
// change), the coupon and the idempotency record are one atomic write: a
// sign-in that fails has no effect and can be retried. A member merged away
// (Absorb has begun) signs in as the survivor (SignInResult.Member says
// which).
func (s *Service) SignIn(ctx context.Context, member string) (SignInResult, error) {
	return s.SignInAs(ctx, member, "")
}

// SignInAs is SignIn for a member known to the caller as person: a key the
// person keeps across merges (the mini-program openid, which the merged-away
// member and the survivor share). A person signs in once a day whichever
// member the sign-in reaches: one made under a member while it is merged
// into another is answered, under the other, as a repeat (Inherited). An
// empty person is the member.
func (s *Service) SignInAs(ctx context.Context, member, person string) (SignInResult, error) {
	const op = "loyalty.SignIn"
	if err := validMember(op, member); err != nil {
		return SignInResult{}, err
	}
	day := calendar.Day(s.now())
	ik, scope := idemKey(pointsScope, "signin#"+member+"#"+day), "signin|"+member
	if person != "" {
		if len(person) > 200 {
			return SignInResult{}, errs.E(op, errs.Invalid, "person key too long")
		}
		ik, scope = idemKey(pointsScope, "signin#person#"+person+"#"+day), "signin|person|"+person
	}
	first := true
	res, err := runOnce(ctx, s, op, ik, scope, func(now time.Time) ([]store.Mutation, SignInResult, error) {
		// The write checks that the member was not merged away (Absorb
		// marks it first), so the first try takes the member as given and
		// only a try after a lost race follows the merge marks.
		member := member
		if !first {
			var err error
			if member, err = s.survivorOf(ctx, member); err != nil {
				return nil, SignInResult{}, errs.E(op, err)
			}
		}
		first = false
		key := "signin#" + member + "#" + day
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
			// A concurrent sign-in wrote today's streak, and with it its
			// record, after runOnce looked for the record: answer with it.
			if _, ok, err := once.Lookup[SignInResult](ctx, s.st, ik, scope); err != nil || ok {
				return nil, SignInResult{}, cmp.Or(err, errRetry)
			}
			// Today's sign-in happened under a member merged into this
			// one (Absorb carried its streak over): nothing to credit.
			return nil, SignInResult{Day: day, Streak: st.Streak, Repeat: true, Inherited: true, Member: member}, nil
		}
		yesterday := calendar.Day(calendar.Midnight(now).Add(-time.Hour))
		if st.LastDay == yesterday {
			st.Streak++
		} else {
			st.Streak = 1
		}
		st.LastDay = day
		out := SignInResult{Day: day, Streak: st.Streak, Points: r.SignInPoints(st.Streak), Growth: r.Growth.SignIn, Member: member}
		if out.Points > MaxPoints || out.Growth > MaxPoints {
			return nil, SignInResult{}, errs.E(op, errs.Invalid, fmt.Sprintf("sign-in points and growth must be at most %d", MaxPoints))
		}
		// Not merged away meanwhile: Absorb marks the member before it moves
		// anything, so what this writes is either moved or never written.
		ms := []store.Mutation{store.PutJSON(signInKey(member), st).IfVersion(it.Version), store.Check(mergedKey(member)).IfAbsent()}
		src := Source{SignInDay: day}
		if out.Points > 0 {
			exp := r.Points.Expiry
			pms, e, err := s.creditWrite(ctx, op, KindEarn, EarnCmd{MemberID: member, Points: out.Points,
				Reason: fmt.Sprintf("sign-in day %d", st.Streak), Source: src, Key: key, Expiry: &exp}, now)
			if err != nil {
				return nil, SignInResult{}, err
			}
			out.Entry, ms = e, append(ms, pms...)
		}
		if out.Growth > 0 {
			gms, _, err := s.growthWrite(ctx, op, r, GrowthCmd{MemberID: member, Growth: out.Growth, Reason: "sign-in",
				Source: src, Key: key}, now)
			if err != nil {
				return nil, SignInResult{}, err
			}
			ms = append(ms, gms...)
		}
		cms, err := s.streakCoupon(ctx, r, &out)
		if err != nil {
			return nil, SignInResult{}, errs.E(op, err)
		}
		return append(ms, cms...), out, nil
	})
	if err == nil && res.Repeat && res.Member != "" && res.Member != member {
		// The first sign-in was another member's of the person's (merged
		// into this one, or this one into it): this one credited nothing.
		survivor, err := s.survivorOf(ctx, member)
		if err != nil {
			return SignInResult{}, errs.E(op, err)
		}
		res.Inherited = res.Inherited || survivor != res.Member
	}
	return res, err
}

// streakCoupon returns the mutations that issue the streak coupon with a
// sign-in on every Rules.Coupons.StreakDays-th day in a row, and notes the
// coupon in out. A coupon that cannot be had (coupons.Unavailable: template
// paused, sold out, ended or gone) is noted as missed and the day counts
// without it; any other failure fails the sign-in.
func (s *Service) streakCoupon(ctx context.Context, r Rules, out *SignInResult) ([]store.Mutation, error) {
	if s.coupons == nil || r.Coupons.StreakDays <= 0 || out.Streak%r.Coupons.StreakDays != 0 {
		return nil, nil
	}
	p, err := s.coupons.PrepareIssue(ctx, coupons.StreakIssue(r.Coupons.Streak, out.Member, out.Day))
	switch {
	case err == nil:
		out.Coupon = &p.Instance
		return p.Mutations, nil
	case coupons.Unavailable(err):
		out.CouponMissed = true
		return nil, nil
	}
	return nil, err
}

// survivorOf follows the merge marks from member to the member it was
// merged into, if any (Absorb writes the mark before it moves anything).
func (s *Service) survivorOf(ctx context.Context, member string) (string, error) {
	for hop := 0; hop < 5; hop++ {
		var m mergeMark
		if _, err := store.GetJSON(ctx, s.st, mergedKey(member), &m); err != nil {
			if errs.Is(errs.NotExist, err) {
				return member, nil
			}
			return "", err
		}
		member = m.Into
	}
	return member, nil
}
