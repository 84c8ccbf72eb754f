package loyalty

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

// NewPurchase is a paid order to record.
type NewPurchase struct {
	CustomerID uuid.UUID
	OrderID    string
	Amount     decimal.Decimal
	OccurredAt *time.Time // when nil: the write's next stamp (writeClock), or now() for a customer without an account
	Channel    *string
}

// PurchaseResult is a purchase (or refund) with the customer's account after it and the
// transaction it wrote; Account is nil when the customer is not enrolled, Transaction when
// no points moved.
type PurchaseResult struct {
	Purchase    *models.Purchase
	Account     *models.LoyaltyAccount
	Transaction *models.LoyaltyTransaction
}

var (
	// maxAmount bounds an amount to what NUMERIC(12,2) holds.
	maxAmount = decimal.New(1, 10)
	// clockSkew is how far in the future occurredAt may be: the caller's clock may run ahead.
	clockSkew = 5 * time.Minute
)

// RecordPurchase records a paid purchase (§4): it stores it (unique by orderId in the
// organization, §8), sets the customer's last_purchase_at to the latest occurredAt, and —
// when the customer is enrolled, or auto-enrolled on this purchase when the program says
// so — adds it to the account's totals and earns floor(amount × rate × multiplier of the
// tier in force) points as a lot, upgrading the tier at once when the qualifying points
// cross a threshold. §13: the lot expires points_lifetime_months after occurredAt — a
// purchase older than that earns points that expire at once, an earn and an expire in the
// ledger — and the earn qualifies for tiers at occurredAt, so one older than the
// qualification window upgrades nothing. A customer not enrolled (no auto-enroll) gets the purchase stored
// without points. A blocked customer: CUSTOMER_BLOCKED and nothing stored.
func (s *Service) RecordPurchase(ctx context.Context, in NewPurchase) (*PurchaseResult, error) {
	if err := auth.Require(ctx, auth.Agent); err != nil {
		return nil, err
	}
	channel := trimmed(in.Channel)
	var errs apperr.List
	errs = append(errs, key("orderId", in.OrderID, 100)...)
	errs = append(errs, amount("amount", in.Amount)...)
	errs = append(errs, text("channel", channel, 0, 30)...)
	if in.OccurredAt != nil && in.OccurredAt.After(time.Now().Add(clockSkew)) {
		errs = append(errs, apperr.OnField(apperr.Invalid, []string{"occurredAt"}, "occurredAt must not be in the future"))
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	replay := func(ctx context.Context, tx bun.Tx) (*PurchaseResult, error) {
		p := new(models.Purchase)
		q := tx.NewSelect().Model(p).Where("p.organization_id = ?", orgParam).Where("p.order_id = ?", bun.Safe("$2::text"))
		err := db.ScanPrepared(ctx, tx, p, q.String(), db.Org(ctx), in.OrderID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read purchase: %w", err)
		}
		// §8: the same request is the same customer, amount and channel, and the same
		// occurredAt when the retry gives one (an omitted occurredAt meant "now" then).
		if p.CustomerID != in.CustomerID || !p.Amount.Equal(in.Amount) || !sameText(p.Channel, channel) ||
			(in.OccurredAt != nil && !in.OccurredAt.Truncate(time.Microsecond).Equal(p.OccurredAt)) {
			return nil, conflict("orderId", "this orderId was recorded for another purchase")
		}
		return purchaseResult(ctx, tx, p, "earn", "order", p.OrderID)
	}
	var out *PurchaseResult
	err := s.write(ctx, func(ctx context.Context, tx bun.Tx, pr auth.Principal) error {
		var err error
		if out, err = replay(ctx, tx); err != nil || out != nil {
			return err
		}
		field := []string{"customerId"}
		c, err := lockCustomer(ctx, tx, in.CustomerID, field, "NO KEY UPDATE")
		if err != nil {
			return err
		}
		if c.Status == models.CustomerStatusBlocked {
			return blocked(field)
		}
		if err := refuseGone(c.Status, field); err != nil {
			return err
		}
		prog, err := programOf(ctx, tx, pr.OrganizationID)
		if err != nil {
			return err
		}
		acc, _, err := lockAccount(ctx, tx, in.CustomerID)
		if err != nil {
			return err
		}
		enrolled := false
		if acc == nil && prog.AutoEnroll {
			if acc, enrolled, err = enroll(ctx, tx, pr.OrganizationID, in.CustomerID); err != nil {
				return err
			}
		}
		points, to := 0, models.Tier("")
		if acc != nil {
			earned := EarnPoints(prog, acc.Tier, in.Amount)
			if !earned.LessThanOrEqual(decimal.NewFromInt(int64(maxInt32 - max(acc.PointsBalance, acc.LifetimePoints)))) {
				return apperr.OnField(apperr.Invalid, []string{"amount"}, "the purchase would earn more points than an account can hold")
			}
			if !acc.TotalSpent.Add(in.Amount).LessThan(maxAmount) {
				return apperr.OnField(apperr.Invalid, []string{"amount"}, "the customer's total spent would exceed what an account can hold")
			}
			points = int(earned.IntPart())
		}
		p := &models.Purchase{
			ID: uuid.New(), OrganizationID: pr.OrganizationID, CustomerID: in.CustomerID, OrderID: in.OrderID,
			Amount: in.Amount, PointsEarned: points, Channel: channel, ActorID: auth.Actor(ctx),
		}
		// A purchase given no time happened at the write's next stamp: after what the lock
		// vested or expired, before its own earn, stamped a microsecond later, so the
		// timeline and the live events show the purchase first. Its points vest counting
		// from the purchase and expire counting from the earn (the lot's own row). A customer
		// without an account locked none, so its write has no instant: the transaction's start.
		occurredAt := any(in.OccurredAt)
		switch {
		case in.OccurredAt != nil:
		case acc != nil:
			if occurredAt, err = stamp(ctx); err != nil {
				return err
			}
		default:
			occurredAt = dbNow
		}
		res, err := tx.NewInsert().Model(p).Value("occurred_at", "?::timestamptz", occurredAt).
			On("CONFLICT (organization_id, order_id) DO NOTHING").Returning("*").Exec(ctx)
		if err != nil {
			return fmt.Errorf("insert purchase: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errReplay
		}
		timeline.Publish(ctx, timeline.PurchasePrefix, p.ID)
		out = &PurchaseResult{Purchase: p, Account: acc}
		vested := points // what enters the balance now: all of it, unless it is pending
		if points > 0 {
			vestsAt, err := pendingUntil(ctx, prog, p.OccurredAt)
			if err != nil {
				return err
			}
			if vestsAt != nil {
				vested = 0
			}
			if out.Transaction, err = insertTransaction(ctx, tx, acc, acc.PointsBalance+vested, newTransaction{
				typ: models.TxEarn, points: points, referenceType: ptr("order"), referenceID: &p.OrderID,
				metadata: map[string]any{"purchase_id": p.ID}, lifetimeMonths: prog.PointsLifetimeMonths,
				occurredAt: in.OccurredAt, vestsAt: vestsAt,
			}); err != nil {
				return err
			}
			if vestsAt == nil { // a pending lot qualifies when it vests (vestDue)
				if err := addQualifying(ctx, tx, qualifyingDay{acc.ID, effective(out.Transaction), points}); err != nil {
					return err
				}
			}
			if to, err = upgradeAfter(ctx, tx, prog, acc, vested); err != nil {
				return err
			}
		}
		if acc != nil {
			if err := saveAccount(ctx, tx, acc, accountChange{
				balance: acc.PointsBalance + vested, lifetime: vested, purchases: 1, spent: in.Amount,
				tier: to, tierMonths: prog.TierDurationMonths,
			}); err != nil {
				return err
			}
			if in.OccurredAt != nil && points > 0 {
				// §13: a lot of a purchase older than the points' lifetime expired before it
				// was recorded: it is earned and expired at once, both in the ledger.
				// Due at the instant of its earn row (not the write's latest, which may be
				// the tier change's), as its refund reads it (expires_at <= created_at).
				if n, _, err := expireDue(ctx, tx, []uuid.UUID{acc.ID}, out.Transaction.CreatedAt); err != nil {
					return err
				} else if n > 0 {
					if err := tx.NewSelect().Model(acc).WherePK().Scan(ctx); err != nil {
						return fmt.Errorf("read loyalty account: %w", err)
					}
				}
			}
		}
		if c.LastPurchaseAt == nil || p.OccurredAt.After(*c.LastPurchaseAt) {
			if _, err := tx.NewUpdate().Model(c).Set("last_purchase_at = ?", p.OccurredAt).WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("update last purchase: %w", err)
			}
		}
		e := audit.Entry{
			Action: "loyalty.purchase", EntityType: "purchase", EntityID: p.ID, ChangedFields: []string{"purchases"},
			Details: map[string]any{"customer_id": in.CustomerID, "amount": in.Amount.StringFixed(2), "points": points},
		}
		if enrolled {
			e.Details["enrolled"] = true
		}
		if acc != nil {
			e.ChangedFields = append(e.ChangedFields, "points_balance", "total_purchases", "total_spent")
			tierChange(&e, to)
		}
		return audit.Record(ctx, tx, pr, e)
	})
	if errors.Is(err, errReplay) {
		err = s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
			var err error
			if out, err = replay(ctx, tx); err == nil && out == nil {
				err = errors.New("purchase conflict without a stored purchase")
			}
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// pendingUntil is when the points of a purchase made at occurredAt vest (§13:
// occurredAt + pending_days), nil when they are spendable at once: pending points are off
// (pending_days 0), or that date is not after the write's instant (a back-dated purchase).
// The account is locked: the write's clock is set.
func pendingUntil(ctx context.Context, prog *models.LoyaltyProgram, occurredAt time.Time) (*time.Time, error) {
	if prog.PendingDays <= 0 {
		return nil, nil
	}
	at, err := dueAt(ctx)
	if err != nil {
		return nil, err
	}
	vestsAt := occurredAt.UTC().AddDate(0, 0, prog.PendingDays)
	if !vestsAt.After(at) {
		return nil, nil
	}
	return &vestsAt, nil
}

// NewRefund is a refund of (part of) a purchase.
type NewRefund struct {
	OrderID  string
	RefundID string
	Amount   decimal.Decimal
}

// RecordRefund records a refund (§4), unique by refundId in the organization (§8): at most
// what remains of the purchase (amount − refunded), else INVALID. It reverses the points of
// the refunded share cumulatively — the purchase's reversal target is
// floor(points_earned × refunded / amount), and this refund reverses what the earlier ones
// have not — capped at the balance, so never below zero (points already spent stay spent).
// The reversal is an ADJUST transaction with reference type `refund`, consuming the oldest
// lots first; it lowers lifetime points and — while the earn it reverses is inside the
// qualification window, as it counts at that earn's time (qualifyingSum) — the qualifying
// points of tiers. Its metadata names the order, which is what ties it to the earn. The
// account's total spent falls by the amount; total purchases stays. §13: while the
// purchase's points are pending, the refund cancels them instead — the same cumulative
// share, taken from the pending lot and not from the balance nor the lifetime points (which
// never held them). A purchase whose points
// expired as they were earned (§13: older than their lifetime) has nothing to reverse.
func (s *Service) RecordRefund(ctx context.Context, in NewRefund) (*PurchaseResult, error) {
	if err := auth.Require(ctx, auth.Agent); err != nil {
		return nil, err
	}
	var errs apperr.List
	errs = append(errs, key("orderId", in.OrderID, 100)...)
	errs = append(errs, key("refundId", in.RefundID, 100)...)
	errs = append(errs, amount("amount", in.Amount)...)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	replay := func(ctx context.Context, tx bun.Tx) (*PurchaseResult, error) {
		r := new(models.PurchaseRefund)
		q := tx.NewSelect().Model(r).Where("pr.organization_id = ?", orgParam).Where("pr.refund_id = ?", bun.Safe("$2::text"))
		err := db.ScanPrepared(ctx, tx, r, q.String(), db.Org(ctx), in.RefundID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read refund: %w", err)
		}
		p := new(models.Purchase)
		if err := tx.NewSelect().Model(p).Where("p.organization_id = ?", r.OrganizationID).
			Where("p.purchase_id = ?", r.PurchaseID).Scan(ctx); err != nil {
			return nil, fmt.Errorf("read purchase: %w", err)
		}
		if p.OrderID != in.OrderID || !r.Amount.Equal(in.Amount) {
			return nil, conflict("refundId", "this refundId was recorded for another refund")
		}
		return purchaseResult(ctx, tx, p, "adjust", "refund", r.RefundID)
	}
	var out *PurchaseResult
	err := s.write(ctx, func(ctx context.Context, tx bun.Tx, pr auth.Principal) error {
		var err error
		if out, err = replay(ctx, tx); err != nil || out != nil {
			return err
		}
		p := new(models.Purchase)
		err = tx.NewSelect().Model(p).Where("p.organization_id = ?", pr.OrganizationID).
			Where("p.order_id = ?", in.OrderID).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.OnField(apperr.NotFound, []string{"orderId"}, "no purchase with this orderId")
		}
		if err != nil {
			return fmt.Errorf("lock purchase: %w", err)
		}
		if remains := p.Amount.Sub(p.RefundedAmount); in.Amount.GreaterThan(remains) {
			return apperr.OnField(apperr.Invalid, []string{"amount"},
				"at most %s of this purchase remains to refund", remains.StringFixed(2))
		}
		acc, _, err := lockAccount(ctx, tx, p.CustomerID)
		if err != nil {
			return err
		}
		reverse, lot, earnedAt := 0, (*models.LoyaltyTransaction)(nil), (*time.Time)(nil)
		if acc != nil {
			if lot, err = pendingLot(ctx, tx, p.OrderID); err != nil {
				return err
			}
		}
		switch {
		case lot != nil:
			// §13: within the pending window the refund cancels the purchase's pending points
			// (the balance never held them, so none of it is taken).
			reverse = min(RefundReversal(p, in.Amount, maxInt32), *lot.PointsRemaining)
		case acc != nil:
			reverse = RefundReversal(p, in.Amount, acc.PointsBalance)
			if reverse > 0 {
				// §13: the points of a purchase older than their lifetime expired the moment
				// they were earned; they were never in the balance, so its refund takes none
				// of the points other purchases earned.
				// The earn's instant is where the reversal counts toward tiers (QualifyingSQL).
				var earn []struct {
					ExpiredAtOnce bool      `bun:"expired_at_once"`
					At            time.Time `bun:"at"`
				}
				if err := tx.NewRaw(`SELECT expires_at <= created_at AS expired_at_once, COALESCE(vests_at, occurred_at, created_at) AS at
					FROM loyalty_transactions WHERE organization_id = ? AND transaction_type = 'earn'
					AND reference_type = 'order' AND reference_id = ? AND loyalty_account_id = ?`, pr.OrganizationID, p.OrderID, acc.ID).
					Scan(ctx, &earn); err != nil {
					return fmt.Errorf("read earn: %w", err)
				}
				if len(earn) > 0 {
					earnedAt = &earn[0].At
					if earn[0].ExpiredAtOnce {
						reverse = 0
					}
				}
			}
		}
		r := &models.PurchaseRefund{
			RefundID: in.RefundID, OrganizationID: pr.OrganizationID, PurchaseID: p.ID, Amount: in.Amount, PointsReversed: reverse,
			ActorID: auth.Actor(ctx),
		}
		res, err := tx.NewInsert().Model(r).On("CONFLICT DO NOTHING").Exec(ctx)
		if err != nil {
			return fmt.Errorf("insert refund: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errReplay
		}
		timeline.PublishRefund(ctx, r.RefundID)
		out = &PurchaseResult{Purchase: p, Account: acc}
		taken := reverse // what leaves the balance (and the lifetime points): none of pending points
		if lot != nil {
			taken = 0
		}
		if reverse > 0 {
			n := newTransaction{
				typ: models.TxAdjust, points: -reverse, referenceType: ptr("refund"), referenceID: &r.RefundID,
				description: ptr("Refund of order " + p.OrderID),
				metadata:    map[string]any{"purchase_id": p.ID, "order_id": p.OrderID, "amount": in.Amount.StringFixed(2)},
			}
			if lot != nil {
				n.vestsAt = lot.VestsAt
			}
			if out.Transaction, err = insertTransaction(ctx, tx, acc, acc.PointsBalance-taken, n); err != nil {
				return err
			}
			if lot != nil {
				if _, err := tx.NewUpdate().Model(lot).WherePK().Set("points_remaining = points_remaining - ?", reverse).Exec(ctx); err != nil {
					return fmt.Errorf("cancel pending points: %w", err)
				}
			} else if err := consumeLots(ctx, tx, acc.ID, reverse); err != nil {
				return err
			}
			if lot == nil && earnedAt != nil { // a cancellation of pending points never qualified
				if err := addQualifying(ctx, tx, qualifyingDay{acc.ID, *earnedAt, -reverse}); err != nil {
					return err
				}
			}
		}
		if _, err := tx.NewUpdate().Model(p).WherePK().
			Set("refunded_amount = refunded_amount + ?", in.Amount).
			Set("points_reversed = points_reversed + ?", reverse).
			Returning("*").Exec(ctx); err != nil {
			return fmt.Errorf("update purchase: %w", err)
		}
		e := audit.Entry{
			Action: "loyalty.refund", EntityType: "purchase", EntityID: p.ID, ChangedFields: []string{"refunded_amount"},
			Details: map[string]any{"amount": in.Amount.StringFixed(2), "points_reversed": reverse},
		}
		if acc != nil {
			if err := saveAccount(ctx, tx, acc, accountChange{
				balance: acc.PointsBalance - taken, lifetime: -taken, spent: in.Amount.Neg(),
			}); err != nil {
				return err
			}
			e.ChangedFields = append(e.ChangedFields, "points_reversed", "points_balance", "total_spent")
		}
		return audit.Record(ctx, tx, pr, e)
	})
	if errors.Is(err, errReplay) {
		err = s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
			var err error
			if out, err = replay(ctx, tx); err == nil && out == nil {
				err = errors.New("refund conflict without a stored refund")
			}
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// pendingLot is the still pending lot of the order's earn, nil when there is none (the
// account is locked, and its due lots vested, by the caller).
func pendingLot(ctx context.Context, tx bun.Tx, orderID string) (*models.LoyaltyTransaction, error) {
	lot := new(models.LoyaltyTransaction)
	err := tx.NewSelect().Model(lot).Where("lt.organization_id = ?", db.Org(ctx)).Where("lt.transaction_type = 'earn'").
		Where("lt.reference_type = 'order'").Where("lt.reference_id = ?", orderID).Where("lt.pending").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read pending lot: %w", err)
	}
	return lot, nil
}

// purchaseResult is the original result of a replayed purchase or refund: the purchase and
// the account as they are now, and the transaction the key wrote (if any).
func purchaseResult(ctx context.Context, tx bun.IDB, p *models.Purchase, typ models.LoyaltyTransactionType, refType, refID string) (*PurchaseResult, error) {
	out := &PurchaseResult{Purchase: p}
	acc := new(models.LoyaltyAccount)
	err := tx.NewSelect().Model(acc).Where("la.organization_id = ?", p.OrganizationID).
		Where("la.customer_id = ?", p.CustomerID).Scan(ctx)
	switch {
	case err == nil:
		out.Account = acc
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("read loyalty account: %w", err)
	}
	t := new(models.LoyaltyTransaction)
	err = tx.NewSelect().Model(t).Where("lt.organization_id = ?", p.OrganizationID).Where("lt.transaction_type = ?", typ).
		Where("lt.reference_type = ?", refType).Where("lt.reference_id = ?", refID).Scan(ctx)
	switch {
	case err == nil:
		out.Transaction = t
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("read transaction: %w", err)
	}
	return out, nil
}

const maxInt32 = 1<<31 - 1

// amount checks a money amount: greater than zero, at most two decimals (NUMERIC would
// round more silently), below 10^10 (NUMERIC(12,2)). Trailing zeros ("10.500") are fine.
func amount(name string, d decimal.Decimal) apperr.List {
	switch {
	case !d.IsPositive():
		return apperr.List{apperr.OnField(apperr.Invalid, []string{name}, "%s must be greater than zero", name)}
	case !d.Equal(d.Round(2)):
		return apperr.List{apperr.OnField(apperr.Invalid, []string{name}, "%s has at most two decimals", name)}
	case !d.LessThan(maxAmount):
		return apperr.List{apperr.OnField(apperr.Invalid, []string{name}, "%s must be below 10000000000", name)}
	}
	return nil
}
