package loyalty

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/apperr"
	"customerservice/audit"
	"customerservice/auth"
	"customerservice/db"
	"customerservice/models"
)

// PointsResult is an account after a movement of points, and the movement.
type PointsResult struct {
	Account     *models.LoyaltyAccount
	Transaction *models.LoyaltyTransaction
}

// Enroll enrolls a customer (bronze, zero points, §4). Enrolling twice returns the existing
// account and changes nothing but its audit row (§8: every mutation is audited; this one
// with no changed fields). The account's purchase totals start from the purchases the
// customer already has (recorded while the program did not auto-enroll); their points are
// not earned after the fact.
func (s *Service) Enroll(ctx context.Context, customerID uuid.UUID) (*models.LoyaltyAccount, error) {
	if err := auth.Require(ctx, auth.Agent); err != nil {
		return nil, err
	}
	var acc *models.LoyaltyAccount
	err := s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		c, err := lockCustomer(ctx, tx, customerID, []string{"customerId"}, "SHARE")
		if err != nil {
			return err
		}
		if c.Status == models.CustomerStatusMerged {
			return refuseGone(c.Status, []string{"customerId"})
		}
		var created bool
		if acc, created, err = enroll(ctx, tx, p.OrganizationID, customerID); err != nil {
			return err
		}
		changed := []string{}
		if created {
			changed = []string{"loyalty_account"}
		}
		return audit.Record(ctx, tx, p, audit.Entry{
			Action: "loyalty.enroll", EntityType: "loyalty_account", EntityID: acc.ID,
			ChangedFields: changed, Details: map[string]any{"customer_id": customerID},
		})
	})
	if err != nil {
		return nil, err
	}
	return acc, nil
}

// enroll creates the customer's account, or locks the existing one; created tells which. A
// created account starts the write's clock (writeClock): the clock read once as the row is
// written is its created_at and the day of its tier_since, and the write's instant (no other
// write can touch the account before this one commits).
func enroll(ctx context.Context, tx bun.Tx, org, customerID uuid.UUID) (*models.LoyaltyAccount, bool, error) {
	acc := new(models.LoyaltyAccount)
	err := tx.NewRaw(`INSERT INTO loyalty_accounts (organization_id, customer_id, tier, tier_since, total_purchases, total_spent, created_at, updated_at)
		SELECT ?, ?, 'bronze', (i.at AT TIME ZONE 'UTC')::date, p.purchases, p.spent, i.at, i.at
		FROM (SELECT clock_timestamp() AS at) i,
			(SELECT count(*) AS purchases, COALESCE(sum(amount - refunded_amount), 0) AS spent
				FROM purchases WHERE organization_id = ? AND customer_id = ?) p
		ON CONFLICT (organization_id, customer_id) DO NOTHING
		RETURNING *`, org, customerID, org, customerID).Scan(ctx, acc)
	if err == nil {
		startClock(ctx, acc.CreatedAt)
		return acc, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, false, fmt.Errorf("enroll: %w", err)
	}
	acc, _, err = lockAccount(ctx, tx, customerID)
	if err == nil && acc == nil {
		err = errors.New("enroll: account missing after conflict")
	}
	return acc, false, err
}

// orgParam is the organization as the first bind parameter of a statement kept prepared
// (db.ScanPrepared): the reads every write of points begins with, one fixed text whatever the
// organization, customer or key, so PostgreSQL plans each once per connection.
var orgParam = bun.Safe(db.OrgParam)

// lockCustomer reads the customer's status and locks its row (FOR SHARE while enrolling,
// FOR NO KEY UPDATE for a purchase, which writes last_purchase_at). A customer row is always
// locked before the account row. A customer of another organization is as missing as one
// that does not exist (§7).
func lockCustomer(ctx context.Context, tx bun.Tx, id uuid.UUID, field []string, mode string) (*models.Customer, error) {
	c := new(models.Customer)
	q := tx.NewSelect().Model(c).Column("customer_id", "organization_id", "last_purchase_at").ColumnExpr(statusSQL+" AS status").
		Where("c.organization_id = ?", orgParam).Where("c.customer_id = ?", bun.Safe("$2::uuid")).For(mode)
	err := db.ScanPrepared(ctx, tx, c, q.String(), db.Org(ctx), id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.OnField(apperr.NotFound, field, "no customer with this id")
	}
	if err != nil {
		return nil, fmt.Errorf("read customer: %w", err)
	}
	return c, nil
}

// lockAccount reads the customer's loyalty account and locks it for the balance change,
// with the customer's status; nil when not enrolled. What the nightly jobs would have done
// to the account is done first, so the mutation never works from a stale row: lots past
// their date are expired (lazy expiry), and a tier whose tier_expires_at has passed is
// re-evaluated on the job's rule (§4: it may drop), so a purchase earns at the multiplier of
// the tier the account really has. Neither writes an audit row, as the jobs write none.
//
// The same statement reads the write's instant (writeClock) once the row is locked — the
// instant is computed from the locked row, so not before the lock is held — and decides at
// that instant which lots are due and whether the tier's term has ended (its UTC date).
// Every write of points begins with it, so it is kept prepared (db.ScanPrepared): planning it
// cost PostgreSQL several times what running it does.
func lockAccount(ctx context.Context, tx bun.Tx, customerID uuid.UUID) (*models.LoyaltyAccount, models.CustomerStatus, error) {
	var row struct {
		models.LoyaltyAccount `bun:",extend"`
		CustomerStatus        models.CustomerStatus `bun:"customer_status"`
		LockedAt              time.Time             `bun:"locked_at"`
		HasDueLots            bool                  `bun:"has_due_lots"`
		HasVesting            bool                  `bun:"has_vesting"`
		TierDue               bool                  `bun:"tier_due"`
	}
	err := db.ScanPrepared(ctx, tx, &row, `WITH locked AS MATERIALIZED (
			SELECT la.*, `+statusSQL+` AS customer_status
			FROM loyalty_accounts AS la
			JOIN customers AS c ON c.organization_id = la.organization_id AND c.customer_id = la.customer_id
			WHERE la.organization_id = $1::uuid AND la.customer_id = $2::uuid
			FOR UPDATE OF la
		), instant AS MATERIALIZED (
			SELECT clock_timestamp() AS locked_at FROM locked
		)
		SELECT locked.*, instant.locked_at,
			EXISTS (SELECT FROM loyalty_transactions t WHERE t.organization_id = $1::uuid
				AND t.loyalty_account_id = locked.loyalty_account_id
				AND t.points_remaining > 0 AND t.expires_at <= instant.locked_at) AS has_due_lots,
			EXISTS (SELECT FROM loyalty_transactions t WHERE t.organization_id = $1::uuid
				AND t.loyalty_account_id = locked.loyalty_account_id
				AND t.points_remaining > 0 AND t.pending AND t.vests_at <= instant.locked_at) AS has_vesting,
			COALESCE(locked.tier_expires_at < (instant.locked_at AT TIME ZONE 'UTC')::date, false) AS tier_due
		FROM locked, instant`, db.Org(ctx), customerID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("lock loyalty account: %w", err)
	}
	acc := &row.LoyaltyAccount
	startClock(ctx, row.LockedAt)
	at, err := dueAt(ctx)
	if err != nil {
		return nil, "", err
	}
	var prog *models.LoyaltyProgram
	if row.HasVesting || row.TierDue {
		if prog, err = programOf(ctx, tx, acc.OrganizationID); err != nil {
			return nil, "", err
		}
	}
	if row.HasVesting {
		// §13: pending points whose date has come vest before anything reads the balance
		// (and before expiry, which only takes vested points).
		if _, _, err := vestDue(ctx, tx, prog, []uuid.UUID{acc.ID}, at); err != nil {
			return nil, "", err
		}
		row.HasDueLots = true // a vested lot may be past its expiry too; expireDue finds none otherwise
	}
	if row.HasDueLots {
		if _, _, err := expireDue(ctx, tx, []uuid.UUID{acc.ID}, at); err != nil {
			return nil, "", err
		}
	}
	if row.TierDue {
		if _, _, err := reevaluateTiers(ctx, tx, prog, []uuid.UUID{acc.ID}, at); err != nil {
			return nil, "", err
		}
	}
	if row.HasDueLots || row.TierDue || row.HasVesting {
		acc = new(models.LoyaltyAccount) // a fresh row: a NULL read into a set pointer would not clear it
		if err := tx.NewSelect().Model(acc).Where("la.organization_id = ?", row.OrganizationID).
			Where("la.loyalty_account_id = ?", row.ID).Scan(ctx); err != nil {
			return nil, "", fmt.Errorf("read loyalty account: %w", err)
		}
	}
	return acc, row.CustomerStatus, nil
}

// statusErased is the status the loyalty rules read for an erased customer (§11): it can no
// longer record purchases, earn or redeem (statusSQL reads it from the customer row c).
const statusErased models.CustomerStatus = "erased"

const statusSQL = "CASE WHEN c.erased_at IS NOT NULL THEN 'erased' ELSE c.status END"

func erased(field []string) error {
	return apperr.OnField(apperr.InvalidState, field, "the customer was erased")
}

// refuseGone is INVALID_STATE for a customer that no longer earns, redeems or enrolls: an
// erased one (§11) or a merged one (§10: its survivor does).
func refuseGone(status models.CustomerStatus, field []string) error {
	switch status {
	case statusErased:
		return erased(field)
	case models.CustomerStatusMerged:
		return apperr.OnField(apperr.InvalidState, field, "the customer was merged into another customer")
	}
	return nil
}

func blocked(field []string) error {
	return apperr.OnField(apperr.CustomerBlocked, field, "the customer is blocked")
}

// move is one movement of points on a customer's account, the skeleton the point mutations
// share: replay, lock the account (expiring what is due), check the customer, apply, audit.
type move struct {
	customerID uuid.UUID
	// replay returns the original result of the request's idempotency key, nil when the
	// key is unused (or IDEMPOTENCY_CONFLICT); nil replay: the mutation has no key.
	replay func(ctx context.Context, tx bun.Tx) (*PointsResult, error)
	// takesOnly: the movement only takes points away, which a blocked customer allows.
	takesOnly bool
	apply     func(ctx context.Context, tx bun.Tx, acc *models.LoyaltyAccount) (*models.LoyaltyTransaction, audit.Entry, error)
}

func (s *Service) movePoints(ctx context.Context, m move) (*PointsResult, error) {
	var out *PointsResult
	err := s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		if m.replay != nil {
			var err error
			if out, err = m.replay(ctx, tx); err != nil || out != nil {
				return err
			}
		}
		field := []string{"customerId"}
		acc, status, err := lockAccount(ctx, tx, m.customerID)
		if err != nil {
			return err
		}
		if acc == nil {
			c, err := lockCustomer(ctx, tx, m.customerID, field, "KEY SHARE")
			if err != nil {
				return err
			}
			status = c.Status
		}
		if status == models.CustomerStatusBlocked && !m.takesOnly {
			return blocked(field)
		}
		if err := refuseGone(status, field); err != nil {
			return err
		}
		if acc == nil {
			return apperr.OnField(apperr.InvalidState, field, "the customer is not enrolled in the loyalty program")
		}
		t, entry, err := m.apply(ctx, tx, acc)
		if err != nil {
			return err
		}
		out = &PointsResult{Account: acc, Transaction: t}
		return audit.Record(ctx, tx, p, entry)
	})
	if errors.Is(err, errReplay) {
		// Lost a race with the same key: the other request committed first.
		err = s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
			var err error
			if out, err = m.replay(ctx, tx); err == nil && out == nil {
				err = errors.New("idempotency key conflict without a stored request")
			}
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Redemption is a request to spend points.
type Redemption struct {
	CustomerID    uuid.UUID
	Points        int
	ReferenceType string
	ReferenceID   string
	Description   *string
}

// Redeem spends points, oldest lots first (§4): 1 ≤ points ≤ balance, else
// INSUFFICIENT_POINTS (below 1: INVALID). The account row is locked for the check and the
// change, so concurrent redemptions never drive the balance negative. Unique by
// (referenceType, referenceId) in the organization (§8).
func (s *Service) Redeem(ctx context.Context, in Redemption) (*PointsResult, error) {
	if err := auth.Require(ctx, auth.Agent); err != nil {
		return nil, err
	}
	desc := trimmed(in.Description)
	var errs apperr.List
	if in.Points < 1 {
		errs = append(errs, apperr.OnField(apperr.Invalid, []string{"points"}, "points must be at least 1"))
	}
	errs = append(errs, key("referenceType", in.ReferenceType, 50)...)
	errs = append(errs, key("referenceId", in.ReferenceID, 255)...)
	errs = append(errs, text("description", desc, 0, maxDescription)...)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s.movePoints(ctx, move{
		customerID: in.CustomerID,
		takesOnly:  false, // §3: a blocked customer cannot redeem
		replay: func(ctx context.Context, tx bun.Tx) (*PointsResult, error) {
			t, customer, err := keyedMovement(ctx, tx, models.TxRedeem, in.ReferenceType, in.ReferenceID)
			if err != nil || t == nil {
				return nil, err
			}
			if customer != in.CustomerID || -t.Points != in.Points || !sameText(t.Description, desc) {
				return nil, conflict("referenceId", "this referenceType and referenceId were used for another redemption")
			}
			return replayed(ctx, tx, t)
		},
		apply: func(ctx context.Context, tx bun.Tx, acc *models.LoyaltyAccount) (*models.LoyaltyTransaction, audit.Entry, error) {
			if in.Points > acc.PointsBalance {
				return nil, audit.Entry{}, apperr.OnField(apperr.InsufficientPoints, []string{"points"},
					"the balance is %d points", acc.PointsBalance)
			}
			balance := acc.PointsBalance - in.Points
			t, err := insertTransaction(ctx, tx, acc, balance, newTransaction{
				typ: models.TxRedeem, points: -in.Points, referenceType: &in.ReferenceType,
				referenceID: &in.ReferenceID, description: desc,
				conflict: "(organization_id, reference_type, reference_id) WHERE transaction_type = 'redeem'",
			})
			if err != nil {
				return nil, audit.Entry{}, err
			}
			if err := consumeLots(ctx, tx, acc.ID, in.Points); err != nil {
				return nil, audit.Entry{}, err
			}
			if err := saveAccount(ctx, tx, acc, accountChange{balance: balance, redeemed: in.Points}); err != nil {
				return nil, audit.Entry{}, err
			}
			return t, movementEntry("loyalty.redeem", acc, t, "points_balance", "points_redeemed"), nil
		},
	})
}

// Bonus is a request to award points for a reason.
type Bonus struct {
	CustomerID  uuid.UUID
	Points      int
	Reason      string
	ReferenceID string
}

// AwardBonus gives points for a reason (sign-up, birthday, campaign): a lot that expires
// like earned points and counts toward tiers, so it can upgrade the tier (§4). Unique by
// referenceId per account: one campaign id rewards many customers, each once.
func (s *Service) AwardBonus(ctx context.Context, in Bonus) (*PointsResult, error) {
	if err := auth.Require(ctx, auth.Agent); err != nil {
		return nil, err
	}
	reason := trimmed(&in.Reason)
	var errs apperr.List
	if in.Points < 1 {
		errs = append(errs, apperr.OnField(apperr.Invalid, []string{"points"}, "points must be at least 1"))
	}
	errs = append(errs, text("reason", reason, 1, maxReason)...)
	errs = append(errs, key("referenceId", in.ReferenceID, 255)...)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s.movePoints(ctx, move{
		customerID: in.CustomerID,
		replay: func(ctx context.Context, tx bun.Tx) (*PointsResult, error) {
			t := new(models.LoyaltyTransaction)
			err := tx.NewSelect().Model(t).
				Join("JOIN loyalty_accounts la ON la.organization_id = lt.organization_id AND la.loyalty_account_id = lt.loyalty_account_id").
				Where("lt.organization_id = ?", db.Org(ctx)).
				Where("la.customer_id = ?", in.CustomerID).Where("lt.transaction_type = ?", models.TxBonus).
				Where("lt.reference_id = ?", in.ReferenceID).Scan(ctx)
			if errors.Is(err, sql.ErrNoRows) {
				return nil, nil
			}
			if err != nil {
				return nil, fmt.Errorf("read bonus: %w", err)
			}
			if t.Points != in.Points || !sameText(t.Description, reason) {
				return nil, conflict("referenceId", "this referenceId was used for another bonus of this customer")
			}
			return replayed(ctx, tx, t)
		},
		apply: func(ctx context.Context, tx bun.Tx, acc *models.LoyaltyAccount) (*models.LoyaltyTransaction, audit.Entry, error) {
			if err := fits(acc, in.Points, true); err != nil {
				return nil, audit.Entry{}, err
			}
			prog, err := programOf(ctx, tx, acc.OrganizationID)
			if err != nil {
				return nil, audit.Entry{}, err
			}
			to, err := upgradeTo(ctx, tx, prog, acc, in.Points)
			if err != nil {
				return nil, audit.Entry{}, err
			}
			balance := acc.PointsBalance + in.Points
			t, err := insertTransaction(ctx, tx, acc, balance, newTransaction{
				typ: models.TxBonus, points: in.Points, referenceType: ptr("bonus"), referenceID: &in.ReferenceID,
				description: reason, lifetimeMonths: prog.PointsLifetimeMonths,
				conflict: "(organization_id, loyalty_account_id, reference_id) WHERE transaction_type = 'bonus' AND merged_from_account_id IS NULL",
			})
			if err != nil {
				return nil, audit.Entry{}, err
			}
			if err := addQualifying(ctx, tx, qualifyingDay{acc.ID, effective(t), in.Points}); err != nil {
				return nil, audit.Entry{}, err
			}
			ch := accountChange{balance: balance, lifetime: in.Points, tier: to, tierMonths: prog.TierDurationMonths}
			if err := saveAccount(ctx, tx, acc, ch); err != nil {
				return nil, audit.Entry{}, err
			}
			e := movementEntry("loyalty.bonus", acc, t, "points_balance", "lifetime_points")
			tierChange(&e, to)
			return t, e, nil
		},
	})
}

// Adjustment is a manager's correction of a balance.
type Adjustment struct {
	CustomerID     uuid.UUID
	Points         int // signed, not zero
	Reason         string
	IdempotencyKey string // §13: unique in the organization, stored as the reference_id
}

// Adjust corrects a balance up or down with a reason (a manager's). It never makes the
// balance negative (INSUFFICIENT_POINTS). Points added are a lot that expires like earned
// points but does not count toward tiers; points taken consume the oldest lots first.
// Taking points from a blocked customer is allowed; giving is not. Unique by its idempotency
// key in the organization (§13): a replay answers the original adjustment, the same key for
// another customer, points or reason is IDEMPOTENCY_CONFLICT.
func (s *Service) Adjust(ctx context.Context, in Adjustment) (*PointsResult, error) {
	if err := auth.Require(ctx, auth.Manager); err != nil {
		return nil, err
	}
	reason := trimmed(&in.Reason)
	var errs apperr.List
	if in.Points == 0 {
		errs = append(errs, apperr.OnField(apperr.Invalid, []string{"points"}, "points must not be zero"))
	}
	errs = append(errs, text("reason", reason, 1, maxReason)...)
	errs = append(errs, key("idempotencyKey", in.IdempotencyKey, 255)...)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s.movePoints(ctx, move{
		customerID: in.CustomerID,
		takesOnly:  in.Points < 0,
		replay: func(ctx context.Context, tx bun.Tx) (*PointsResult, error) {
			t, customer, err := keyedMovement(ctx, tx, models.TxAdjust, "manual", in.IdempotencyKey)
			if err != nil || t == nil {
				return nil, err
			}
			if customer != in.CustomerID || t.Points != in.Points || !sameText(t.Description, reason) {
				return nil, conflict("idempotencyKey", "this idempotencyKey was used for another adjustment")
			}
			return replayed(ctx, tx, t)
		},
		apply: func(ctx context.Context, tx bun.Tx, acc *models.LoyaltyAccount) (*models.LoyaltyTransaction, audit.Entry, error) {
			n := newTransaction{typ: models.TxAdjust, points: in.Points, referenceType: ptr("manual"), referenceID: &in.IdempotencyKey,
				description: reason,
				conflict:    "(organization_id, reference_id) WHERE transaction_type = 'adjust' AND reference_type = 'manual'"}
			if in.Points > 0 {
				if err := fits(acc, in.Points, false); err != nil {
					return nil, audit.Entry{}, err
				}
				prog, err := programOf(ctx, tx, acc.OrganizationID)
				if err != nil {
					return nil, audit.Entry{}, err
				}
				n.lifetimeMonths = prog.PointsLifetimeMonths
			} else if -in.Points > acc.PointsBalance {
				return nil, audit.Entry{}, apperr.OnField(apperr.InsufficientPoints, []string{"points"},
					"the balance is %d points; it cannot go below zero", acc.PointsBalance)
			}
			balance := acc.PointsBalance + in.Points
			t, err := insertTransaction(ctx, tx, acc, balance, n)
			if err != nil {
				return nil, audit.Entry{}, err
			}
			if err := consumeLots(ctx, tx, acc.ID, -in.Points); err != nil {
				return nil, audit.Entry{}, err
			}
			if err := saveAccount(ctx, tx, acc, accountChange{balance: balance}); err != nil {
				return nil, audit.Entry{}, err
			}
			return t, movementEntry("loyalty.adjust", acc, t, "points_balance"), nil
		},
	})
}

// keyedMovement is the organization's movement of a type stored under an idempotency key
// (reference type and id), with its account's customer; nil when the key is unused.
func keyedMovement(ctx context.Context, tx bun.Tx, typ models.LoyaltyTransactionType, refType, refID string) (*models.LoyaltyTransaction, uuid.UUID, error) {
	var row struct {
		models.LoyaltyTransaction `bun:",extend"`
		CustomerID                uuid.UUID `bun:"customer_id,type:uuid"`
	}
	q := tx.NewSelect().Model(&row).ColumnExpr("lt.*").ColumnExpr("la.customer_id").
		Join("JOIN loyalty_accounts la ON la.organization_id = lt.organization_id AND la.loyalty_account_id = lt.loyalty_account_id").
		Where("lt.organization_id = ?", orgParam).Where("lt.transaction_type = ?", typ).
		Where("lt.reference_type = ?", bun.Safe("$2::text")).Where("lt.reference_id = ?", bun.Safe("$3::text"))
	err := db.ScanPrepared(ctx, tx, &row, q.String(), db.Org(ctx), refType, refID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, uuid.Nil, nil
	}
	if err != nil {
		return nil, uuid.Nil, fmt.Errorf("read %s: %w", typ, err)
	}
	return &row.LoyaltyTransaction, row.CustomerID, nil
}

// replayed is the original result of a keyed movement: the transaction as written and the
// account as it is now.
func replayed(ctx context.Context, tx bun.IDB, t *models.LoyaltyTransaction) (*PointsResult, error) {
	acc := new(models.LoyaltyAccount)
	if err := tx.NewSelect().Model(acc).Where("la.organization_id = ?", t.OrganizationID).
		Where("la.loyalty_account_id = ?", t.LoyaltyAccountID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read loyalty account: %w", err)
	}
	return &PointsResult{Account: acc, Transaction: t}, nil
}

func conflict(field, msg string) error {
	return apperr.OnField(apperr.IdempotencyConflict, []string{field}, "%s", msg)
}

// fits refuses points an account's integer counters could not hold.
func fits(acc *models.LoyaltyAccount, points int, lifetime bool) error {
	if points > math.MaxInt32-acc.PointsBalance || (lifetime && points > math.MaxInt32-acc.LifetimePoints) {
		return apperr.OnField(apperr.Invalid, []string{"points"}, "too many points for one account")
	}
	return nil
}

// movementEntry is the audit row of a movement: ids and points, nothing personal.
func movementEntry(action string, acc *models.LoyaltyAccount, t *models.LoyaltyTransaction, changed ...string) audit.Entry {
	return audit.Entry{
		Action: action, EntityType: "loyalty_account", EntityID: acc.ID, ChangedFields: changed,
		Details: map[string]any{"transaction_id": t.ID, "points": t.Points, "balance_after": t.BalanceAfter},
	}
}

func tierChange(e *audit.Entry, to models.Tier) {
	if to != "" {
		e.ChangedFields = append(e.ChangedFields, "tier", "tier_since", "tier_expires_at")
		e.Details["tier"] = to
	}
}

const (
	maxReason      = 500
	maxDescription = 1000
)

// trimmed is s without surrounding spaces; nil when nothing is left.
func trimmed(s *string) *string {
	if s == nil {
		return nil
	}
	t := strings.TrimSpace(*s)
	if t == "" {
		return nil
	}
	return &t
}

// text checks an optional (min 0) or required (min 1) free text's length in characters.
func text(name string, s *string, min, max int) apperr.List {
	switch {
	case s == nil && min > 0:
		return apperr.List{apperr.OnField(apperr.Invalid, []string{name}, "%s is required", name)}
	case s != nil && utf8.RuneCountInString(*s) > max:
		return apperr.List{apperr.OnField(apperr.Invalid, []string{name}, "%s has at most %d characters", name, max)}
	}
	return nil
}

// key checks an idempotency key: used as given (not trimmed), not blank, at most max characters.
func key(name, s string, max int) apperr.List {
	if strings.TrimSpace(s) == "" || utf8.RuneCountInString(s) > max || !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return apperr.List{apperr.OnField(apperr.Invalid, []string{name}, "%s must be 1–%d characters", name, max)}
	}
	return nil
}

func sameText(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
