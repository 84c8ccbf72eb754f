package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"customerservice/config"
	"customerservice/jobs"
)

// runJobs runs the daily jobs once, printing a line per organization as it finishes.
func runJobs(ctx context.Context, cfg config.Config, args []string) error {
	if err := help(args); err != nil {
		return err
	}
	if len(args) == 0 || args[0] != "run" {
		return errors.New("usage: customer-service jobs run [--org UUID]")
	}
	fs := newFlags("jobs run")
	orgFlag := fs.String("org", "", "only this organization (default: every organization)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	orgs, err := orgsFlag(*orgFlag)
	if err != nil {
		return err
	}
	pool, closePool, err := appPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer closePool()
	start := time.Now()
	visited := 0
	err = jobs.Run(ctx, pool, start, orgs, func(done, total int, r jobs.OrgResult) {
		visited = done
		fmt.Fprintf(os.Stderr, "[%d/%d] %s: %d points expired in %d accounts, %d tiers changed of %d due, %d charges now overdue, %d customers segmented\n",
			done, total, r.Organization, r.Loyalty.ExpiredPoints, r.Loyalty.ExpiredAccounts, r.Loyalty.TiersChanged,
			r.Loyalty.TiersEvaluated, r.OverdueMarked, r.CustomersScored)
	})
	if err != nil {
		return err
	}
	if visited == 0 {
		fmt.Fprintln(os.Stderr, "no organization registered (an organization is registered with its first customer)")
	}
	fmt.Fprintf(os.Stderr, "jobs done in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}
