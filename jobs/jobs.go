// Package jobs runs the daily work of specification §10 for each organization: points expiry and
// tier re-evaluation (§4), overdue marking (§5) and the nightly RFM recalculation (§6). Each
// step is set-based SQL in a transaction of its organization, safe to run twice and safe
// when two processes run it at once (the steps lock per organization).
//
// It also owns their schedule: the Scheduler that `serve` runs, which runs each job once
// per daily slot across every replica (job_runs claims), its metrics, and the Service that
// reads the last runs for the API. `jobs run` (Run) runs them by hand, without a claim.
package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/credit"
	"customerservice/db"
	"customerservice/loyalty"
	"customerservice/segments"
)

// OrgResult is what one organization's run did.
type OrgResult struct {
	Organization    uuid.UUID
	Loyalty         loyalty.JobCounts
	OverdueMarked   int64
	CustomersScored int // customers with a segment after the recalculation
}

// Run runs every job for the organizations (all of them when orgs is empty), reporting each
// organization as it finishes.
func Run(ctx context.Context, pool bun.IDB, now time.Time, orgs []uuid.UUID, progress func(done, total int, r OrgResult)) error {
	if len(orgs) == 0 {
		all, err := db.Organizations(ctx, pool)
		if err != nil {
			return fmt.Errorf("list organizations: %w", err)
		}
		for _, o := range all {
			id, err := uuid.Parse(o)
			if err != nil {
				return fmt.Errorf("organization id %q: %w", o, err)
			}
			orgs = append(orgs, id)
		}
	}
	for i, org := range orgs {
		r, err := RunFor(ctx, pool, org, now)
		if err != nil {
			return err
		}
		if progress != nil {
			progress(i+1, len(orgs), r)
		}
	}
	return nil
}

// RunFor runs every job for one organization.
func RunFor(ctx context.Context, pool bun.IDB, org uuid.UUID, now time.Time) (OrgResult, error) {
	r := OrgResult{Organization: org}
	var err error
	if r.Loyalty, err = loyalty.RunJobsFor(ctx, pool, org, now); err != nil {
		return r, fmt.Errorf("loyalty jobs of %s: %w", org, err)
	}
	if r.OverdueMarked, err = credit.MarkOverdueFor(ctx, pool, org); err != nil {
		return r, err
	}
	res, err := segments.RecalculateOrg(ctx, pool, org)
	if err != nil {
		return r, fmt.Errorf("segments of %s: %w", org, err)
	}
	r.CustomersScored = res.Scored
	return r, nil
}
