package coupons

import (
	"fmt"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/member"
	"github.com/wemember/wemember/shared/store"
)

// The partitions and sort keys this package owns (see the package comment).
const (
	tplPK       = "ctpl#all"
	dueCursorPK = "due#coupon#cursor"
	listPrefix  = "coupon#c#"
	takePrefix  = "coupon#n#"
	dayLayout   = calendar.DayLayout // The due index's days are UTC days.
)

func tplKey(id string) store.Key { return store.K(tplPK, "tpl#"+id) }

func tplVersionKey(id string, v int64) store.Key {
	return store.K("ctpl#"+id, fmt.Sprintf("v#%010d", v))
}

func stockKey(id string, shard int) store.Key {
	return store.K("ctpl#"+id, fmt.Sprintf("stock#%03d", shard))
}

func instKey(id string) store.Key { return store.K("coupon#"+id, "coupon") }

// memberPK is the member's partition, which package member owns.
func memberPK(id string) string { return member.Partition(id) }

// rank orders a member's listing: available first, then used, expired,
// revoked.
func rank(st Status) int {
	switch st {
	case Available:
		return 1
	case Used:
		return 2
	case Expired:
		return 3
	default:
		return 4
	}
}

func statusPrefix(st Status) string { return fmt.Sprintf("%s%d#", listPrefix, rank(st)) }

func listKey(in Instance) store.Key {
	return store.K(memberPK(in.MemberID),
		fmt.Sprintf("%s%010d#%s", statusPrefix(in.Status), in.ValidTo.Unix(), in.ID))
}

func takeKey(member, tpl string) store.Key { return store.K(memberPK(member), takePrefix+tpl) }

func idemKey(key string) store.Key { return store.K("idem#coupon#"+key, "idem") }

func duePK(day string) string { return "due#coupon#" + day }

func dueDay(t time.Time) string { return t.UTC().Format(dayLayout) }

func dueSK(validTo time.Time, id string) string {
	return fmt.Sprintf("%010d#%s", validTo.Unix(), id)
}

// dueKey is the due index item of an available coupon: in the day its
// validity ends, in the shard of that day its id picks.
func dueKey(in Instance) store.Key {
	return store.K(store.Sharded(duePK(dueDay(in.ValidTo)), in.ID), dueSK(in.ValidTo, in.ID))
}

// dayDueKey is where earlier releases put a coupon's due item: in the day's
// own, unsharded partition. Readers still walk it, so those items are
// settled like any other.
func dayDueKey(in Instance) store.Key {
	return store.K(duePK(dueDay(in.ValidTo)), dueSK(in.ValidTo, in.ID))
}

// duePartitions lists every partition of a due day that may hold items: the
// day's own, then its shards.
func duePartitions(day string) []string {
	return append([]string{duePK(day)}, store.ShardPKs(duePK(day))...)
}

func cursorKey() store.Key { return store.K(dueCursorPK, "cursor") }
