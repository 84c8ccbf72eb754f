package loyalty

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"customerservice/apperr"
	"customerservice/audit"
	"customerservice/auth"
	"customerservice/db"
	"customerservice/models"
)

// §10 merge: the loyalty part — purchases move to the survivor, and the loyalty accounts of
// the customers merged are combined into one, the survivor's.

// MovedPurchases are the purchases a merge moved to the survivor.
type MovedPurchases struct {
	Moved  int             `json:"moved"`
	Amount decimal.Decimal `json:"amount"`
}

// CombinedAccount is the survivor's loyalty account after a merge: which account it is and
// whose it was, how much of the ledger moved into it, and its resulting figures.
type CombinedAccount struct {
	AccountID         uuid.UUID       `json:"accountId"`
	FromCustomerID    uuid.UUID       `json:"fromCustomerId"`
	AccountsCombined  int             `json:"accountsCombined"`
	TransactionsMoved int             `json:"transactionsMoved"`
	LotsMoved         int             `json:"lotsMoved"`
	PointsBalance     int             `json:"pointsBalance"`
	PendingPoints     int             `json:"pendingPoints"`
	LifetimePoints    int             `json:"lifetimePoints"`
	PointsRedeemed    int             `json:"pointsRedeemed"`
	TotalPurchases    int             `json:"totalPurchases"`
	TotalSpent        decimal.Decimal `json:"totalSpent"`
	QualifyingPoints  int             `json:"qualifyingPoints"`
	Tier              models.Tier     `json:"tier"`
	TierSince         time.Time       `json:"tierSince"`
	TierExpiresAt     *time.Time      `json:"tierExpiresAt"`
}

// Combine moves the merged customers' purchases to the survivor and combines the loyalty
// accounts of all of them into one (§10), in the caller's transaction, whose customers are
// locked. The accounts are locked in the order of their ids, and what the jobs would have
// done to each is done first (vesting, expiry, a tier whose term ended). The survivor's
// account is kept (when it has none, the merged customer's account with the smallest id
// becomes its); every other account's ledger moves into it in one UPDATE — each lot with
// its points remaining, expiry, pending state and vesting date — and its figures are added
// to it: balance, lifetime and redeemed points, purchases and amount spent. The emptied
// accounts stay with their merged customers, at zero. The tier is the highest of the
// accounts' tiers and of the tier the combined qualifying points reach (an upgrade starts
// on the UTC day of the merge's instant, below; a tier held keeps its dates). Nil when no
// one was enrolled.
//
// Like every loyalty write, the merge has one instant (writeClock), read once all the
// accounts are locked: what is due (vesting, expiry, a tier's term) is decided at it, the
// rows it writes (vest, expire, tier changes) are stamped from it, and an upgrade starts on
// its UTC day.
func Combine(ctx context.Context, tx bun.Tx, survivorID uuid.UUID, mergedIDs []uuid.UUID) (*CombinedAccount, *MovedPurchases, error) {
	org := db.Org(ctx)
	ids := append([]uuid.UUID{survivorID}, mergedIDs...)
	var locked []struct {
		models.LoyaltyAccount `bun:",extend"`
		LockedAt              time.Time `bun:"locked_at"`
	}
	// The instant is computed from the count of the locked rows: after the last lock.
	if err := tx.NewRaw(`WITH locked AS MATERIALIZED (
			SELECT la.* FROM loyalty_accounts AS la
			WHERE la.organization_id = ?0 AND la.customer_id = ANY(?1)
			ORDER BY la.loyalty_account_id
			FOR UPDATE
		), instant AS MATERIALIZED (
			SELECT clock_timestamp() AS locked_at FROM (SELECT count(*) FROM locked) n
		)
		SELECT locked.*, instant.locked_at FROM locked, instant ORDER BY locked.loyalty_account_id`,
		org, pgdialect.Array(ids)).Scan(ctx, &locked); err != nil {
		return nil, nil, fmt.Errorf("lock loyalty accounts: %w", err)
	}
	accs := make([]models.LoyaltyAccount, len(locked))
	for i := range locked {
		accs[i] = locked[i].LoyaltyAccount
	}
	if len(locked) > 0 {
		ctx = context.WithValue(ctx, clockKey{}, &writeClock{})
		startClock(ctx, locked[0].LockedAt)
	}
	purchases := &MovedPurchases{}
	if err := tx.NewRaw(`WITH moved AS (
			UPDATE purchases SET customer_id = ? WHERE organization_id = ? AND customer_id = ANY(?) RETURNING amount
		) SELECT count(*)::int AS moved, COALESCE(sum(amount), 0) AS amount FROM moved`,
		survivorID, org, pgdialect.Array(mergedIDs)).Scan(ctx, purchases); err != nil {
		return nil, nil, fmt.Errorf("move purchases: %w", err)
	}
	if len(accs) == 0 {
		return nil, purchases, nil
	}
	accIDs := make([]uuid.UUID, len(accs))
	for i := range accs {
		accIDs[i] = accs[i].ID
	}
	prog, err := programOf(ctx, tx, org)
	if err != nil {
		return nil, nil, err
	}
	at, err := dueAt(ctx)
	if err != nil {
		return nil, nil, err
	}
	if _, _, err := vestDue(ctx, tx, prog, accIDs, at); err != nil {
		return nil, nil, err
	}
	if _, _, err := expireDue(ctx, tx, accIDs, at); err != nil {
		return nil, nil, err
	}
	if _, _, err := reevaluateTiers(ctx, tx, prog, accIDs, at); err != nil {
		return nil, nil, err
	}
	accs = accs[:0]
	if err := tx.NewSelect().Model(&accs).Where("la.organization_id = ?", org).Where("la.loyalty_account_id = ANY(?)", pgdialect.Array(accIDs)).
		OrderExpr("la.loyalty_account_id").Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("read loyalty accounts: %w", err)
	}

	target := 0
	for i := range accs {
		if accs[i].CustomerID == survivorID {
			target = i
			break
		}
	}
	t := accs[target]
	out := &CombinedAccount{AccountID: t.ID, FromCustomerID: t.CustomerID, AccountsCombined: len(accs)}
	var others []uuid.UUID
	var balance, lifetime, redeemed, purchasesN int64
	spent := decimal.Zero
	held := t // the account holding the highest tier (the survivor's on a tie)
	for _, a := range accs {
		balance += int64(a.PointsBalance)
		lifetime += int64(a.LifetimePoints)
		redeemed += int64(a.PointsRedeemed)
		purchasesN += int64(a.TotalPurchases)
		spent = spent.Add(a.TotalSpent)
		if a.ID != t.ID {
			others = append(others, a.ID)
			if rank(a.Tier) > rank(held.Tier) {
				held = a
			}
		}
	}
	if max(balance, lifetime, redeemed, purchasesN) > math.MaxInt32 || !spent.LessThan(maxAmount) {
		return nil, nil, apperr.OnField(apperr.InvalidState, []string{"mergedIds"}, "the combined loyalty account would exceed what an account can hold")
	}
	if t.CustomerID != survivorID {
		if _, err := tx.NewUpdate().Model((*models.LoyaltyAccount)(nil)).Set("customer_id = ?", survivorID).
			Where("la.organization_id = ?", org).Where("la.loyalty_account_id = ?", t.ID).Exec(ctx); err != nil {
			return nil, nil, fmt.Errorf("move loyalty account: %w", err)
		}
	}
	if len(others) > 0 {
		// One statement for the whole ledger, however long (§10: never a statement per row).
		if err := tx.NewRaw(`WITH moved AS (
				UPDATE loyalty_transactions SET loyalty_account_id = ?,
					merged_from_account_id = COALESCE(merged_from_account_id, loyalty_account_id)
				WHERE organization_id = ? AND loyalty_account_id = ANY(?)
				RETURNING points_remaining
			) SELECT count(*)::int AS transactions_moved, count(points_remaining)::int AS lots_moved FROM moved`,
			t.ID, org, pgdialect.Array(others)).Scan(ctx, &out.TransactionsMoved, &out.LotsMoved); err != nil {
			return nil, nil, fmt.Errorf("move loyalty ledger: %w", err)
		}
		if err := moveQualifying(ctx, tx, t.ID, others); err != nil {
			return nil, nil, err
		}
		if _, err := tx.NewUpdate().Model((*models.LoyaltyAccount)(nil)).
			Set("points_balance = 0, lifetime_points = 0, points_redeemed = 0, total_purchases = 0, total_spent = 0").
			Where("la.organization_id = ?", org).Where("la.loyalty_account_id = ANY(?)", pgdialect.Array(others)).Exec(ctx); err != nil {
			return nil, nil, fmt.Errorf("empty merged loyalty accounts: %w", err)
		}
	}
	var sums struct {
		Qualifying int `bun:"qualifying"`
		Pending    int `bun:"pending"`
	}
	if err := tx.NewRaw(`SELECT `+QualifyingSQL("?0::uuid", "?1::uuid", "?2::timestamptz - make_interval(months => ?3)", "?2::timestamptz")+` AS qualifying,
			(SELECT COALESCE(sum(points_remaining), 0)::int FROM loyalty_transactions
				WHERE organization_id = ?0 AND loyalty_account_id = ?1 AND pending) AS pending`,
		org, t.ID, at, prog.QualificationMonths).Scan(ctx, &sums); err != nil {
		return nil, nil, fmt.Errorf("sum qualifying points: %w", err)
	}
	q := tx.NewUpdate().Model(&t).WherePK().
		Set("points_balance = ?", balance).Set("lifetime_points = ?", lifetime).Set("points_redeemed = ?", redeemed).
		Set("total_purchases = ?", purchasesN).Set("total_spent = ?", spent)
	tier := t.Tier
	switch earned := TierFor(prog, sums.Qualifying); {
	case rank(earned) > rank(held.Tier):
		tier = earned
		q = q.Set("tier = ?", tier).Set("tier_since = "+dayOf, at).
			Set("tier_expires_at = ("+dayOf+" + make_interval(months => ?))::date", at, prog.TierDurationMonths)
	case held.ID != t.ID:
		tier = held.Tier
		q = q.Set("tier = ?", tier).Set("tier_since = ?", held.TierSince).Set("tier_expires_at = ?", held.TierExpiresAt)
	}
	from := t.Tier
	if _, err := q.Returning("*").Exec(ctx); err != nil {
		return nil, nil, fmt.Errorf("update loyalty account: %w", err)
	}
	if tier != from {
		if err := recordTier(ctx, tx, &t, tier); err != nil {
			return nil, nil, err
		}
		p, _ := auth.FromContext(ctx)
		if err := audit.Record(ctx, tx, p, audit.Entry{Action: tierChangeAction, EntityType: "loyalty_account", EntityID: t.ID,
			ChangedFields: []string{"tier", "tier_since", "tier_expires_at"}, Details: map[string]any{"from": from, "to": tier, "merge": true}}); err != nil {
			return nil, nil, err
		}
	}
	out.PointsBalance, out.PendingPoints, out.LifetimePoints = t.PointsBalance, sums.Pending, t.LifetimePoints
	out.PointsRedeemed, out.TotalPurchases, out.TotalSpent = t.PointsRedeemed, t.TotalPurchases, t.TotalSpent
	out.QualifyingPoints, out.Tier, out.TierSince, out.TierExpiresAt = sums.Qualifying, t.Tier, t.TierSince, t.TierExpiresAt
	return out, purchases, nil
}
