package store_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/wemember/wemember/shared/store"
)

func TestShardedSpreadsAndStays(t *testing.T) {
	pks := store.ShardPKs("due#points#20261231")
	if len(pks) != store.Shards || pks[0] != "due#points#20261231#s0" {
		t.Fatalf("ShardPKs = %v", pks)
	}
	used := map[string]int{}
	for i := range 1600 {
		id := fmt.Sprintf("m%06d", i)
		pk := store.Sharded("due#points#20261231", id)
		if pk != store.Sharded("due#points#20261231", id) {
			t.Fatalf("Sharded(%q) is not stable", id)
		}
		if !slices.Contains(pks, pk) {
			t.Fatalf("Sharded(%q) = %q, not one of ShardPKs", id, pk)
		}
		used[pk]++
	}
	for _, pk := range pks {
		if n := used[pk]; n < 50 || n > 150 {
			t.Errorf("shard %s holds %d of 1600 ids; want about 100", pk, n)
		}
	}
}
