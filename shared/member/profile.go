package member

import (
	"context"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/retry"
	"github.com/wemember/wemember/shared/store"
	"github.com/wemember/wemember/shared/text"
)

// ProfileUpdate is what a member may change about themself. Nil fields are
// left alone. Extra fields (birthday, gender) need a recorded consent: the
// update's own or one given before.
type ProfileUpdate struct {
	Nickname *string  `json:"nickname"`
	Avatar   *string  `json:"avatar"`
	Birthday *string  `json:"birthday"` // "MM-DD".
	Gender   *string  `json:"gender"`   // "male", "female", "other" or "".
	Consent  *Consent `json:"consent"`  // The privacy agreement, as accepted now.
}

// birthdayKey indexes a member under a keyed hash of its birthday, so the
// birthday sweep reads one partition per calendar day and the table never
// shows a birthday in the clear.
func (s *Service) birthdayKey(mmdd, id string) store.Key {
	return store.K("bday#"+s.box.Hash("birthday", mmdd), id)
}

// BirthdayPartition is the partition the birthday sweep reads for a month-day.
func (s *Service) BirthdayPartition(mmdd string) string {
	return "bday#" + s.box.Hash("birthday", mmdd)
}

// Birthday returns a member's birthday ("MM-DD"), or "" if not given.
func (s *Service) Birthday(m Member) (string, error) {
	return s.box.Open(m.BirthdaySeal)
}

// UpdateProfile changes a member's profile. It fails with errs.Invalid for
// malformed values and errs.Permission for extra fields without consent.
func (s *Service) UpdateProfile(ctx context.Context, id string, u ProfileUpdate) (Member, error) {
	const op = "member.UpdateProfile"
	if err := u.validate(); err != nil {
		return Member{}, errs.E(op, err)
	}
	for range retry.Tries(ctx, maxTries) {
		var m Member
		it, err := store.GetJSON(ctx, s.store, profileKey(id), &m)
		if err != nil {
			return Member{}, errs.E(op, err)
		}
		if m.Status == Merged {
			id = m.MergedInto
			continue
		}
		if u.Consent != nil {
			c := *u.Consent
			c.At = s.now().UTC()
			m.Consent = &c
		}
		if (u.Birthday != nil || u.Gender != nil) && m.Consent == nil {
			return Member{}, errs.E(op, errs.Permission, "birthday and gender need the privacy agreement first")
		}
		var ms []store.Mutation
		if u.Nickname != nil {
			m.Nickname = *u.Nickname
		}
		if u.Avatar != nil {
			m.Avatar = *u.Avatar
		}
		if u.Gender != nil {
			m.Gender = *u.Gender
		}
		if u.Birthday != nil {
			old, err := s.Birthday(m)
			if err != nil {
				return Member{}, errs.E(op, err)
			}
			if old != "" && old != *u.Birthday {
				ms = append(ms, store.Delete(s.birthdayKey(old, m.ID)))
			}
			m.BirthdaySeal = s.box.Seal(*u.Birthday)
			if *u.Birthday != "" {
				ms = append(ms, store.Put(s.birthdayKey(*u.Birthday, m.ID), nil))
			}
		}
		ms = append(ms, store.PutJSON(profileKey(m.ID), m).IfVersion(it.Version))
		err = s.store.Write(ctx, ms...)
		if errs.Is(errs.Conflict, err) {
			continue
		}
		if err != nil {
			return Member{}, errs.E(op, err)
		}
		return m, nil
	}
	return Member{}, errs.E(op, errs.Transient, "too much contention, retry")
}

// The longest nickname and avatar URL, in bytes.
const (
	MaxNickname = 64
	MaxAvatar   = 512
)

// CheckProfileText refuses, as errs.Invalid naming the field, a nickname
// that is not a name (text.NameProblem: control, bidi-override or other
// invisible characters, nothing visible, over MaxNickname bytes) and an
// avatar that is not an https URL of at most MaxAvatar bytes. Empty values
// pass: they clear the field.
func CheckProfileText(nickname, avatar string) error {
	if nickname != "" {
		if p := text.NameProblem(nickname, MaxNickname); p != "" {
			return errs.E(errs.Invalid, "nickname "+p)
		}
	}
	if avatar == "" {
		return nil
	}
	if p := text.HTTPSURLProblem(avatar, MaxAvatar); p != "" {
		return errs.E(errs.Invalid, "avatar "+p)
	}
	return nil
}

func (u ProfileUpdate) validate() error {
	var nick, avatar string
	if u.Nickname != nil {
		nick = *u.Nickname
	}
	if u.Avatar != nil {
		avatar = *u.Avatar
	}
	if err := CheckProfileText(nick, avatar); err != nil {
		return err
	}
	switch {
	case u.Gender != nil && *u.Gender != "" && *u.Gender != "male" && *u.Gender != "female" && *u.Gender != "other":
		return errs.E(errs.Invalid, "gender must be male, female or other")
	case u.Consent != nil && (u.Consent.Version == "" || len(u.Consent.Version) > 32 || len(u.Consent.Channel) > 32):
		return errs.E(errs.Invalid, "consent needs a version")
	}
	if u.Birthday != nil && *u.Birthday != "" {
		if _, err := time.Parse("01-02", *u.Birthday); err != nil && *u.Birthday != "02-29" {
			return errs.E(errs.Invalid, "birthday must be MM-DD")
		}
	}
	return nil
}
