package credit

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"customerservice/auth"
	"customerservice/db"
	"customerservice/timeline"
)

// OverdueResult is what one run of MarkOverdue did.
type OverdueResult struct {
	Organizations int   // organizations visited
	Marked        int64 // usages marked overdue, in all
}

// markOverdueSQL marks the organization's pending usages past their due date, in one
// statement. Rows are locked in id order, as payments lock them, so the job and a
// concurrent payment never deadlock; a usage a payment has just paid is skipped because
// the WHERE is re-checked on the row's latest version. Each marked usage leaves an audit
// row `credit.overdue` on its account by SYSTEM (§12), in the same statement.
const markOverdueSQL = `
WITH due AS (
  SELECT usage_id FROM credit_usage
  WHERE organization_id = ?0 AND status = 'pending' AND due_date < ` + today + `
  ORDER BY usage_id
  FOR UPDATE
), marked AS (
  UPDATE credit_usage AS cu SET status = 'overdue'
  FROM due
  WHERE cu.organization_id = ?0 AND cu.usage_id = due.usage_id AND cu.status = 'pending'
  RETURNING cu.credit_account_id, cu.usage_id, cu.order_id, cu.amount - cu.amount_paid AS outstanding, cu.due_date
), audited AS (
  INSERT INTO audit_log (organization_id, actor_id, action, entity_type, entity_id, changed_fields, details)
  SELECT ?0, ?1::uuid, '` + OverdueAction + `', 'credit_account', credit_account_id, '{status}',
    jsonb_build_object('usage_id', usage_id, 'order_id', order_id, 'outstanding', outstanding::text, 'due_date', due_date)
  FROM marked
  RETURNING audit_id
)
SELECT count(*), (SELECT COALESCE(array_agg(audit_id), '{}') FROM audited) FROM marked`

// OverdueAction is the audit action of a usage the daily job marked overdue.
const OverdueAction = "credit.overdue"

// MarkOverdue is the daily job of §5: in every organization (each in its own transaction
// with the organization set, so row-level security applies as to any request), pending
// usages whose due date has passed become overdue. Set-based and idempotent: a second run
// the same day marks nothing. Reads never depend on it (an unpaid usage past due already
// reads as overdue); the job makes the stored status catch up, audited by SYSTEM.
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
		var auditIDs []int64
		if err := tx.QueryRowContext(ctx, markOverdueSQL, org, auth.System).Scan(&marked, pgdialect.Array(&auditIDs)); err != nil {
			return err
		}
		timeline.PublishAudits(ctx, auditIDs)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("mark overdue usages of organization %s: %w", org, err)
	}
	return marked, nil
}
