package credit

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"customerservice/apperr"
	"customerservice/db"
	"customerservice/models"
)

// §10 merge: the credit part.

// MovedAccount is the credit account the survivor holds after a merge: whose it was, what
// came with it when it moved (its usages and payments, which belong to the account), and
// how many other accounts stayed with their merged customers.
type MovedAccount struct {
	AccountID      uuid.UUID       `json:"accountId"`
	FromCustomerID uuid.UUID       `json:"fromCustomerId"`
	Moved          bool            `json:"moved"`
	UsagesMoved    int             `json:"usagesMoved"`
	PaymentsMoved  int             `json:"paymentsMoved"`
	CreditLimit    decimal.Decimal `json:"creditLimit"`
	CreditUsed     decimal.Decimal `json:"creditUsed"`
	AccountsLeft   int             `json:"accountsLeft"`
}

// MoveForMerge gives the survivor the credit account of the merge (§10), in the caller's
// transaction, whose customers are locked; the accounts are locked in the order of their
// ids. Money outstanding follows the person:
//
//   - no account: nil;
//   - money outstanding (credit used) on two accounts: INVALID_STATE — two debts with their
//     own limits and terms are not one, and someone must settle one first;
//   - the survivor has an account: it keeps it. A merged customer's account with money
//     outstanding would have to replace it: INVALID_STATE (merge into that customer
//     instead). Accounts with nothing outstanding stay, as they are, with their merged
//     customers (AccountsLeft);
//   - the survivor has none: the account with money outstanding, else the one with the
//     smallest id, moves to it with its usages and payments (one UPDATE of the account's
//     customer: they belong to the account); the others stay.
func MoveForMerge(ctx context.Context, tx bun.Tx, survivorID uuid.UUID, mergedIDs []uuid.UUID) (*MovedAccount, error) {
	org := db.Org(ctx)
	var accs []models.CreditAccount
	if err := tx.NewSelect().Model(&accs).Where("ca.organization_id = ?", org).
		Where("ca.customer_id = ANY(?)", pgdialect.Array(append([]uuid.UUID{survivorID}, mergedIDs...))).
		OrderExpr("ca.credit_account_id").For("UPDATE").Scan(ctx); err != nil {
		return nil, fmt.Errorf("lock credit accounts: %w", err)
	}
	if len(accs) == 0 {
		return nil, nil
	}
	keep, owing := -1, -1
	for i, a := range accs {
		if a.CreditUsed.IsPositive() {
			if owing >= 0 {
				return nil, apperr.OnField(apperr.InvalidState, []string{"mergedIds"},
					"two of the customers owe money on their credit accounts: settle one first")
			}
			owing = i
		}
		if a.CustomerID == survivorID {
			keep = i
		}
	}
	switch {
	case keep >= 0 && owing >= 0 && owing != keep:
		return nil, apperr.OnField(apperr.InvalidState, []string{"mergedIds"},
			"the survivor has a credit account and customer %s owes money on another: merge into that customer instead", accs[owing].CustomerID)
	case keep < 0 && owing >= 0:
		keep = owing
	case keep < 0:
		keep = 0
	}
	a := accs[keep]
	out := &MovedAccount{AccountID: a.ID, FromCustomerID: a.CustomerID, CreditLimit: a.CreditLimit, CreditUsed: a.CreditUsed,
		AccountsLeft: len(accs) - 1}
	if a.CustomerID == survivorID {
		return out, nil
	}
	out.Moved = true
	if _, err := tx.NewUpdate().Model((*models.CreditAccount)(nil)).Set("customer_id = ?", survivorID).
		Where("ca.organization_id = ?", org).Where("ca.credit_account_id = ?", a.ID).Exec(ctx); err != nil {
		return nil, fmt.Errorf("move credit account: %w", err)
	}
	if err := tx.NewRaw(`SELECT
			(SELECT count(*) FROM credit_usage WHERE organization_id = ?0 AND credit_account_id = ?1)::int,
			(SELECT count(*) FROM credit_payments WHERE organization_id = ?0 AND credit_account_id = ?1)::int`,
		org, a.ID).Scan(ctx, &out.UsagesMoved, &out.PaymentsMoved); err != nil {
		return nil, fmt.Errorf("count credit ledger: %w", err)
	}
	return out, nil
}
