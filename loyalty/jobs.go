package loyalty

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"customerservice/audit"
	"customerservice/auth"
	"customerservice/db"
	"customerservice/models"
)

// The scheduled jobs of §4 and §13 (run by `jobs run` and the scheduler): vesting of pending
// points, points expiry and tier re-evaluation. Each runs per organization in one transaction of that organization, as
// set-based SQL: one statement locks the accounts concerned, one changes them all.
//
// Running twice is safe (the second run finds nothing due), and so is running in two
// processes at once: a process takes a transaction-scoped advisory lock per organization
// and job, and skips the organization when another process holds it; accounts are locked
// FOR UPDATE SKIP LOCKED, so an account busy in a mutation is left to that mutation (which
// expires its own due lots first) or to the next run.

// JobCounts is what a run did.
type JobCounts struct {
	Organizations   int // organizations visited
	VestedAccounts  int // accounts whose pending points vested (one vest transaction each)
	VestedPoints    int
	ExpiredAccounts int // accounts that lost points to expiry (one expire transaction each)
	ExpiredPoints   int
	TiersEvaluated  int // accounts whose tier_expires_at had passed
	TiersChanged    int // of those, how many changed tier
}

// RunJobs runs both jobs for every organization, as of now.
func RunJobs(ctx context.Context, pool bun.IDB, now time.Time) (JobCounts, error) {
	var total JobCounts
	orgs, err := db.Organizations(ctx, pool)
	if err != nil {
		return total, fmt.Errorf("list organizations: %w", err)
	}
	for _, o := range orgs {
		org, err := uuid.Parse(o)
		if err != nil {
			return total, fmt.Errorf("organization id %q: %w", o, err)
		}
		c, err := RunJobsFor(ctx, pool, org, now)
		if err != nil {
			return total, err
		}
		total.add(c)
	}
	return total, nil
}

// RunJobsFor runs both jobs for one organization (the CLI's --org, and progress per tenant).
func RunJobsFor(ctx context.Context, pool bun.IDB, org uuid.UUID, now time.Time) (JobCounts, error) {
	c := JobCounts{Organizations: 1}
	var err error
	if c.VestedAccounts, c.VestedPoints, err = VestPoints(ctx, pool, org, now); err != nil {
		return c, fmt.Errorf("organization %s: %w", org, err)
	}
	if c.ExpiredAccounts, c.ExpiredPoints, err = ExpirePoints(ctx, pool, org, now); err != nil {
		return c, fmt.Errorf("organization %s: %w", org, err)
	}
	if c.TiersEvaluated, c.TiersChanged, err = ReevaluateTiers(ctx, pool, org, now); err != nil {
		return c, fmt.Errorf("organization %s: %w", org, err)
	}
	return c, nil
}

func (c *JobCounts) add(o JobCounts) {
	c.Organizations += o.Organizations
	c.VestedAccounts += o.VestedAccounts
	c.VestedPoints += o.VestedPoints
	c.ExpiredAccounts += o.ExpiredAccounts
	c.ExpiredPoints += o.ExpiredPoints
	c.TiersEvaluated += o.TiersEvaluated
	c.TiersChanged += o.TiersChanged
}

// VestPoints vests the organization's pending lots whose vests_at <= now (§13): one `vest`
// transaction per account for their points, and the tier raised where they now qualify it.
// It runs before the expiry, which takes only vested points.
func VestPoints(ctx context.Context, pool bun.IDB, org uuid.UUID, now time.Time) (accounts, points int, err error) {
	err = db.InOrg(ctx, pool, org, false, func(ctx context.Context, tx bun.Tx) error {
		if ok, err := jobLock(ctx, tx, "loyalty.vest", org); err != nil || !ok {
			return err
		}
		ids, err := lockAccountsWithLots(ctx, tx, org, "t.pending AND t.vests_at <= ?", now)
		if err != nil || len(ids) == 0 {
			return err
		}
		prog, err := programOf(ctx, tx, org)
		if err != nil {
			return err
		}
		accounts, points, err = vestDue(ctx, tx, prog, ids, now)
		return err
	})
	return accounts, points, err
}

// lockAccountsWithLots locks, skipping those a mutation holds, the organization's accounts
// with a transaction t matching cond (its one placeholder is now), in id order.
func lockAccountsWithLots(ctx context.Context, tx bun.Tx, org uuid.UUID, cond string, now time.Time) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	if err := tx.NewRaw(`SELECT a.loyalty_account_id FROM loyalty_accounts a
		WHERE a.organization_id = ? AND a.loyalty_account_id IN (SELECT t.loyalty_account_id FROM loyalty_transactions t
			WHERE t.organization_id = ? AND `+cond+`)
		ORDER BY a.loyalty_account_id
		FOR UPDATE OF a SKIP LOCKED`, org, org, now).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("lock accounts with due lots: %w", err)
	}
	return ids, nil
}

// ExpirePoints zeroes the organization's lots whose expires_at <= now and writes one
// `expire` transaction per account for what remained in them (§4).
func ExpirePoints(ctx context.Context, pool bun.IDB, org uuid.UUID, now time.Time) (accounts, points int, err error) {
	err = db.InOrg(ctx, pool, org, false, func(ctx context.Context, tx bun.Tx) error {
		if ok, err := jobLock(ctx, tx, "loyalty.expire", org); err != nil || !ok {
			return err
		}
		ids, err := lockAccountsWithLots(ctx, tx, org, "t.points_remaining > 0 AND NOT t.pending AND t.expires_at <= ?", now)
		if err != nil || len(ids) == 0 {
			return err
		}
		accounts, points, err = expireDue(ctx, tx, ids, now)
		return err
	})
	return accounts, points, err
}

// ReevaluateTiers re-evaluates the tiers whose tier_expires_at has passed (is before today)
// on the rule of upgrades (§4): qualifying points of the window before now. The tier may
// drop, stay or rise. A tier that stays keeps tier_since; a changed one starts today. Both
// hold tier_duration_months from today; bronze does not expire. A mutation of an account
// does the same for its own account first (lockAccount), so an expired tier never earns
// until the job has run.
func ReevaluateTiers(ctx context.Context, pool bun.IDB, org uuid.UUID, now time.Time) (evaluated, changed int, err error) {
	err = db.InOrg(ctx, pool, org, false, func(ctx context.Context, tx bun.Tx) error {
		if ok, err := jobLock(ctx, tx, "loyalty.tiers", org); err != nil || !ok {
			return err
		}
		prog, err := programOf(ctx, tx, org)
		if err != nil {
			return err
		}
		var ids []uuid.UUID
		if err := tx.NewRaw(`SELECT loyalty_account_id FROM loyalty_accounts
			WHERE organization_id = ? AND tier_expires_at < `+dayOf+`
			ORDER BY loyalty_account_id
			FOR UPDATE SKIP LOCKED`, org, now).Scan(ctx, &ids); err != nil {
			return fmt.Errorf("lock accounts with expired tiers: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		evaluated, changed, err = reevaluateTiers(ctx, tx, prog, ids, now)
		return err
	})
	return evaluated, changed, err
}

// dayOf is the UTC date of a time given as the placeholder's value (the job's now, or a write's instant);
// dayOfAt the same of the positional placeholder ?0 (the statements that repeat it).
const (
	dayOf   = "(?::timestamptz AT TIME ZONE 'UTC')::date"
	dayOfAt = "(?0::timestamptz AT TIME ZONE 'UTC')::date"
)

// reevaluateTiers re-evaluates, in one statement, the tiers of the (locked) accounts whose
// tier_expires_at is before the date of at (the job's time, or the write's instant for a mutation), as
// ReevaluateTiers says; it returns how many it evaluated and how many changed tier. A changed
// tier is appended to the tier history and leaves an audit row `loyalty.tier_change` by
// SYSTEM (§12). The day is computed once in q: Citus refuses an UPDATE whose CASE calls a non-immutable function
// (the cast of the time).
func reevaluateTiers(ctx context.Context, tx bun.Tx, prog *models.LoyaltyProgram, ids []uuid.UUID, at time.Time) (evaluated, changed int, err error) {
	var rows []struct {
		newTier
		OldTier models.Tier `bun:"old_tier"`
	}
	org := db.Org(ctx)
	err = tx.NewRaw(`WITH q AS (
			SELECT a.loyalty_account_id, a.tier AS old_tier, `+qualifyingSum("a.organization_id", "a.loyalty_account_id")+` AS points,
				`+dayOfAt+` AS day
			FROM loyalty_accounts a
			WHERE a.organization_id = ?2 AND a.loyalty_account_id = ANY(?3) AND a.tier_expires_at < `+dayOfAt+`
		), n AS (
			SELECT loyalty_account_id, old_tier, day,
				CASE WHEN points >= ?4 THEN 'platinum' WHEN points >= ?5 THEN 'gold'
					WHEN points >= ?6 THEN 'silver' ELSE 'bronze' END AS tier
			FROM q
		), u AS (
			UPDATE loyalty_accounts a SET tier = n.tier,
				tier_since = CASE WHEN n.tier = n.old_tier THEN a.tier_since ELSE n.day END,
				tier_expires_at = CASE WHEN n.tier = 'bronze' THEN NULL
					ELSE (n.day + make_interval(months => ?7))::date END
			FROM n WHERE a.organization_id = ?2 AND a.loyalty_account_id = n.loyalty_account_id
			RETURNING a.loyalty_account_id, n.old_tier, n.tier
		)
		SELECT loyalty_account_id, old_tier, tier FROM u`,
		at, prog.QualificationMonths, org, pgdialect.Array(ids),
		prog.ThresholdPlatinum, prog.ThresholdGold, prog.ThresholdSilver,
		prog.TierDurationMonths).Scan(ctx, &rows)
	if err != nil {
		return 0, 0, fmt.Errorf("re-evaluate tiers: %w", err)
	}
	var changes []newTier
	var entries []audit.Entry
	for _, r := range rows {
		if r.OldTier != r.Tier {
			changes = append(changes, r.newTier)
			entries = append(entries, audit.Entry{Action: tierChangeAction, EntityType: "loyalty_account", EntityID: r.Account,
				ChangedFields: []string{"tier", "tier_since", "tier_expires_at"}, Details: map[string]any{"from": r.OldTier, "to": r.Tier}})
		}
	}
	if err := recordTiers(ctx, tx, changes); err != nil {
		return 0, 0, err
	}
	if err := audit.RecordAll(ctx, tx, auth.Principal{UserID: auth.System, OrganizationID: org}, entries); err != nil {
		return 0, 0, err
	}
	return len(rows), len(changes), nil
}

// jobLock takes the organization's lock of one job for this transaction; false when another
// process holds it (that process does the work).
func jobLock(ctx context.Context, tx bun.Tx, job string, org uuid.UUID) (bool, error) {
	var ok bool
	err := tx.NewRaw("SELECT pg_try_advisory_xact_lock(hashtextextended(? || ':' || ?, 0))", job, org.String()).Scan(ctx, &ok)
	if err != nil {
		return false, fmt.Errorf("job lock: %w", err)
	}
	return ok, nil
}
