package credit

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"customerservice/audit"
	"customerservice/auth"
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
// the WHERE is re-checked on the row's latest version. Each marked usage leaves an audit
// row `credit.overdue` on its account by SYSTEM (§12), from what the statement returns.
const markOverdueSQL = `
WITH due AS (
  SELECT usage_id FROM credit_usage
  WHERE organization_id = ?0 AND status = 'pending' AND due_date < ` + today + `
  ORDER BY usage_id
  FOR UPDATE
)
UPDATE credit_usage AS cu SET status = 'overdue'
FROM due
WHERE cu.organization_id = ?0 AND cu.usage_id = due.usage_id AND cu.status = 'pending'
RETURNING cu.credit_account_id, cu.usage_id, cu.order_id, cu.amount - cu.amount_paid AS outstanding, cu.due_date`

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
		var rows []struct {
			AccountID   uuid.UUID       `bun:"credit_account_id"`
			UsageID     uuid.UUID       `bun:"usage_id"`
			OrderID     string          `bun:"order_id"`
			Outstanding decimal.Decimal `bun:"outstanding"`
			DueDate     time.Time       `bun:"due_date"`
		}
		if err := tx.NewRaw(markOverdueSQL, org).Scan(ctx, &rows); err != nil {
			return err
		}
		entries := make([]audit.Entry, len(rows))
		for i, r := range rows {
			entries[i] = audit.Entry{Action: OverdueAction, EntityType: "credit_account", EntityID: r.AccountID, ChangedFields: []string{"status"},
				Details: map[string]any{"usage_id": r.UsageID, "order_id": r.OrderID, "outstanding": money(r.Outstanding), "due_date": r.DueDate.Format(time.DateOnly)}}
		}
		marked = int64(len(rows))
		return audit.RecordAll(ctx, tx, auth.Principal{UserID: auth.System, OrganizationID: org}, entries)
	})
	if err != nil {
		return 0, fmt.Errorf("mark overdue usages of organization %s: %w", org, err)
	}
	return marked, nil
}
