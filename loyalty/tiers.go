package loyalty

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"customerservice/audit"
	"customerservice/auth"
	"customerservice/db"
	"customerservice/models"
)

// qualifyingSum is the SQL of the qualifying points (§4) of the account whose id is the SQL
// expression account, as of a time: the points earned (earn and bonus) in the
// qualification window before it, net of the refund reversals of earns in that window. An
// earn counts at its occurred_at, the time of its purchase (§13: a back-dated purchase
// counts when it happened, not when it was recorded); a bonus when it was given. A
// reversal counts at the time of the earn it reverses — the earn of the order the reversal
// records in its metadata (RecordRefund) — so refunding today an order earned 13 months ago
// takes nothing from this window, and a reversal leaves the window with its earn. Manual
// adjustments do not count. Its placeholders are the time and the window in months; org is
// the SQL expression of the account's organization.
func qualifyingSum(org, account string) string {
	return QualifyingSQL(org, account, "?0::timestamptz - make_interval(months => ?1)", "?0::timestamptz")
}

// qualifyingPoints sums an account's qualifying points in the window before the write's
// instant, up to its latest row: the transactions this write stamped before it included,
// pending points not yet vested not.
func qualifyingPoints(ctx context.Context, tx bun.Tx, org, accountID uuid.UUID, months int) (int, error) {
	at, err := dueAt(ctx)
	if err != nil {
		return 0, err
	}
	last, err := lastStamp(ctx)
	if err != nil {
		return 0, err
	}
	var n int
	err = db.ScanPrepared(ctx, tx, &n, `SELECT `+QualifyingSQL("$1::uuid", "$2::uuid", "$3::timestamptz - make_interval(months => $4::int)", "$5::timestamptz"),
		org, accountID, at, months, last)
	if err != nil {
		return 0, fmt.Errorf("sum qualifying points: %w", err)
	}
	return n, nil
}

// upgradeTo is UpgradeTo for a locked account, its qualifying points summed in the
// database (only when an upgrade is possible at all), before the added points are written.
func upgradeTo(ctx context.Context, tx bun.Tx, prog *models.LoyaltyProgram, acc *models.LoyaltyAccount, added int) (models.Tier, error) {
	if NextTier(acc.Tier) == nil || added <= 0 {
		return "", nil
	}
	q, err := qualifyingPoints(ctx, tx, acc.OrganizationID, acc.ID, prog.QualificationMonths)
	if err != nil {
		return "", err
	}
	return UpgradeTo(prog, acc.Tier, q, added), nil
}

// upgradeAfter is the tier a locked account rises to once an earn of points was written
// ("" when it stays): its qualifying points summed in the database with that earn at its
// own time, so an earn older than the qualification window (§13: a back-dated purchase)
// upgrades nothing.
func upgradeAfter(ctx context.Context, tx bun.Tx, prog *models.LoyaltyProgram, acc *models.LoyaltyAccount, points int) (models.Tier, error) {
	if NextTier(acc.Tier) == nil || points <= 0 {
		return "", nil
	}
	q, err := qualifyingPoints(ctx, tx, acc.OrganizationID, acc.ID, prog.QualificationMonths)
	if err != nil {
		return "", err
	}
	if to := TierFor(prog, q); rank(to) > rank(acc.Tier) {
		return to, nil
	}
	return "", nil
}

// raiseTiers upgrades, in one statement, the (locked) accounts among ids whose qualifying
// points as of at reach a higher tier than theirs (§13: pending points count when they
// vest): the new tier starts on the day of at and holds tier_duration_months. It never
// lowers a tier (that is the re-evaluation's, when a tier's term ends). A raise follows
// vesting, a rule: it is audited as a tier change by SYSTEM (§12), like the re-evaluation.
func raiseTiers(ctx context.Context, tx bun.Tx, prog *models.LoyaltyProgram, ids []uuid.UUID, at time.Time) error {
	org := db.Org(ctx)
	var rows []struct {
		newTier
		OldTier models.Tier `bun:"old_tier"`
	}
	err := tx.NewRaw(`WITH q AS (
			SELECT a.loyalty_account_id, a.tier AS old_tier, `+qualifyingSum("a.organization_id", "a.loyalty_account_id")+` AS points,
				`+dayOfAt+` AS day
			FROM loyalty_accounts a
			WHERE a.organization_id = ?2 AND a.loyalty_account_id = ANY(?3) AND a.tier <> 'platinum'
		), n AS (
			SELECT loyalty_account_id, old_tier, day,
				CASE WHEN points >= ?4 THEN 'platinum' WHEN points >= ?5 THEN 'gold'
					WHEN points >= ?6 THEN 'silver' ELSE 'bronze' END AS tier
			FROM q
		), u AS (
			UPDATE loyalty_accounts a SET tier = n.tier, tier_since = n.day,
				tier_expires_at = (n.day + make_interval(months => ?7))::date
			FROM n WHERE a.organization_id = ?2 AND a.loyalty_account_id = n.loyalty_account_id
				AND array_position(ARRAY['bronze', 'silver', 'gold', 'platinum'], n.tier) >
					array_position(ARRAY['bronze', 'silver', 'gold', 'platinum'], a.tier::text)
			RETURNING a.loyalty_account_id, n.old_tier, a.tier
		)
		SELECT loyalty_account_id, old_tier, tier FROM u`,
		at, prog.QualificationMonths, org, pgdialect.Array(ids),
		prog.ThresholdPlatinum, prog.ThresholdGold, prog.ThresholdSilver,
		prog.TierDurationMonths).Scan(ctx, &rows)
	if err != nil {
		return fmt.Errorf("raise tiers: %w", err)
	}
	changes := make([]newTier, len(rows))
	entries := make([]audit.Entry, len(rows))
	for i, r := range rows {
		changes[i] = r.newTier
		entries[i] = audit.Entry{Action: tierChangeAction, EntityType: "loyalty_account", EntityID: r.Account,
			ChangedFields: []string{"tier", "tier_since", "tier_expires_at"}, Details: map[string]any{"from": r.OldTier, "to": r.Tier}}
	}
	if err := recordTiers(ctx, tx, changes); err != nil {
		return err
	}
	return audit.RecordAll(ctx, tx, auth.Principal{UserID: auth.System, OrganizationID: org}, entries)
}

// newTier is an account's new tier.
type newTier struct {
	Account uuid.UUID   `bun:"loyalty_account_id"`
	Tier    models.Tier `bun:"tier"`
}

// recordTiers appends the changes to the accounts' tier histories, at the write's next stamp
// (the clock outside a write): one INSERT of the rows as values (on Citus, an INSERT … SELECT
// into a table with row-level security is refused).
func recordTiers(ctx context.Context, tx bun.Tx, changes []newTier) error {
	if len(changes) == 0 {
		return nil
	}
	values := make([]string, len(changes))
	args := make([]any, 0, 4*len(changes))
	at, err := stamp(ctx)
	if err != nil {
		return err
	}
	for i, c := range changes {
		values[i] = "(?::uuid, ?::uuid, ?, ?::timestamptz)"
		args = append(args, db.Org(ctx), c.Account, c.Tier, at)
	}
	if _, err := tx.NewRaw(`INSERT INTO loyalty_tier_changes (organization_id, loyalty_account_id, tier, changed_at)
		VALUES `+strings.Join(values, ", "), args...).Exec(ctx); err != nil {
		return fmt.Errorf("record tier changes: %w", err)
	}
	return nil
}
