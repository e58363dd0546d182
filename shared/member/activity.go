package member

import (
	"context"
	"time"

	"github.com/wemember/wemember/shared/calendar"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/store"
)

// activeKey is the index item listing a member under the day of its last
// activity, so the archive sweep reads one partition per day instead of
// scanning members.
func activeKey(d, id string) store.Key { return store.K(activePK(d), id) }

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
// index day by day from where the last run stopped. An archived member is kept and restored on its next
// arrival. Each member is settled by one conditional write, so overlapping
// runs archive it once. It reports how many it archived and whether work
// remains (limit reached or ctx done).
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
	seen := 0
	for cur.Day <= cutoff {
		if ctx.Err() != nil || seen >= limit {
			return archived, true, nil
		}
		page, err := s.store.Query(ctx, store.Query{PK: "active#" + cur.Day, Limit: limit - seen})
		if err != nil {
			return archived, false, errs.E(op, err)
		}
		for _, it := range page.Items {
			seen++
			ok, err := s.archiveOne(ctx, it.SK, cur.Day)
			if err != nil {
				return archived, false, errs.E(op, err)
			}
			if ok {
				archived++
			}
		}
		if page.Next != "" {
			return archived, true, nil
		}
		if cur.Day, err = calendar.NextDay(cur.Day); err != nil {
			return archived, false, errs.E(op, errs.Internal, "archive cursor", err)
		}
		m := store.PutJSON(archiveCursorKey(), cur).IfVersion(cit.Version)
		err = s.store.Write(ctx, m)
		switch {
		case err == nil:
			cit.Version++
		case errs.Is(errs.Conflict, err):
			// An overlapping run saved the cursor first: go on from where
			// it left it (the days it read are settled either way).
			cur = archiveCursor{}
			if cit, err = store.GetJSON(ctx, s.store, archiveCursorKey(), &cur); err != nil {
				if ctx.Err() != nil {
					return archived, true, nil
				}
				return archived, false, errs.E(op, err)
			}
		default:
			return archived, false, errs.E(op, err)
		}
	}
	return archived, false, nil
}

// archiveOne settles one activity index item: archives the member if it is
// still inactive since that day, and drops the index item either way.
func (s *Service) archiveOne(ctx context.Context, id, d string) (bool, error) {
	var m Member
	it, err := store.GetJSON(ctx, s.store, profileKey(id), &m)
	if errs.Is(errs.NotExist, err) {
		return false, s.store.Write(ctx, store.Delete(activeKey(d, id)))
	}
	if err != nil {
		return false, err
	}
	drop := store.Delete(activeKey(d, id)).IfExists()
	if m.Status != Active || calendar.Day(m.ActiveAt) != d {
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
