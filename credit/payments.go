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

// Payment is a payment against a customer's credit account.
type Payment struct {
	CustomerID       uuid.UUID
	Amount           decimal.Decimal
	PaymentReference string     // the idempotency key, unique per account
	PaymentDate      *time.Time // nil: today
}

// RecordPayment records a payment (§5): the amount (> 0, at most two decimals) may not
// exceed what is outstanding (credit_used), else INVALID on amount; it lowers credit_used
// and is allocated to the open usages (pending or overdue) oldest due date first (then
// oldest charge), raising their amount_paid and marking those it covers paid. The date
// defaults to today; a given one is between the day the account was opened and today.
//
// Accepted on approved and suspended accounts, whatever the customer's status (paying
// down debt is always welcome); a pending or cancelled account owes nothing and is
// INVALID_STATE. The account row is locked for the whole payment, so concurrent payments
// never take credit_used below zero or pay a usage twice.
//
// Retry-safe by paymentReference (§8): a replay with the same amount (and the same date,
// when one is given) returns the original payment and changes nothing; otherwise it is
// IDEMPOTENCY_CONFLICT. A replay without a date matches the original whatever its date, so
// retrying a dateless payment the next day is still safe.
func (s *Service) RecordPayment(ctx context.Context, in Payment) (*models.CreditAccount, *models.CreditPayment, error) {
	if err := auth.Require(ctx, auth.Agent); err != nil {
		return nil, nil, err
	}
	var errs apperr.List
	if err := checkAmount(in.Amount, []string{"amount"}); err != nil {
		errs = append(errs, err)
	}
	if err := checkKey(in.PaymentReference, []string{"paymentReference"}); err != nil {
		errs = append(errs, err)
	}
	if err := errs.Err(); err != nil {
		return nil, nil, err
	}
	var (
		acc models.CreditAccount
		pay models.CreditPayment
	)
	err := s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		target, err := accountOfCustomer(ctx, tx, in.CustomerID, "UPDATE OF ca")
		if err != nil {
			return err
		}
		acc = target.CreditAccount
		date := target.Today
		if in.PaymentDate != nil {
			if err := checkPaymentDate(*in.PaymentDate, target); err != nil {
				return err
			}
			date = *in.PaymentDate
		}
		if refusal := paymentRefusal(&acc, in.Amount); refusal != nil {
			if found, err := replayPayment(ctx, tx, acc.ID, in, &pay); found || err != nil {
				return err
			}
			return refusal
		}
		pay = models.CreditPayment{
			ID:               uuid.New(),
			OrganizationID:   p.OrganizationID,
			CreditAccountID:  acc.ID,
			Amount:           in.Amount,
			PaymentReference: in.PaymentReference,
			PaymentDate:      date,
			ActorID:          auth.Actor(ctx),
		}
		res, err := tx.NewInsert().Model(&pay).On("CONFLICT (organization_id, credit_account_id, payment_reference) DO NOTHING").
			Returning("*").Exec(ctx)
		if err != nil {
			return fmt.Errorf("insert credit payment: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			found, err := replayPayment(ctx, tx, acc.ID, in, &pay)
			if err == nil && !found {
				err = errors.New("credit payment conflicted but cannot be read")
			}
			return err
		}
		timeline.Publish(ctx, timeline.PaymentPrefix, pay.ID)
		if _, err := tx.NewUpdate().Model(&acc).Set("credit_used = ca.credit_used - ?", in.Amount).
			WherePK().Returning("*").Exec(ctx); err != nil {
			return fmt.Errorf("lower credit used: %w", err)
		}
		allocations, err := allocate(ctx, tx, acc.ID, pay.ID, in.Amount)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, p, audit.Entry{
			Action: "credit.payment", EntityType: "credit_account", EntityID: acc.ID,
			ChangedFields: []string{"credit_used"},
			Details: map[string]any{
				"payment_id": pay.ID, "payment_reference": pay.PaymentReference, "amount": money(pay.Amount),
				"payment_date": pay.PaymentDate.Format(time.DateOnly), "allocations": allocations,
			},
		})
	})
	if err != nil {
		return nil, nil, err
	}
	return &acc, &pay, nil
}

// checkPaymentDate bounds a given payment date: from the day the account was opened (no
// payment can precede the account it pays) to today, both included; else INVALID on
// paymentDate naming the bound. Dates are UTC calendar days, as every credit date.
func checkPaymentDate(date time.Time, acc *customerAccount) error {
	day := date.Format(time.DateOnly)
	if today := acc.Today.Format(time.DateOnly); day > today {
		return apperr.OnField(apperr.Invalid, []string{"paymentDate"}, "must not be in the future (today is %s)", today)
	}
	if opened := acc.OpenedOn.Format(time.DateOnly); day < opened {
		return apperr.OnField(apperr.Invalid, []string{"paymentDate"},
			"must not be before the credit account was opened (%s)", opened)
	}
	return nil
}

// paymentRefusal is why the (locked) account cannot take a payment of amount, or nil.
func paymentRefusal(acc *models.CreditAccount, amount decimal.Decimal) error {
	if acc.Status != models.CreditStatusApproved && acc.Status != models.CreditStatusSuspended {
		return apperr.OnField(apperr.InvalidState, []string{"customerId"},
			"the credit account is %s; payments are recorded on APPROVED or SUSPENDED accounts", upper(acc.Status))
	}
	if amount.GreaterThan(acc.CreditUsed) {
		return apperr.OnField(apperr.Invalid, []string{"amount"},
			"the payment of %s exceeds what is outstanding (%s)", money(amount), money(acc.CreditUsed))
	}
	return nil
}

// replayPayment looks for the account's payment of in.PaymentReference: found with the same
// content it is read into pay (the original result), else IDEMPOTENCY_CONFLICT.
func replayPayment(ctx context.Context, tx bun.Tx, accountID uuid.UUID, in Payment, pay *models.CreditPayment) (bool, error) {
	err := tx.NewSelect().Model(pay).
		Where("cp.organization_id = ?", db.Org(ctx)).Where("cp.credit_account_id = ?", accountID).
		Where("cp.payment_reference = ?", in.PaymentReference).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read credit payment: %w", err)
	}
	sameDate := in.PaymentDate == nil || in.PaymentDate.Format(time.DateOnly) == pay.PaymentDate.Format(time.DateOnly)
	if !pay.Amount.Equal(in.Amount) || !sameDate {
		return true, apperr.OnField(apperr.IdempotencyConflict, []string{"paymentReference"},
			"this reference was already used for a payment of %s on %s; a retry must have the same amount and date",
			money(pay.Amount), pay.PaymentDate.Format(time.DateOnly))
	}
	return true, nil
}

// allocation is the share of a payment that went to one usage.
type allocation struct {
	UsageID uuid.UUID       `bun:"usage_id" json:"usage_id"`
	Amount  decimal.Decimal `bun:"amount" json:"amount"`
}

// allocateSQL pays the account's open usages oldest due date first, in one statement:
// each usage takes min(unpaid, what is left of the payment after the usages before it).
// The open usages are locked in id order — the order the overdue job locks them in — so a
// payment and the job never deadlock.
const allocateSQL = `
WITH open AS (
  SELECT usage_id, amount - amount_paid AS unpaid, due_date, created_at
  FROM credit_usage
  WHERE organization_id = ?0 AND credit_account_id = ?1 AND status IN ('pending', 'overdue')
  ORDER BY usage_id
  FOR UPDATE
), shares AS (
  SELECT usage_id, unpaid,
         LEAST(unpaid, GREATEST(?2::numeric - (SUM(unpaid) OVER w - unpaid), 0)) AS share
  FROM open
  WINDOW w AS (ORDER BY due_date, created_at, usage_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
UPDATE credit_usage AS cu
SET amount_paid = cu.amount_paid + s.share,
    status = CASE WHEN s.share = s.unpaid THEN 'paid' ELSE cu.status END
FROM shares AS s
WHERE cu.organization_id = ?0 AND cu.usage_id = s.usage_id AND s.share > 0
RETURNING cu.usage_id, s.share AS amount`

// allocate spreads amount over the open usages. credit_used equals what the open usages
// owe, and amount ≤ credit_used was checked under the account's lock, so the whole amount
// is placed; if it were not, the books would disagree and the payment is refused. Each
// share is appended to the allocation ledger (§13: amount_paid is its running sum).
func allocate(ctx context.Context, tx bun.Tx, accountID, paymentID uuid.UUID, amount decimal.Decimal) ([]allocation, error) {
	var rows []allocation
	if err := tx.NewRaw(allocateSQL, db.Org(ctx), accountID, amount).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("allocate payment: %w", err)
	}
	placed := decimal.Zero
	for _, r := range rows {
		placed = placed.Add(r.Amount)
	}
	if !placed.Equal(amount) {
		return nil, fmt.Errorf("allocate payment: placed %s of %s on account %s", placed, amount, accountID)
	}
	ledger := make([]models.CreditAllocation, len(rows))
	for i, r := range rows {
		ledger[i] = models.CreditAllocation{ID: uuid.New(), OrganizationID: db.Org(ctx), CreditAccountID: accountID,
			PaymentID: paymentID, UsageID: r.UsageID, Amount: r.Amount}
	}
	if _, err := tx.NewInsert().Model(&ledger).Exec(ctx); err != nil {
		return nil, fmt.Errorf("record allocations: %w", err)
	}
	return rows, nil
}
