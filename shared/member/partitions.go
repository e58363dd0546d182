package member

import "github.com/wemember/wemember/shared/store"

// ActivePartitions lists the activity index partitions of a day (yyyymmdd
// in Asia/Shanghai): first the day's own partition, where earlier releases
// put its members, then the day's shards, where a member's id puts it now.
// Their items' sort keys are the ids of the members whose last activity was
// that day. Members that are archived, or imported and not yet claimed, are
// in no partition.
func (s *Service) ActivePartitions(day string) []string {
	return append([]string{activePK(day)}, store.ShardPKs(activePK(day))...)
}

func activePK(day string) string { return "active#" + day }
