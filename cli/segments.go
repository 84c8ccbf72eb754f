package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"

	"customerservice/config"
	"customerservice/internal/progress"
	"customerservice/segments"
)

// recalcSegments recalculates the RFM segments of one or every organization, with progress.
func recalcSegments(ctx context.Context, cfg config.Config, args []string) error {
	if err := help(args); err != nil {
		return err
	}
	if len(args) == 0 || args[0] != "recalc" {
		return errors.New("usage: customer-service segments recalc [--org UUID | --all]")
	}
	fs := newFlags("segments recalc")
	orgFlag := fs.String("org", "", "only this organization")
	all := fs.Bool("all", false, "every organization")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if (*orgFlag == "") == !*all {
		return errors.New("give exactly one of --org UUID or --all")
	}
	pool, closePool, err := appPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer closePool()
	start := time.Now()
	if *all {
		bar := progress.New(os.Stderr, -1, "organizations")
		err = segments.RecalculateAll(ctx, pool, func(done, total int) {
			bar.ChangeMax(total)
			bar.Set(done) //nolint:errcheck // progress display only
		})
		bar.Finish() //nolint:errcheck
	} else {
		var orgs []uuid.UUID
		if orgs, err = orgsFlag(*orgFlag); err == nil {
			var res *segments.Result
			if res, err = segments.RecalculateOrg(ctx, pool, orgs[0]); err == nil {
				fmt.Fprintf(os.Stderr, "%s: %d customers segmented %v\n", orgs[0], res.Scored, res.BySegment)
			}
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "segments recalculated in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}
