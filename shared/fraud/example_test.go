package fraud_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wemember/wemember/shared/bolt"
	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/fraud"
	"github.com/wemember/wemember/shared/store"
)

// A redemption command assesses the attempt, writes the verdict's
// mutations in its own atomic write, and after a lost race assesses again.
// The 31st redemption from one address in an hour is refused and the
// address frozen.
func Example() {
	dir, _ := os.MkdirTemp("", "fraud")
	defer os.RemoveAll(dir)
	now := func() time.Time { return time.Date(2031, 3, 10, 2, 0, 0, 0, time.UTC) }
	st, _ := bolt.Open(filepath.Join(dir, "fraud.db"), bolt.WithClock(now))
	defer st.Close()
	ctx := context.Background()
	svc := fraud.New(st, now)

	redeem := func(a fraud.Attempt) (fraud.Verdict, error) {
		for range 5 {
			v, err := svc.Assess(ctx, a)
			if err != nil || v.Refuse {
				return v, err
			}
			binding := store.Put(store.K("binding#"+a.Invitee, "inviter"), []byte(a.Inviter)).IfAbsent()
			err = st.Write(ctx, append([]store.Mutation{binding}, v.Mutations...)...)
			k, lost := store.FailedKey(err)
			switch {
			case err == nil:
				return v, nil
			case lost && fraud.IsRateKey(k):
				return svc.FreezeAfter(ctx, a)
			case !lost || !fraud.Owns(k):
				return v, err
			}
		}
		return fraud.Verdict{}, errs.E(errs.Transient, "contended")
	}
	for i := 1; i <= 31; i++ {
		v, err := redeem(fraud.Attempt{Inviter: "alice", Invitee: fmt.Sprint("m", i), Client: "hash-of-ip"})
		if err != nil {
			fmt.Println(err)
			return
		}
		switch i {
		case 5, 6, 30, 31:
			fmt.Printf("%d: refuse=%v %q step-up=%v flags=%v\n", i, v.Refuse, v.Reason, v.StepUp, v.Flags)
		}
	}
	// Output:
	// 5: refuse=false "" step-up=false flags=[]
	// 6: refuse=false "" step-up=true flags=[inviter_daily_cap]
	// 30: refuse=false "" step-up=true flags=[inviter_daily_cap]
	// 31: refuse=true "ip_rate" step-up=false flags=[]
}
