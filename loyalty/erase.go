package loyalty

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// ForgetText clears the free text of a customer's points ledger, in which the customer could
// be named (§11, erasure): each transaction's description (a bonus's or an adjustment's
// reason, a redemption's description). Points, balances, references and the metadata the
// service writes (ids and amounts) stay, for accounting. It returns how many transactions it
// cleared.
func ForgetText(ctx context.Context, tx bun.Tx, org, customerID uuid.UUID) (int64, error) {
	res, err := tx.NewRaw(`UPDATE loyalty_transactions AS t SET description = NULL
		FROM loyalty_accounts AS la
		WHERE t.organization_id = ?0 AND la.organization_id = ?0 AND la.customer_id = ?1
		  AND t.loyalty_account_id = la.loyalty_account_id AND t.description IS NOT NULL`, org, customerID).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("clear the points ledger's text: %w", err)
	}
	return res.RowsAffected()
}
