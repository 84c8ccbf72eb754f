package loyalty

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"customerservice/db"
	"customerservice/models"
)

// Qualifying points (§4, §13) without reading an account's history (issue 17): the ledger's
// qualifying points are kept per account and UTC day in loyalty_qualifying_days — an earn or
// bonus on the day of its effective instant COALESCE(vests_at, occurred_at, created_at), a
// refund's reversal on the day of the earn it reverses — for every row but the lots still
// pending, whose points (net of the refunds that cancelled part of them) enter the day of
// vests_at when they vest. Every writer of those rows adds to the day in its own transaction:
// the earn of a purchase (RecordPurchase), a bonus (AwardBonus), a refund's reversal
// (RecordRefund) and vesting (vestDue). Redemptions, expiry and manual adjustments never
// qualify.

// QualifyingSQL is the SQL of the qualifying points (§4) of the account whose organization
// and id are the expressions org and account, earned after the instant since and by the
// instant until: earns and bonuses at their time — a pending earn's when it vests (§13), a
// back-dated one's at its purchase — a refund's reversal at the time of the earn it reverses.
// since and until appear more than once: they must be stable within the statement (now(),
// statement_timestamp(), columns, positional placeholders such as ?0, never a sequential ?),
// since before until. (A derived table evaluating them once would be a subquery in the FROM
// of a correlated subquery, which Citus refuses.)
//
// It is the sum of the ledger's rows at those instants, read as: the day totals after the day
// of since, plus the rows of since's day after since, minus the rows after until (an instant
// only clock skew or a future-dated row can leave there), plus the pending lots vesting inside
// the window (not in the totals yet; a lot holds its earn net of its cancellations). A year of
// days, one day of rows and the account's pending lots: the same work with 10 or 10,000
// transactions behind it.
func QualifyingSQL(org, account, since, until string) string {
	sinceDay := "((" + since + ") AT TIME ZONE 'UTC')::date"
	return `(COALESCE((SELECT sum(d.points) FROM loyalty_qualifying_days d
			WHERE d.organization_id = ` + org + ` AND d.loyalty_account_id = ` + account + ` AND d.day > ` + bound(sinceDay) + `), 0)
		+ ` + ledgerQualifying(org, account, `> `+bound(since)+` AND `+effectiveAt+` < `+bound(`(`+sinceDay+` + 1)::timestamp AT TIME ZONE 'UTC'`)) + `
		- ` + ledgerQualifying(org, account, `> `+bound(until)) + `
		+ COALESCE((SELECT sum(p.points_remaining) FROM loyalty_transactions p
			WHERE p.organization_id = ` + org + ` AND p.loyalty_account_id = ` + account + ` AND p.pending
				AND p.vests_at > ` + bound(since) + ` AND p.vests_at <= ` + bound(until) + `), 0))::int`
}

// bound is a bound of the window as a sub-select, so that the column is compared with its
// value (a parameter of the plan), which PostgreSQL can prove leaks nothing: under row-level
// security a range is an index condition only then. Written in place, a bound that applies a
// function to anything but constants (AT TIME ZONE to a parameter, make_interval to the
// program's qualification_months: the Customer 360's pointsToNextTier) made the range a
// filter, and the read summed the account's whole history (TestLoyaltyWrites_ReadNoHistory).
func bound(expr string) string { return "(SELECT " + expr + ")" }

// effectiveAt is the instant an earn or bonus e counts toward tiers (§13):
// COALESCE(vests_at, occurred_at, created_at), written as the CASE that
// loyalty_transactions_qualifying_idx indexes. Under row-level security PostgreSQL takes a
// range on COALESCE for a filter, never an index condition (it cannot prove COALESCE leaks
// nothing), and the tier check then read every earn of the account (issue 17); CASE over plain
// columns it can use.
const effectiveAt = "(CASE WHEN e.vests_at IS NOT NULL THEN e.vests_at WHEN e.occurred_at IS NOT NULL THEN e.occurred_at ELSE e.created_at END)"

// ledgerQualifying is the SQL of the qualifying points, read from the ledger, of the account's
// earns and bonuses that are not pending and whose effective instant satisfies cond (e.g.
// "> w.until"), each earn net of what its purchase's refunds reversed (purchases.points_reversed,
// kept by every refund in the transaction that writes its reversal). The earns come from
// loyalty_transactions_qualifying_idx; each purchase by its key (organization, order), whose
// equalities are leakproof, so an index condition under row-level security, and the one index
// the planner may take for it with or without the values (a prepared statement's generic plan).
// Before, the reversals were summed from the ledger by the order they record: two indexes
// served that lookup, and a generic plan could take the one that reads every refund reversal
// of the organization (TestLoyaltyWrites_ReadNoHistory). The sum is the same: each refund adds
// to points_reversed exactly the points of the reversal it writes (RecordRefund), and a merge
// moves an earn with its reversals and keeps its purchase.
func ledgerQualifying(org, account, cond string) string {
	return `COALESCE((SELECT sum(e.points - CASE WHEN e.transaction_type = 'earn' AND e.reference_type = 'order' THEN
				COALESCE((SELECT p.points_reversed FROM purchases p
					WHERE p.organization_id = ` + org + ` AND p.order_id = e.reference_id), 0)
				ELSE 0 END)
			FROM loyalty_transactions e
			WHERE e.organization_id = ` + org + ` AND e.loyalty_account_id = ` + account + `
				AND e.transaction_type IN ('earn', 'bonus') AND NOT e.pending AND ` + effectiveAt + ` ` + cond + `), 0)`
}

// qualifyingDay is points that count toward an account's tier from an instant on.
type qualifyingDay struct {
	account uuid.UUID
	at      time.Time
	points  int
}

// addQualifying adds the points to the accounts' day totals (UTC days), in one statement
// (rows as values: on Citus an INSERT … SELECT into a table with row-level security is
// refused; one row per account and day, which ON CONFLICT DO UPDATE needs).
func addQualifying(ctx context.Context, tx bun.Tx, days ...qualifyingDay) error {
	type key struct {
		account uuid.UUID
		day     string
	}
	sums := map[key]int{}
	var order []key
	for _, d := range days {
		k := key{d.account, d.at.UTC().Format(time.DateOnly)}
		if _, ok := sums[k]; !ok {
			order = append(order, k)
		}
		sums[k] += d.points
	}
	values := make([]string, 0, len(order))
	args := make([]any, 0, 4*len(order))
	for _, k := range order {
		if sums[k] == 0 {
			continue
		}
		values = append(values, "(?::uuid, ?::uuid, ?::date, ?::bigint)")
		args = append(args, db.Org(ctx), k.account, k.day, sums[k])
	}
	if len(values) == 0 {
		return nil
	}
	if _, err := tx.NewRaw(`INSERT INTO loyalty_qualifying_days AS q (organization_id, loyalty_account_id, day, points)
		VALUES `+strings.Join(values, ", ")+`
		ON CONFLICT (organization_id, loyalty_account_id, day) DO UPDATE SET points = q.points + EXCLUDED.points`, args...).Exec(ctx); err != nil {
		return fmt.Errorf("add qualifying points: %w", err)
	}
	return nil
}

// effective is the instant an earn or bonus counts toward tiers from (effectiveAt).
func effective(t *models.LoyaltyTransaction) time.Time {
	switch {
	case t.VestsAt != nil:
		return *t.VestsAt
	case t.OccurredAt != nil:
		return *t.OccurredAt
	}
	return t.CreatedAt
}

// moveQualifying moves the kept qualifying points of the accounts from into the account to,
// day by day, with their ledger rows (a merge, §10): to's days gain them, from's are zeroed
// (the server's role has no DELETE; a zero day counts nothing).
func moveQualifying(ctx context.Context, tx bun.Tx, to uuid.UUID, from []uuid.UUID) error {
	var days []struct {
		Day    time.Time `bun:"day"`
		Points int       `bun:"points"`
	}
	if err := tx.NewRaw(`SELECT day, sum(points)::int AS points FROM loyalty_qualifying_days
		WHERE organization_id = ? AND loyalty_account_id = ANY(?) AND points <> 0 GROUP BY day`,
		db.Org(ctx), pgdialect.Array(from)).Scan(ctx, &days); err != nil {
		return fmt.Errorf("read qualifying points: %w", err)
	}
	if len(days) == 0 {
		return nil
	}
	q := make([]qualifyingDay, len(days))
	for i, d := range days {
		q[i] = qualifyingDay{to, d.Day, d.Points}
	}
	if err := addQualifying(ctx, tx, q...); err != nil {
		return err
	}
	if _, err := tx.NewRaw(`UPDATE loyalty_qualifying_days SET points = 0
		WHERE organization_id = ? AND loyalty_account_id = ANY(?) AND points <> 0`, db.Org(ctx), pgdialect.Array(from)).Exec(ctx); err != nil {
		return fmt.Errorf("move qualifying points: %w", err)
	}
	return nil
}
