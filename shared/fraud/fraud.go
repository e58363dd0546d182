// Package fraud guards invite redemptions against abuse: an inviter who
// invites more than a few people a day is asked to verify a phone before
// the rewards are paid, a client address that redeems too often in an hour
// is frozen for a while, a device behind many invitees and an emulator are
// flagged for an operator, trusted members are exempt from the inviter
// limits, and a spike of registrations through codes leaves an alert.
//
// Assess reads the counters and returns a Verdict whose Mutations the
// redemption writes in its own atomic write, so a refused or failed
// redemption counts nothing. The counters carry ceilings where a threshold
// must hold exactly under concurrency: a redemption whose write fails on
// one of them lost a race and assesses again.
//
// Store layout (hours and days are China time; counters expire after their
// window):
//
//	fraud#client#<client>   | freeze                the address's freeze (expires when it ends)
//	fraud#client#<client>   | hour#<yyyymmddhh>     N = redemptions from the address in the hour
//	fraud#inviter#<member>  | day#<yyyymmdd>        N = invites by the member that day
//	fraud#inviter#<member>  | trusted               the member is on the whitelist
//	fraud#device#<device>   | count                 N = distinct invitees behind the device
//	fraud#device#<device>   | invitee#<member>      the invitee was counted for the device
//	fraud#spike#<yyyymmddhh>#s<n> | n               N = one shard of the hour's redemptions
//	fraud#alert             | <yyyymmddhh>          the hour's spike alert
//	fraud#freezes           | <client>              operators' list of live freezes
//	fraud#freeze-due        | <unix until>#<client> freezes for ReleaseFreezes to remove
//	fraud#trusted           | <member>              operators' list of trusted members
//	rules#fraud             | current, history#<t>  the rules
package fraud

import (
	"strconv"
	"strings"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/store"
)

// Reasons a redemption is refused (Verdict.Reason).
const (
	// ReasonIPFrozen: the client address is frozen.
	ReasonIPFrozen = "ip_frozen"
	// ReasonIPRate: this redemption is over the address's hourly rate; the
	// address is now frozen.
	ReasonIPRate = "ip_rate"
)

// Flags a redemption may carry (Verdict.Flags).
const (
	// FlagInviterDaily: the inviter is over the daily invite limit; the
	// rewards wait until the inviter verifies a phone (step-up).
	FlagInviterDaily = "inviter_daily_cap"
	// FlagSharedDevice: more invitees than the rule allows came from the
	// invitee's device.
	FlagSharedDevice = "shared_device"
	// FlagEmulator: the invitee's client is an emulator or developer tools.
	FlagEmulator = "emulator"
)

// Attempt is one redemption as anti-fraud sees it. It carries no address
// or device id in the clear: the caller hashes them with a keyed hash.
type Attempt struct {
	Inviter  string // The member who owns the code; "" for an operator's or enterprise code.
	Invitee  string // The member redeeming; required.
	Client   string // Keyed hash of the client address; "" when unknown (a server push).
	Device   string // Keyed hash of the device id; "" when unknown.
	Platform string // The client's platform (wx.getSystemInfo's platform), "" when unknown.
	// At is when: the present by the caller's clock, or zero for the
	// service's. The counters live for their window from At.
	At time.Time
}

// Verdict is what anti-fraud says of an Attempt.
type Verdict struct {
	// Refuse: the redemption must not happen; Reason says why
	// (ReasonIPFrozen, ReasonIPRate) and FrozenUntil when the address may
	// redeem again.
	Refuse      bool
	Reason      string
	FrozenUntil time.Time
	// Hold: the redemption binds, but its rewards wait: for the inviter's
	// phone verification when StepUp, for an operator's review when Flags
	// holds anything else.
	Hold   bool
	StepUp bool
	Flags  []string
	// Mutations are the counter adds and markers the redemption writes in
	// its own atomic write (none for a refusal). A write that fails on one
	// of their conditions lost a race: assess again (or, when IsRateKey
	// names the failed key, call FreezeAfter). They are at most
	// MaxMutations, on keys of their own (Owns).
	Mutations []store.Mutation
}

// MaxMutations is the most mutations a Verdict carries: the address's,
// the inviter's and the hour's counts, the device's count and invitee
// marker, and the hour's alert.
const MaxMutations = 6

// Review reports whether the rewards wait for an operator: a flag other
// than the inviter's daily limit (which the inviter's phone verification
// lifts) holds them.
func (v Verdict) Review() bool {
	for _, f := range v.Flags {
		if f != FlagInviterDaily {
			return true
		}
	}
	return false
}

// Key prefixes.
const (
	clientPrefix  = "fraud#client#"
	inviterPrefix = "fraud#inviter#"
	devicePrefix  = "fraud#device#"
	spikePrefix   = "fraud#spike#"
	alertPK       = "fraud#alert"
	freezesPK     = "fraud#freezes"
	freezeDuePK   = "fraud#freeze-due"
	trustedPK     = "fraud#trusted"
	rulesPK       = "rules#fraud"
	hourSK        = "hour#"
)

// hourLayout is an hour in keys: yyyymmddhh, China time.
const hourLayout = "2006010215"

// hourOf is the China-time hour of t and the instant it ends.
func hourOf(t time.Time) (string, time.Time) {
	start := t.In(calendar.Zone()).Truncate(time.Hour)
	return start.Format(hourLayout), start.Add(time.Hour)
}

// dayOf is the China-time day of t and the instant it ends.
func dayOf(t time.Time) (string, time.Time) {
	return calendar.Day(t), calendar.Midnight(t).AddDate(0, 0, 1)
}

// grace keeps a window's counter a while after the window, so that a
// store whose clock runs ahead of the caller's does not drop it early.
const grace = time.Hour

func freezeKey(client string) store.Key { return store.K(clientPrefix+client, "freeze") }

func ipKey(client, hour string) store.Key { return store.K(clientPrefix+client, hourSK+hour) }

func inviterDayKey(inviter, day string) store.Key {
	return store.K(inviterPrefix+inviter, "day#"+day)
}

func trustKey(member string) store.Key { return store.K(inviterPrefix+member, "trusted") }

func deviceCountKey(device string) store.Key { return store.K(devicePrefix+device, "count") }

func deviceInviteeKey(device, invitee string) store.Key {
	return store.K(devicePrefix+device, "invitee#"+invitee)
}

func alertKey(hour string) store.Key { return store.K(alertPK, hour) }

func freezeListKey(client string) store.Key { return store.K(freezesPK, client) }

func freezeDueKey(until time.Time, client string) store.Key {
	return store.K(freezeDuePK, dueSK(until)+"#"+client)
}

// dueSK is an instant as a sort key that orders like time: Unix seconds,
// zero-padded.
func dueSK(t time.Time) string {
	s := strconv.FormatInt(t.Unix(), 10)
	return strings.Repeat("0", max(0, 12-len(s))) + s
}

func trustListKey(member string) store.Key { return store.K(trustedPK, member) }

// IsRateKey reports whether k is an address's hourly counter: a
// redemption write that failed its condition on such a key was over the
// address's hourly rate, and the caller refuses it through FreezeAfter.
func IsRateKey(k store.Key) bool {
	return strings.HasPrefix(k.PK, clientPrefix) && strings.HasPrefix(k.SK, hourSK)
}

// Owns reports whether k is one of this package's keys: a redemption
// write that failed its condition on such a key lost a race on a counter
// or marker and should assess again.
func Owns(k store.Key) bool { return strings.HasPrefix(k.PK, "fraud#") }
