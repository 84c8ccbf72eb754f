package segments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/db"
)

// RecalculateOrg recomputes one organization now, in its own transaction: the CLI's
// `segments recalc --org UUID`, audited by SYSTEM (§12).
func RecalculateOrg(ctx context.Context, pool bun.IDB, org uuid.UUID) (*Result, error) {
	var res *Result
	err := db.InOrg(ctx, pool, org, false, func(ctx context.Context, tx bun.Tx) error {
		var err error
		res, err = RecalculateAsSystem(ctx, tx, org, time.Now())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("organization %s: %w", org, err)
	}
	return res, nil
}

// RecalculateAll recomputes every organization, one transaction each (the nightly job and
// `segments recalc --all`). progress, when not nil, is called with (0, total) before the
// first organization and (done, total) after each one, for a progress bar. One
// organization's failure does not stop the others; the failures come back joined.
func RecalculateAll(ctx context.Context, pool bun.IDB, progress func(done, total int)) error {
	orgs, err := db.Organizations(ctx, pool)
	if err != nil {
		return fmt.Errorf("list organizations: %w", err)
	}
	if progress == nil {
		progress = func(int, int) {}
	}
	progress(0, len(orgs))
	var errs []error
	for i, id := range orgs {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		org, err := uuid.Parse(id)
		if err == nil {
			_, err = RecalculateOrg(ctx, pool, org)
		}
		if err != nil {
			errs = append(errs, err)
		}
		progress(i+1, len(orgs))
	}
	return errors.Join(errs...)
}
