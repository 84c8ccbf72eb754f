package credit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	record := func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		target, err := accountOfCustomer(ctx, tx, in.CustomerID, "UPDATE OF ca", paymentColumns, in.PaymentReference)
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
		if target.PriorID != nil {
			found, err := replayPayment(ctx, tx, acc.ID, in, &pay)
			if err == nil && !found {
				err = errors.New("credit payment of the reference cannot be read")
			}
			return err
		}
		if refusal := paymentRefusal(&acc, in.Amount); refusal != nil {
			return refusal
		}
		pay = models.CreditPayment{
			ID:               uuid.New(),
			OrganizationID:   p.OrganizationID,
			CreditAccountID:  acc.ID,
			Amount:           in.Amount,
			PaymentReference: in.PaymentReference,
			PaymentDate:      date,
			CreatedAt:        target.Now,
			ActorID:          auth.Actor(ctx),
		}
		// No ON CONFLICT: a concurrent first try of the reference fails the commit (above).
		if err := db.Later(ctx, tx, tx.NewInsert().Model(&pay).Returning("NULL")); err != nil { // created_at: the read's now(), as a charge's
			return fmt.Errorf("insert credit payment: %w", err)
		}
		timeline.Publish(ctx, timeline.PaymentPrefix, pay.ID)
		if err := changeCreditUsed(ctx, tx, &acc, in.Amount.Neg(), target.Now); err != nil {
			return err
		}
		allocations, err := allocate(ctx, tx, &acc, pay.ID, in.Amount, target.OpenUsages)
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
	}
	err := s.write(ctx, record)
	if c, ok := db.IsUniqueViolation(err); ok && c == "credit_payments_reference_key" {
		err = s.write(ctx, record)
	}
	if err != nil {
		return nil, nil, err
	}
	return &acc, &pay, nil
}

// paymentColumns are what a payment reads besides the account (accountOfCustomer), in the
// same statement: the payment of the reference ($3) if the account has one, and the account's open
// usages (pending or overdue, through credit_usage_open_idx) with what each still owes, as
// JSON (openUsages).
func paymentColumns(q *bun.SelectQuery) *bun.SelectQuery {
	return q.ColumnExpr("(SELECT pp.payment_id FROM credit_payments AS pp WHERE pp.organization_id = " + orgParam + " AND pp.credit_account_id = ca.credit_account_id AND pp.payment_reference = $3::text) AS prior_id").
		ColumnExpr(`(SELECT COALESCE(json_agg(json_build_object('id', ou.usage_id, 'due', ou.due_date, 'created', ou.created_at,
  'unpaid', (ou.amount - ou.amount_paid)::text) ORDER BY ou.due_date, ou.created_at, ou.usage_id), '[]')
  FROM credit_usage AS ou WHERE ou.organization_id = ` + orgParam + ` AND ou.credit_account_id = ca.credit_account_id
  AND ou.status IN ('pending', 'overdue')) AS open_usages`)
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
	UsageID uuid.UUID       `json:"usage_id"`
	Amount  decimal.Decimal `json:"amount"`
}

// openUsages are the open usages of an account as paymentColumns reads them.
type openUsages []OpenUsage

// Scan reads the JSON array of paymentColumns.
func (o *openUsages) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case []byte:
		b = v
	case string:
		b = []byte(v)
	case nil:
		*o = nil
		return nil
	default:
		return fmt.Errorf("open usages: cannot scan %T", src)
	}
	var rows []struct {
		ID      uuid.UUID       `json:"id"`
		Due     string          `json:"due"`
		Created time.Time       `json:"created"`
		Unpaid  decimal.Decimal `json:"unpaid"`
	}
	if err := json.Unmarshal(b, &rows); err != nil {
		return fmt.Errorf("open usages: %w", err)
	}
	out := make(openUsages, len(rows))
	for i, r := range rows {
		due, err := time.Parse(time.DateOnly, r.Due)
		if err != nil {
			return fmt.Errorf("open usages: %w", err)
		}
		out[i] = OpenUsage{ID: r.ID, DueDate: due, CreatedAt: r.Created, Unpaid: r.Unpaid}
	}
	*o = out
	return nil
}

// allocate spreads amount over the account's open usages (Allocate: oldest due date first),
// read under the account's lock — which every change of what a usage owes takes first
// (payments, cancellations) — and queues the writes (db.Later): each usage's amount_paid
// raised by its share and marked paid when covered, in usage id order (the overdue job's
// lock order, so the two never deadlock), then the allocation ledger's rows (§13:
// amount_paid is their running sum). credit_used equals what the open usages owe, and
// amount ≤ credit_used was checked, so the whole amount is placed; if it were not, the books
// would disagree and the payment is refused.
func allocate(ctx context.Context, tx bun.Tx, acc *models.CreditAccount, paymentID uuid.UUID, amount decimal.Decimal, open []OpenUsage) ([]allocation, error) {
	shares, left := Allocate(amount, open)
	if !left.IsZero() {
		return nil, fmt.Errorf("allocate payment: placed %s of %s on account %s", amount.Sub(left), amount, acc.ID)
	}
	var rows []allocation
	var ledger []models.CreditAllocation
	for i, u := range open {
		if !shares[i].IsPositive() {
			continue
		}
		rows = append(rows, allocation{UsageID: u.ID, Amount: shares[i]})
		ledger = append(ledger, models.CreditAllocation{ID: uuid.New(), OrganizationID: acc.OrganizationID, CreditAccountID: acc.ID,
			PaymentID: paymentID, UsageID: u.ID, Amount: shares[i]})
	}
	byID := slices.Clone(rows)
	slices.SortFunc(byID, func(a, b allocation) int { return strings.Compare(a.UsageID.String(), b.UsageID.String()) })
	for _, r := range byID {
		if err := db.Later(ctx, tx, tx.NewUpdate().Model((*models.CreditUsage)(nil)).
			Set("amount_paid = cu.amount_paid + ?", r.Amount).
			Set("status = CASE WHEN cu.amount - cu.amount_paid = ? THEN 'paid' ELSE cu.status END", r.Amount).
			Where("cu.organization_id = ?", acc.OrganizationID).Where("cu.usage_id = ?", r.UsageID)); err != nil {
			return nil, fmt.Errorf("allocate payment: %w", err)
		}
	}
	if len(ledger) > 0 {
		if err := db.Later(ctx, tx, tx.NewInsert().Model(&ledger).ExcludeColumn("created_at").Returning("NULL")); err != nil {
			return nil, fmt.Errorf("record allocations: %w", err)
		}
	}
	return rows, nil
}
