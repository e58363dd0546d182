package store

import (
	"hash/fnv"
	"strconv"
)

// Shards is how many partitions a busy day index is spread over. One
// DynamoDB partition takes about 1,000 write units a second; year-end point
// expiry puts a whole year's lots on one day, so a day's due items and a
// day's activity are written to Shards partitions chosen by a hash of an id
// (the member's for the loyalty and activity indexes, the coupon's for the
// coupon one), and a reader walks every shard of the day.
const Shards = 16

// Sharded is the partition of pk that the item named id lives in: pk with a
// "#s" and the shard's number appended, the shard a hash of id. The same id
// always lands in the same shard, so an item is found where it was written.
func Sharded(pk, id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return ShardPK(pk, int(h.Sum32()%Shards))
}

// ShardPK is shard n (0 ≤ n < Shards) of pk.
func ShardPK(pk string, n int) string {
	return pk + "#s" + strconv.Itoa(n)
}

// ShardPKs lists every shard of pk in order, for a reader that walks them
// all.
func ShardPKs(pk string) []string {
	pks := make([]string, Shards)
	for n := range pks {
		pks[n] = ShardPK(pk, n)
	}
	return pks
}
