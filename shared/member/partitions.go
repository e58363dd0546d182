package member

// ActivePartition is the activity index partition of a day (yyyymmdd in
// Asia/Shanghai): its items' sort keys are the ids of the members whose last
// activity was that day. Members that are archived, or imported and not yet
// claimed, are in no partition.
func (s *Service) ActivePartition(day string) string { return activePK(day) }

func activePK(day string) string { return "active#" + day }
