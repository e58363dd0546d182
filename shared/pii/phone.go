package pii

import (
	"strings"

	"github.com/wemember/wemember/shared/errs"
)

// Phone is a phone number with its country, as WeChat's phone-number API
// tells it (countryCode, purePhoneNumber). Only a +86 number is a mainland
// number: +1 3855550124 and the mainland 13855550124 are different people.
type Phone struct {
	Country string // The calling code without "+": "86", "1", "852".
	Number  string // The national number, digits only.
}

// mainland is mainland China's calling code.
const mainland = "86"

// phoneNoise strips the separators people write into phone numbers.
var phoneNoise = strings.NewReplacer(" ", "", "-", "")

// NewPhone checks a calling code and a national number (spaces, dashes and a
// "+" before the code are dropped): digits only, a code of one to three
// digits not starting with 0, at most 15 digits in all as E.164 allows, and
// a +86 number must be a mainland mobile number. Anything else is
// errs.Invalid.
func NewPhone(country, number string) (Phone, error) {
	const op = "pii.NewPhone"
	p := Phone{Country: strings.TrimPrefix(phoneNoise.Replace(country), "+"), Number: phoneNoise.Replace(number)}
	switch {
	case len(p.Country) < 1 || len(p.Country) > 3 || p.Country[0] == '0' || !digits(p.Country):
		return Phone{}, errs.E(op, errs.Invalid, "phone number has no valid country code")
	case p.Country == mainland && !mainlandMobile(p.Number):
		return Phone{}, errs.E(op, errs.Invalid, "not a mainland mobile number")
	case len(p.Number) < 4 || len(p.Country)+len(p.Number) > 15 || !digits(p.Number):
		return Phone{}, errs.E(op, errs.Invalid, "not a phone number")
	}
	return p, nil
}

// IsZero reports whether there is no number.
func (p Phone) IsZero() bool { return p == Phone{} }

// Mainland reports whether the number is a mainland China number (+86).
func (p Phone) Mainland() bool { return p.Country == mainland }

// E164 is the number in international form: +8613800138000, +12025550199.
// It is the form a member record keeps, sealed.
func (p Phone) E164() string { return "+" + p.Country + p.Number }

// Key is the form phone identities are hashed from: the 11 digits of a
// mainland number (the form offline imports, which are mainland numbers,
// are matched by), and for any other "+", the country code, a space and
// the national number ("+1 3855550124"), which never equals a mainland key
// nor, thanks to the space, the key of another split of the same digits
// ("+13 855550124").
func (p Phone) Key() string {
	if p.Mainland() {
		return p.Number
	}
	return "+" + p.Country + " " + p.Number
}

// Mask shows a mainland number as 138****5678 and any other with its
// country: +1 202***0199.
func (p Phone) Mask() string {
	if p.Mainland() {
		return MaskPhone(p.Number)
	}
	return "+" + p.Country + " " + MaskPhone(p.Number)
}

// NormalizePhone reduces a mainland mobile number, as written in an import
// file, to its 11 digits, dropping spaces, dashes and a +86 or 86 prefix. A
// number of any other country ("+1 3855550124") or one that is not a
// mainland mobile number ("12025550199") is errs.Invalid.
func NormalizePhone(phone string) (string, error) {
	p := phoneNoise.Replace(phone)
	if rest, ok := strings.CutPrefix(p, "+"); ok {
		if p, ok = strings.CutPrefix(rest, mainland); !ok {
			return "", errs.E("pii.NormalizePhone", errs.Invalid, "not a mainland mobile number")
		}
	} else if len(p) == 13 && strings.HasPrefix(p, mainland) {
		p = p[len(mainland):]
	}
	if !mainlandMobile(p) {
		return "", errs.E("pii.NormalizePhone", errs.Invalid, "not a mainland mobile number")
	}
	return p, nil
}

// mainlandMobile reports whether s is a mainland mobile number: 11 digits,
// 13 to 19 first.
func mainlandMobile(s string) bool {
	return len(s) == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9' && digits(s)
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
