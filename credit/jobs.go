package credit

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/db"
)

// OverdueResult is what one run of MarkOverdue did.
type OverdueResult struct {
	Organizations int   // organizations visited
	Marked        int64 // usages marked overdue, in all
}

// markOverdueSQL marks the organization's pending usages past their due date, in one
// statement. Rows are locked in id order, as payments lock them, so the job and a
// concurrent payment never deadlock; a usage a payment has just paid is skipped because
// the WHERE is re-checked on the row's latest version.
const markOverdueSQL = `
WITH due AS (
  SELECT usage_id FROM credit_usage
  WHERE organization_id = ?0 AND status = 'pending' AND due_date < ` + today + `
  ORDER BY usage_id
  FOR UPDATE
)
UPDATE credit_usage AS cu SET status = 'overdue'
FROM due
WHERE cu.organization_id = ?0 AND cu.usage_id = due.usage_id AND cu.status = 'pending'`

// MarkOverdue is the daily job of §5: in every organization (each in its own transaction
// with the organization set, so row-level security applies as to any request), pending
// usages whose due date has passed become overdue. Set-based and idempotent: a second run
// the same day marks nothing. Reads never depend on it (an unpaid usage past due already
// reads as overdue); the job makes the stored status catch up. It writes no audit rows: it
// has no actor and derives the status from the due date alone.
func MarkOverdue(ctx context.Context, pool bun.IDB) (OverdueResult, error) {
	var out OverdueResult
	orgs, err := db.Organizations(ctx, pool)
	if err != nil {
		return out, fmt.Errorf("list organizations: %w", err)
	}
	for _, o := range orgs {
		org, err := uuid.Parse(o)
		if err != nil {
			return out, fmt.Errorf("organization id %q: %w", o, err)
		}
		n, err := MarkOverdueFor(ctx, pool, org)
		if err != nil {
			return out, err
		}
		out.Marked += n
		out.Organizations++
	}
	return out, nil
}

// MarkOverdueFor runs MarkOverdue for one organization (the CLI's --org).
func MarkOverdueFor(ctx context.Context, pool bun.IDB, org uuid.UUID) (marked int64, err error) {
	err = db.InOrg(ctx, pool, org, false, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, markOverdueSQL, org)
		if err != nil {
			return err
		}
		marked, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("mark overdue usages of organization %s: %w", org, err)
	}
	return marked, nil
}
