package jobs

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/credit"
	"customerservice/db"
	"customerservice/loyalty"
	"customerservice/segments"
)

// Job is one scheduled job: what it does for one organization, as of now.
type Job struct {
	Name        string // as in job_runs, logs, metrics and the API
	Description string
	Run         func(ctx context.Context, pool bun.IDB, org uuid.UUID, now time.Time) (Summary, error)
}

// Summary is what a job did in one organization: Changed is the headline count (the
// records it changed), Details every count by name.
type Summary struct {
	Changed int            `json:"changed"`
	Details map[string]int `json:"details"`
}

// Daily are the jobs the scheduler runs every day, in this order (they are independent of
// each other: two replicas may run different ones at once).
var Daily = []Job{
	{
		Name:        "points_expiry",
		Description: "Vests pending points whose window has ended (one vest transaction per account, §13), then expires loyalty points 12 months after they were earned, oldest lots first, with one expire transaction per account (§4).",
		Run: func(ctx context.Context, pool bun.IDB, org uuid.UUID, now time.Time) (Summary, error) {
			// Vesting first: expiry takes only vested points, and a pending lot may be due for both.
			vested, vestedPoints, err := loyalty.VestPoints(ctx, pool, org, now)
			if err != nil {
				return Summary{}, err
			}
			accounts, points, err := loyalty.ExpirePoints(ctx, pool, org, now)
			return Summary{Changed: accounts + vested, Details: map[string]int{"expiredAccounts": accounts, "expiredPoints": points,
				"vestedAccounts": vested, "vestedPoints": vestedPoints}}, err
		},
	},
	{
		Name:        "tier_reevaluation",
		Description: "Re-evaluates the loyalty tiers whose term has ended, on the points earned in the qualification window (§4).",
		Run: func(ctx context.Context, pool bun.IDB, org uuid.UUID, now time.Time) (Summary, error) {
			evaluated, changed, err := loyalty.ReevaluateTiers(ctx, pool, org, now)
			return Summary{Changed: changed, Details: map[string]int{"tiersEvaluated": evaluated, "tiersChanged": changed}}, err
		},
	},
	{
		Name:        "overdue_credit",
		Description: "Marks unpaid credit charges past their due date overdue (§5).",
		Run: func(ctx context.Context, pool bun.IDB, org uuid.UUID, _ time.Time) (Summary, error) {
			marked, err := credit.MarkOverdueFor(ctx, pool, org)
			return Summary{Changed: int(marked), Details: map[string]int{"chargesMarkedOverdue": int(marked)}}, err
		},
	},
	{
		Name:        "rfm_segments",
		Description: "Recalculates every customer's RFM segment from the purchases of the lookback window (§6).",
		Run: func(ctx context.Context, pool bun.IDB, org uuid.UUID, now time.Time) (Summary, error) {
			var res *segments.Result
			err := db.InOrg(ctx, pool, org, false, func(ctx context.Context, tx bun.Tx) error {
				var err error
				res, err = segments.RecalculateAsSystem(ctx, tx, org, now)
				return err
			})
			if err != nil {
				return Summary{}, err
			}
			return Summary{Changed: res.Scored, Details: map[string]int{"customersScored": res.Scored, "segmentsRemoved": res.Removed}}, nil
		},
	},
}
