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
// One statement reads everything the rules need with the customer's row shared and then the
// account's locked (FOR NO KEY UPDATE, the lock the raise of credit_used takes anyway; the
// customer first, as a block and a merge lock them, so they never deadlock): the
// account, the customer's status, the organization's policy, the days past due and whether
// the order was charged already. The rules decide in Go on that locked state, so concurrent
// charges of one account, decided one after another, can never pass the limit; the writes —
// the usage, the raise, the audit row — go in the transaction's one trailing round trip
// (db.Later). The CHECK constraints stay the last line of defence.
//
// Retry-safe by orderId (§8): a charge whose orderId the account already has returns the
// original usage and changes nothing, whatever happened to the account since (it may be
// full or suspended by now); the same orderId with another amount is IDEMPOTENCY_CONFLICT.
// A replay writes no audit row: nothing changed. Two first tries of one order at once: the
// second waits for the account's lock, but its read was planned before the first committed,
// so its usage's insert collides with the first's (credit_usage_order_key) at the commit;
// the charge is then run once more, and finds the first's usage — a replay.
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
	charge := func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		target, err := accountOfCustomer(ctx, tx, in.CustomerID, "SHARE OF c FOR NO KEY UPDATE OF ca", chargeColumns, in.OrderID)
		if err != nil {
			return err
		}
		acc = &target.CreditAccount
		if target.PriorID != nil {
			found, err := replayCharge(ctx, tx, acc.ID, in, &usage)
			if err == nil && !found {
				err = errors.New("credit usage of the order cannot be read")
			}
			return err
		}
		if refusal := Evaluate(target.facts(), target.policy(), in.Amount).Refusal(); refusal != nil {
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
		// No ON CONFLICT: a concurrent first try of the order fails the commit (see above).
		// Stamped with the read's now(), which is what the usage answers: on Citus a default
		// now() of a routed INSERT is the coordinator's, not the shard's.
		usage.CreatedAt, usage.UpdatedAt = target.Now, target.Now
		if err := db.Later(ctx, tx, tx.NewInsert().Model(&usage).Returning("NULL")); err != nil {
			return fmt.Errorf("insert credit usage: %w", err)
		}
		if err := changeCreditUsed(ctx, tx, acc, in.Amount, target.Now); err != nil {
			return err
		}
		timeline.Publish(ctx, timeline.ChargePrefix, usage.ID)
		return audit.Record(ctx, tx, p, audit.Entry{
			Action: "credit.charge", EntityType: "credit_account", EntityID: acc.ID,
			ChangedFields: []string{"credit_used"},
			Details: map[string]any{
				"usage_id": usage.ID, "order_id": usage.OrderID, "amount": money(usage.Amount),
				"due_date": usage.DueDate.Format(time.DateOnly),
			},
		})
	}
	err := s.write(ctx, charge)
	if c, ok := db.IsUniqueViolation(err); ok && c == "credit_usage_order_key" {
		err = s.write(ctx, charge)
	}
	if err != nil {
		return nil, nil, err
	}
	return acc, &usage, nil
}

// changeCreditUsed queues (db.Later) the change of the locked account's credit_used by
// delta, and makes acc what the account will be: the decision was made on the locked row, so
// nothing can change it before the commit (the CHECK constraints stay the last line of
// defence).
func changeCreditUsed(ctx context.Context, tx bun.Tx, acc *models.CreditAccount, delta decimal.Decimal, now time.Time) error {
	if err := db.Later(ctx, tx, tx.NewUpdate().Model((*models.CreditAccount)(nil)).
		Set("credit_used = ca.credit_used + ?", delta).
		Where("ca.organization_id = ?", acc.OrganizationID).Where("ca.credit_account_id = ?", acc.ID)); err != nil {
		return fmt.Errorf("change credit used: %w", err)
	}
	acc.CreditUsed = acc.CreditUsed.Add(delta)
	acc.CreditAvailable = acc.CreditLimit.Sub(acc.CreditUsed)
	acc.UpdatedAt = now
	return nil
}

// orgParam is the organization in accountOfCustomer's statement (db.OrgParam).
const orgParam = db.OrgParam

// chargeColumns are what a charge reads besides the account (accountOfCustomer), in the same
// statement: the organization's policy (its row or the defaults, PolicySQL) and the usage of
// the order ($3) if the account has one.
func chargeColumns(q *bun.SelectQuery) *bun.SelectQuery {
	return q.ColumnExpr("pol.block_when_overdue_days AS pol_block_when_overdue_days").
		ColumnExpr("pol.warn_utilization_percent AS pol_warn_utilization_percent").
		ColumnExpr("pol.require_second_approver AS pol_require_second_approver").
		ColumnExpr("(SELECT pu.usage_id FROM credit_usage AS pu WHERE pu.organization_id = " + orgParam + " AND pu.credit_account_id = ca.credit_account_id AND pu.order_id = $3::text) AS prior_id").
		Join("CROSS JOIN " + PolicySQL(orgParam))
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
	Now            time.Time             `bun:"now"`           // the transaction's now(): what created_at and updated_at default to
	Fresh          bool                  `bun:"fresh"`         // the subqueries read the locked version's state (accountOfCustomer)

	// Read by a charge only (chargeColumns): the organization's policy.
	PolBlockWhenOverdueDays   int        `bun:"pol_block_when_overdue_days"`
	PolWarnUtilizationPercent int        `bun:"pol_warn_utilization_percent"`
	PolRequireSecondApprover  bool       `bun:"pol_require_second_approver"`
	PriorID                   *uuid.UUID `bun:"prior_id,type:uuid"` // a charge's usage or a payment of the same key
	// Read by a payment only (paymentColumns): the open usages, oldest due first.
	OpenUsages openUsages `bun:"open_usages"`
}

// policy is the organization's credit policy as chargeColumns read it.
func (a *customerAccount) policy() models.CreditPolicy {
	return models.CreditPolicy{OrganizationID: a.OrganizationID, BlockWhenOverdueDays: a.PolBlockWhenOverdueDays,
		WarnUtilizationPercent: a.PolWarnUtilizationPercent, RequireSecondApprover: a.PolRequireSecondApprover}
}

// facts are what the rules of a charge read of the account (§14).
func (a *customerAccount) facts() Facts {
	return Facts{CustomerStatus: a.CustomerStatus, AccountStatus: a.Status, Limit: a.CreditLimit,
		Used: a.CreditUsed, DaysPastDue: a.DaysPastDue}
}

// accountOfCustomer reads the customer's account with the customer's status, today's date
// the date it was opened and how many days its oldest open charge is past due, locked as lock
// says ("UPDATE OF ca", "SHARE OF c"; "" reads without a lock), with what with adds to the
// statement (nil: nothing). A customer without an account, like a missing one or another
// organization's, is NOT_FOUND.
//
// The statement is one fixed text per lock and with, its values bind parameters — $1 the
// organization, $2 the customer, $3… withArgs — kept prepared (db.ScanPrepared): planning it
// cost PostgreSQL several times what running it does, on every charge and payment.
func accountOfCustomer(ctx context.Context, tx bun.Tx, customerID uuid.UUID, lock string, with func(*bun.SelectQuery) *bun.SelectQuery, withArgs ...any) (*customerAccount, error) {
	var row customerAccount
	q := tx.NewSelect().Model(&row).
		// §11: an erased customer reads as ERASED, which the charge rules refuse (INVALID_STATE).
		ColumnExpr("ca.*").ColumnExpr("CASE WHEN c.erased_at IS NOT NULL THEN 'erased' ELSE c.status END AS customer_status").ColumnExpr(today+" AS today").
		ColumnExpr("(ca.created_at AT TIME ZONE 'UTC')::date AS opened_on").ColumnExpr("now() AS now").
		// The organization as a value, not correlated: on Citus the statement is then routed
		// whole to the organization's shard (README, Scaling out).
		ColumnExpr(DaysPastDueSQL(orgParam, "ca.credit_account_id")+" AS days_past_due").
		Join("JOIN customers AS c ON c.organization_id = ca.organization_id AND c.customer_id = ca.customer_id").
		Where("ca.organization_id = ?", bun.Safe(orgParam)).Where("ca.customer_id = ?", bun.Safe("$2::uuid"))
	if with != nil {
		q = with(q)
	}
	if lock != "" {
		// Waiting for the account's lock, PostgreSQL locks and returns the account's latest
		// version, but the subqueries (the days past due, what with adds) still read the
		// snapshot the statement began with: fresh says whether the account's version is
		// that snapshot's. Every change of what the account owes updates its row (charges,
		// payments, cancellations), so when it is, the subqueries are as current as the
		// lock; when not, the statement runs once more — the lock is ours then, so it waits
		// for nothing and reads a snapshot taken after the change.
		q = q.ColumnExpr("ca.xmin = (SELECT fr.xmin FROM credit_accounts AS fr WHERE fr.organization_id = " + orgParam + " AND fr.credit_account_id = ca.credit_account_id) AS fresh").
			For(lock)
	}
	stmt, args := q.String(), append([]any{db.Org(ctx), customerID}, withArgs...)
	err := db.ScanPrepared(ctx, tx, &row, stmt, args...)
	if err == nil && lock != "" && !row.Fresh {
		row = customerAccount{}
		err = db.ScanPrepared(ctx, tx, &row, stmt, args...)
	}
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
