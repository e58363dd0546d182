package bolt

// Commits is how many group commits s has made.
func Commits(s *Store) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commits
}

// Queued is how many writes wait for the next commit.
func Queued(s *Store) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// HoldNextCommit makes the next commit wait for release before it starts.
func HoldNextCommit(s *Store, release <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beforeCommit = func() {
		s.mu.Lock()
		s.beforeCommit = nil
		s.mu.Unlock()
		<-release
	}
}
