package credit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"customerservice/apperr"
	"customerservice/audit"
	"customerservice/auth"
	"customerservice/db"
	"customerservice/models"
	"customerservice/timeline"
)

// Charge is an order charged to a customer's credit account.
type Charge struct {
	CustomerID uuid.UUID
	OrderID    string // the idempotency key, unique per account
	Amount     decimal.Decimal
}

// Charge charges an order to the customer's credit account (§5): only an approved account
// of an active customer; the amount is > 0 with at most two decimals and at most the credit
// available, else CREDIT_LIMIT_EXCEEDED naming what is available. The usage is due today +
// the account's term.
//
// credit_used rises through one conditional UPDATE (`credit_used + amount <= credit_limit
// AND status = 'approved'`) that PostgreSQL re-checks on the latest row version after
// waiting for a concurrent charge, so concurrent charges can never pass the limit.
//
// Retry-safe by orderId (§8): a charge whose orderId the account already has returns the
// original usage and changes nothing, whatever happened to the account since (it may be
// full or suspended by now); the same orderId with another amount is IDEMPOTENCY_CONFLICT.
// A replay writes no audit row: nothing changed.
func (s *Service) Charge(ctx context.Context, in Charge) (*models.CreditAccount, *models.CreditUsage, error) {
	if err := auth.Require(ctx, auth.Agent); err != nil {
		return nil, nil, err
	}
	var errs apperr.List
	if err := checkKey(in.OrderID, []string{"orderId"}); err != nil {
		errs = append(errs, err)
	}
	if err := checkAmount(in.Amount, []string{"amount"}); err != nil {
		errs = append(errs, err)
	}
	if err := errs.Err(); err != nil {
		return nil, nil, err
	}
	var (
		acc   *models.CreditAccount
		usage models.CreditUsage
	)
	err := s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		// FOR SHARE of the customer: a concurrent block (customers.SetStatus locks the row)
		// waits for this charge, and a charge after the block sees it.
		target, err := accountOfCustomer(ctx, tx, in.CustomerID, "SHARE OF c")
		if err != nil {
			return err
		}
		acc = &target.CreditAccount
		pol, _, err := policyOf(ctx, tx, false)
		if err != nil {
			return err
		}
		if refusal := Evaluate(target.facts(), pol, in.Amount).Refusal(); refusal != nil {
			if found, err := replayCharge(ctx, tx, acc.ID, in, &usage); found || err != nil {
				return err
			}
			return refusal
		}
		usage = models.CreditUsage{
			ID:              uuid.New(),
			OrganizationID:  p.OrganizationID,
			CreditAccountID: acc.ID,
			OrderID:         in.OrderID,
			Amount:          in.Amount,
			AmountPaid:      decimal.Zero,
			Status:          models.UsagePending,
			DueDate:         target.Today.AddDate(0, 0, acc.PaymentTermDays),
			ActorID:         auth.Actor(ctx),
		}
		res, err := tx.NewInsert().Model(&usage).On("CONFLICT (organization_id, credit_account_id, order_id) DO NOTHING").Returning("*").Exec(ctx)
		if err != nil {
			return fmt.Errorf("insert credit usage: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			// A concurrent charge of the same order committed first: this is its replay.
			found, err := replayCharge(ctx, tx, acc.ID, in, &usage)
			if err == nil && !found {
				err = errors.New("credit usage conflicted but cannot be read")
			}
			return err
		}
		timeline.Publish(ctx, timeline.ChargePrefix, usage.ID)
		// Audited before credit_used is raised: the account's row is then locked only for
		// the UPDATE and the commit, which is what bounds concurrent charges of one account.
		// A refused raise rolls the audit row back with the usage.
		if err := audit.Record(ctx, tx, p, audit.Entry{
			Action: "credit.charge", EntityType: "credit_account", EntityID: acc.ID,
			ChangedFields: []string{"credit_used"},
			Details: map[string]any{
				"usage_id": usage.ID, "order_id": usage.OrderID, "amount": money(usage.Amount),
				"due_date": usage.DueDate.Format(time.DateOnly),
			},
		}); err != nil {
			return err
		}
		acc, err = raiseCreditUsed(ctx, tx, target, pol, in.Amount)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return acc, &usage, nil
}

// raiseCreditUsed adds amount to credit_used only if the account is still approved and the
// limit still holds, as the database sees it now. When it does not, the account is read
// again and the refusal is the first blocking rule of its current state (Evaluate); should
// a concurrent payment or limit change have made room between the two statements, the
// update is tried again.
func raiseCreditUsed(ctx context.Context, tx bun.Tx, target *customerAccount, pol models.CreditPolicy, amount decimal.Decimal) (*models.CreditAccount, error) {
	for attempt := 0; ; attempt++ {
		var acc models.CreditAccount
		res, err := tx.NewUpdate().Model(&acc).
			Set("credit_used = ca.credit_used + ?", amount).
			Where("ca.organization_id = ?", target.OrganizationID).Where("ca.credit_account_id = ?", target.ID).
			Where("ca.status = ?", models.CreditStatusApproved).
			Where("ca.credit_used + ? <= ca.credit_limit", amount).
			Returning("*").Exec(ctx)
		if err != nil {
			return nil, fmt.Errorf("raise credit used: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return &acc, nil
		}
		if err := tx.NewSelect().Model(&acc).Where("ca.organization_id = ?", target.OrganizationID).
			Where("ca.credit_account_id = ?", target.ID).Scan(ctx); err != nil {
			return nil, fmt.Errorf("read credit account: %w", err)
		}
		now := *target
		now.CreditAccount = acc
		if refusal := Evaluate(now.facts(), pol, amount).Refusal(); refusal != nil || attempt == 2 {
			if refusal == nil {
				refusal = limitExceeded(amount, acc.CreditAvailable)
			}
			return nil, refusal
		}
	}
}

func limitExceeded(amount, available decimal.Decimal) error {
	return apperr.OnField(apperr.CreditLimitExceeded, []string{"amount"},
		"the charge of %s exceeds the credit available (%s)", money(amount), money(available))
}

// replayCharge looks for the account's usage of in.OrderID: found with the same amount, it
// is read into u (the original result); with another amount it is IDEMPOTENCY_CONFLICT.
func replayCharge(ctx context.Context, tx bun.Tx, accountID uuid.UUID, in Charge, u *models.CreditUsage) (bool, error) {
	err := selectUsages(ctx, tx, u).Where("cu.credit_account_id = ?", accountID).Where("cu.order_id = ?", in.OrderID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read credit usage: %w", err)
	}
	if !u.Amount.Equal(in.Amount) {
		return true, apperr.OnField(apperr.IdempotencyConflict, []string{"orderId"},
			"this order was already charged with %s; a retry must have the same amount", money(u.Amount))
	}
	return true, nil
}

// CancelUsage cancels a charge whose order was cancelled (§5): what is unpaid of it is
// released from credit_used; what was paid stays paid (amount_paid is kept, so payments
// still add up). A paid charge is INVALID_STATE. Allowed whatever the account's or
// customer's status: releasing never adds risk.
//
// Retry-safe by the usage's id (§13): cancelling a cancelled charge is a replay and answers
// the charge as cancelled and the account as it is now (not as the first cancellation left
// it: the spec's §8 Idempotency records this exception) — changing
// nothing and writing no audit row. The request holds nothing but the id, so no replay can
// differ from the original (there is no IDEMPOTENCY_CONFLICT to answer).
func (s *Service) CancelUsage(ctx context.Context, id uuid.UUID) (*models.CreditAccount, *models.CreditUsage, error) {
	if err := auth.Require(ctx, auth.Agent); err != nil {
		return nil, nil, err
	}
	var (
		acc   models.CreditAccount
		usage models.CreditUsage
	)
	err := s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		err := selectUsages(ctx, tx, &usage).Where("cu.usage_id = ?", id).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.OnField(apperr.NotFound, []string{"id"}, "no credit charge with this id")
		}
		if err != nil {
			return fmt.Errorf("read credit usage: %w", err)
		}
		// The account first, then the usage: the lock order of payments, so the two never
		// deadlock.
		if err := lockAccount(ctx, tx, usage.CreditAccountID, &acc); err != nil {
			return err
		}
		res, err := tx.NewUpdate().Model(&usage).
			Set("status = ?", models.UsageCancelled).Set("cancelled_at = now()").
			Where("cu.organization_id = ?", db.Org(ctx)).Where("cu.usage_id = ?", id).
			Where("cu.status IN (?)", bun.List([]models.CreditUsageStatus{models.UsagePending, models.UsageOverdue})).
			Returning("*").Exec(ctx)
		if err != nil {
			return fmt.Errorf("cancel credit usage: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if err := selectUsages(ctx, tx, &usage).Where("cu.usage_id = ?", id).Scan(ctx); err != nil {
				return fmt.Errorf("read credit usage: %w", err)
			}
			if usage.Status == models.UsageCancelled {
				return nil // a replay: the charge as cancelled, the account as it is now, no audit row
			}
			return apperr.OnField(apperr.InvalidState, []string{"id"},
				"the charge is %s; only an unpaid (PENDING or OVERDUE) charge can be cancelled", upper(usage.Status))
		}
		released := usage.Amount.Sub(usage.AmountPaid)
		if _, err := tx.NewUpdate().Model(&acc).Set("credit_used = ca.credit_used - ?", released).
			WherePK().Returning("*").Exec(ctx); err != nil {
			return fmt.Errorf("release credit used: %w", err)
		}
		return audit.Record(ctx, tx, p, audit.Entry{
			Action: "credit.cancel_usage", EntityType: "credit_account", EntityID: acc.ID,
			ChangedFields: []string{"credit_used"},
			Details: map[string]any{
				"usage_id": usage.ID, "order_id": usage.OrderID, "released": money(released),
			},
		})
	})
	if err != nil {
		return nil, nil, err
	}
	return &acc, &usage, nil
}

// customerAccount is a customer's credit account with what the rules need besides it.
type customerAccount struct {
	models.CreditAccount `bun:",extend"`

	CustomerStatus models.CustomerStatus `bun:"customer_status"`
	Today          time.Time             `bun:"today"`
	OpenedOn       time.Time             `bun:"opened_on"`     // the UTC date of created_at
	DaysPastDue    int                   `bun:"days_past_due"` // Facts.DaysPastDue
}

// facts are what the rules of a charge read of the account (§14).
func (a *customerAccount) facts() Facts {
	return Facts{CustomerStatus: a.CustomerStatus, AccountStatus: a.Status, Limit: a.CreditLimit,
		Used: a.CreditUsed, DaysPastDue: a.DaysPastDue}
}

// accountOfCustomer reads the customer's account with the customer's status, today's date
// the date it was opened and how many days its oldest open charge is past due, locked as lock says ("UPDATE OF ca", "SHARE OF c"; "" reads without a lock). A customer without an account,
// like a missing one or another organization's, is NOT_FOUND.
func accountOfCustomer(ctx context.Context, tx bun.Tx, customerID uuid.UUID, lock string) (*customerAccount, error) {
	var row customerAccount
	q := tx.NewSelect().Model(&row).
		// §11: an erased customer reads as ERASED, which the charge rules refuse (INVALID_STATE).
		ColumnExpr("ca.*").ColumnExpr("CASE WHEN c.erased_at IS NOT NULL THEN 'erased' ELSE c.status END AS customer_status").ColumnExpr(today+" AS today").
		ColumnExpr("(ca.created_at AT TIME ZONE 'UTC')::date AS opened_on").
		// The organization as a value, not correlated: on Citus the statement is then routed
		// whole to the organization's shard (README, Scaling out).
		ColumnExpr(DaysPastDueSQL("?", "ca.credit_account_id")+" AS days_past_due", db.Org(ctx)).
		Join("JOIN customers AS c ON c.organization_id = ca.organization_id AND c.customer_id = ca.customer_id").
		Where("ca.organization_id = ?", db.Org(ctx)).Where("ca.customer_id = ?", customerID)
	if lock != "" {
		q = q.For(lock)
	}
	err := q.Scan(ctx)
	if err == nil {
		if row.CustomerStatus == models.CustomerStatusMerged {
			return nil, merged()
		}
		return &row, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read credit account: %w", err)
	}
	var status []models.CustomerStatus
	err = tx.NewSelect().Model((*models.Customer)(nil)).Column("status").Where("c.organization_id = ?", db.Org(ctx)).
		Where("c.customer_id = ?", customerID).Scan(ctx, &status)
	if err != nil {
		return nil, fmt.Errorf("read customer: %w", err)
	}
	if len(status) == 0 {
		return nil, apperr.OnField(apperr.NotFound, []string{"customerId"}, "no customer with this id")
	}
	if status[0] == models.CustomerStatusMerged {
		return nil, merged()
	}
	return nil, apperr.OnField(apperr.NotFound, []string{"customerId"}, "the customer has no credit account")
}

// merged is the answer to a credit operation on a merged customer (§10): its survivor
// holds the account that moved.
func merged() error {
	return apperr.OnField(apperr.InvalidState, []string{"customerId"}, "the customer was merged into another customer")
}

// effectiveStatus is a usage's status as §5 reads it: a pending charge past its due date
// is overdue even before the daily job marks it.
const effectiveStatus = EffectiveStatusSQL

// EffectiveStatusSQL is the status §5 defines of a usage aliased cu: a pending usage past
// its due date is overdue whether or not the daily job has marked it.
const EffectiveStatusSQL = "CASE WHEN cu.status = 'pending' AND cu.due_date < " + today + " THEN 'overdue' ELSE cu.status END"

// selectUsages selects usages with their effective status into dest: every usage the
// service returns reports the status §5 defines, whether or not the job has run. They are
// the usages of the organization of ctx's transaction.
func selectUsages(ctx context.Context, tx bun.IDB, dest any) *bun.SelectQuery {
	return tx.NewSelect().Model(dest).Where("cu.organization_id = ?", db.Org(ctx)).
		ColumnExpr("cu.usage_id, cu.organization_id, cu.credit_account_id, cu.order_id, cu.amount, cu.amount_paid").
		ColumnExpr(effectiveStatus + " AS status").
		ColumnExpr("cu.due_date, cu.created_at, cu.updated_at")
}

// UsageOutstanding is what is still owed on a usage: amount − amount paid, zero once
// cancelled (its unpaid part was released).
func UsageOutstanding(u *models.CreditUsage) decimal.Decimal {
	if u.Status == models.UsageCancelled {
		return decimal.Zero
	}
	return u.Amount.Sub(u.AmountPaid)
}
