package bolt

// Commits is how many transactions s has committed writes in.
func Commits(s *Store) int64 {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return s.group.commits
}

// Queued is how many writes wait for the next commit.
func Queued(s *Store) int {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return len(s.group.queue)
}

// HoldNextCommit makes the next commit wait for release before it starts.
func HoldNextCommit(s *Store, release <-chan struct{}) {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	s.group.beforeCommit = func() {
		s.group.mu.Lock()
		s.group.beforeCommit = nil
		s.group.mu.Unlock()
		<-release
	}
}
