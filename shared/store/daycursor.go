package store

import (
	"context"

	"github.com/wemember/wemember/shared/errs"
)

// DayCursor is a sweep's stored position: the first day (yyyymmdd) whose
// partitions it still reads.
type DayCursor struct {
	Day string `json:"day"`
}

// AdvanceDay stores day as the cursor at k, read at version ver with the
// day from, if day is past from — unless an overlapping run moved it at
// least as far meanwhile: the days it read are settled either way. It
// writes on a detached context, so a run cut off by its deadline still
// saves how far it got. A cursor contended five times is errs.Transient.
func AdvanceDay(ctx context.Context, st Store, k Key, from, day string, ver int64) error {
	const op = "store.AdvanceDay"
	if day <= from {
		return nil
	}
	ctx, cancel := Detach(ctx)
	defer cancel()
	for range 5 {
		err := st.Write(ctx, PutJSON(k, DayCursor{Day: day}).IfVersion(ver))
		if err == nil {
			return nil
		}
		if !errs.Is(errs.Conflict, err) {
			return errs.E(op, err)
		}
		var cur DayCursor
		it, err := GetJSON(ctx, st, k, &cur)
		if err != nil {
			return errs.E(op, err)
		}
		if cur.Day >= day {
			return nil
		}
		ver = it.Version
	}
	return errs.E(op, errs.Transient, "cursor "+k.String()+" is contended")
}
