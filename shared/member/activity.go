package member

import (
	"context"
	"sync"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/parallel"
	"github.com/wemember/wemember/shared/store"
)

// activeKey is the index item listing a member under the day of its last
// activity, in the shard of that day the member's id picks, so the archive
// sweep reads a day's partitions instead of scanning members.
func activeKey(d, id string) store.Key { return store.K(store.Sharded(activePK(d), id), id) }

// touch returns the mutations that move a member's activity index from its
// old activity day to now's.
func touch(m Member, now time.Time) []store.Mutation {
	if !m.ActiveAt.IsZero() && calendar.Day(m.ActiveAt) == calendar.Day(now) {
		return nil
	}
	ms := []store.Mutation{store.Put(activeKey(calendar.Day(now), m.ID), nil)}
	if !m.ActiveAt.IsZero() {
		ms = append(ms, store.Delete(activeKey(calendar.Day(m.ActiveAt), m.ID)))
	}
	return ms
}

func archiveCursorKey() store.Key { return store.K("cursor#member-archive", "cursor") }

type archiveCursor struct {
	Day string `json:"day"` // The next activity day to read.
}

// ArchiveInactive archives members whose last activity was
// Rules.ArchiveAfterDays or more days before now, reading the activity
// index day by day from where the last run stopped, a day's partitions in
// parallel. An archived member is kept and restored on its next arrival.
// A page of index items is settled in one atomic write, each archive
// conditioned on the member's version, so overlapping runs archive a member
// once; a page that loses such a race (the member arrived meanwhile, or
// another run settled it) is settled item by item instead. It reports how
// many it archived and whether work remains (limit reached or ctx done).
func (s *Service) ArchiveInactive(ctx context.Context, now time.Time, limit int) (archived int, more bool, err error) {
	const op = "member.ArchiveInactive"
	rules, err := s.Rules(ctx)
	if err != nil {
		return 0, false, errs.E(op, err)
	}
	cutoff := calendar.Day(now.AddDate(0, 0, -rules.ArchiveAfterDays))
	var cur archiveCursor
	cit, err := store.GetJSON(ctx, s.store, archiveCursorKey(), &cur)
	if errs.Is(errs.NotExist, err) {
		cur.Day = cutoff // Nothing is older than the first run's cutoff.
	} else if err != nil {
		return 0, false, errs.E(op, err)
	}
	a := &archiveWalk{s: s, limit: limit}
	day, more, err := a.days(ctx, cur.Day, cutoff)
	// However the run ends, even cut off by its deadline, the cursor moves
	// past the days it finished, so the next run does not read them again.
	if serr := store.AdvanceDay(ctx, s.store, archiveCursorKey(), cur.Day, day, cit.Version); err == nil {
		err = serr
	}
	if err != nil {
		if ctx.Err() != nil {
			return a.archived, true, nil
		}
		return a.archived, false, errs.E(op, err)
	}
	return a.archived, more, nil
}

// days settles the days from day through last in order, a day's
// partitions in parallel, and returns the first day not finished.
func (a *archiveWalk) days(ctx context.Context, day, last string) (string, bool, error) {
	for day <= last {
		if ctx.Err() != nil || a.room() == 0 {
			return day, true, nil
		}
		pks := a.s.ActivePartitions(day)
		drained := make([]bool, len(pks))
		err := parallel.Each(ctx, archiveWorkers, len(pks), func(ctx context.Context, i int) error {
			var err error
			drained[i], err = a.walk(ctx, pks[i], day)
			return err
		})
		if err != nil {
			return day, true, err
		}
		for _, d := range drained {
			if !d {
				return day, true, nil
			}
		}
		next, err := calendar.NextDay(day)
		if err != nil {
			return day, false, errs.E(errs.Internal, "archive cursor", err)
		}
		day = next
	}
	return day, false, nil
}

// archiveWorkers is how many activity partitions the archive sweep reads at
// once; archiveBatch how many index items one atomic write settles (two
// mutations each: the member and the index item).
const (
	archiveWorkers = 8
	archiveBatch   = store.MaxWrite / 2
)

// archiveWalk is one archive run's shared count.
type archiveWalk struct {
	s        *Service
	limit    int
	mu       sync.Mutex
	taken    int
	archived int
}

func (a *archiveWalk) room() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.limit - a.taken
}

// take takes on up to n more items within the limit and returns how many.
func (a *archiveWalk) take(n int) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n = min(n, a.limit-a.taken)
	a.taken += n
	return n
}

func (a *archiveWalk) add(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.archived += n
}

// walk settles one activity partition of day d a page at a time, reporting
// whether it read the partition to its end.
func (a *archiveWalk) walk(ctx context.Context, pk, d string) (bool, error) {
	after := ""
	for {
		room := a.room()
		if room == 0 {
			return false, nil
		}
		pg, err := a.s.store.Query(ctx, store.Query{PK: pk, After: after, Limit: min(archiveBatch, room)})
		if err != nil {
			return false, err
		}
		took := a.take(len(pg.Items))
		n, err := a.s.archiveBatch(ctx, pg.Items[:took], d)
		a.add(n)
		if err != nil || took < len(pg.Items) {
			return false, err
		}
		if pg.Next == "" {
			return true, nil
		}
		after = pg.Next
	}
}

// archiveBatch settles activity index items of day d in one atomic write:
// it archives each member still inactive since that day and drops every
// item. If a member changed since it was read, the write fails as a whole
// and each item is settled on its own instead.
func (s *Service) archiveBatch(ctx context.Context, items []store.Item, d string) (int, error) {
	if len(items) == 0 {
		return 0, nil
	}
	type read struct {
		m   Member
		ver int64
	}
	got := make([]read, len(items))
	err := parallel.Each(ctx, 8, len(items), func(ctx context.Context, i int) error {
		var m Member
		it, err := store.GetJSON(ctx, s.store, profileKey(items[i].SK), &m)
		if errs.Is(errs.NotExist, err) {
			return nil
		}
		got[i] = read{m: m, ver: it.Version}
		return err
	})
	if err != nil {
		return 0, err
	}
	var ms []store.Mutation
	archived := 0
	for i, it := range items {
		r := got[i]
		if r.ver == 0 || !inactiveSince(r.m, d) {
			ms = append(ms, store.Delete(it.Key))
			continue
		}
		r.m.Status = Archived
		ms = append(ms, store.PutJSON(profileKey(it.SK), r.m).IfVersion(r.ver), store.Delete(it.Key).IfExists())
		archived++
	}
	err = s.store.Write(ctx, ms...)
	if _, ok := store.FailedKey(err); !ok {
		if err != nil {
			return 0, err
		}
		return archived, nil
	}
	var mu sync.Mutex
	archived = 0
	err = parallel.Each(ctx, 8, len(items), func(ctx context.Context, i int) error {
		ok, err := s.archiveOne(ctx, items[i].Key, d)
		if ok {
			mu.Lock()
			archived++
			mu.Unlock()
		}
		return err
	})
	return archived, err
}

// inactiveSince reports whether m is to be archived by its activity index
// item of day d: it is active and its last activity was that day.
func inactiveSince(m Member, d string) bool {
	return m.Status == Active && calendar.Day(m.ActiveAt) == d
}

// archiveOne settles one activity index item: archives the member if it is
// still inactive since that day, and drops the index item either way.
func (s *Service) archiveOne(ctx context.Context, k store.Key, d string) (bool, error) {
	id := k.SK
	var m Member
	it, err := store.GetJSON(ctx, s.store, profileKey(id), &m)
	if errs.Is(errs.NotExist, err) {
		return false, s.store.Write(ctx, store.Delete(k))
	}
	if err != nil {
		return false, err
	}
	drop := store.Delete(k).IfExists()
	if !inactiveSince(m, d) {
		err := s.store.Write(ctx, drop)
		if errs.Is(errs.Conflict, err) {
			err = nil
		}
		return false, err
	}
	m.Status = Archived
	err = s.store.Write(ctx, store.PutJSON(profileKey(id), m).IfVersion(it.Version), drop)
	if errs.Is(errs.Conflict, err) {
		return false, nil // Active again meanwhile, or another run did it.
	}
	return err == nil, err
}
