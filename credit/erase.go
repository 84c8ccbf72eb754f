package credit

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// ForgetText clears the free text of a customer's credit account, in which the customer
// could be named (§11, erasure): approval notes, suspension and cancellation reasons. Limits,
// amounts and dates stay, for accounting. It reports whether there was any.
func ForgetText(ctx context.Context, tx bun.Tx, org, customerID uuid.UUID) (bool, error) {
	res, err := tx.NewRaw(`UPDATE credit_accounts SET approval_notes = NULL, suspension_reason = NULL, cancellation_reason = NULL
		WHERE organization_id = ? AND customer_id = ?
		  AND (approval_notes IS NOT NULL OR suspension_reason IS NOT NULL OR cancellation_reason IS NOT NULL)`, org, customerID).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("clear the credit account's text: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
