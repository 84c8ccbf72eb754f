package loyalty

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"customerservice/audit"
	"customerservice/auth"
	"customerservice/db"
	"customerservice/models"
	"customerservice/timeline"
)

// The point lots of §4 and the one way a balance changes. Every function here runs with the
// account's row already locked (FOR UPDATE) by the caller's transaction: all changes to an
// account's lots hold that lock, so a statement that starts after it sees the lots as they
// are and no one else changes them until the commit.

// newTransaction is a movement of points to write.
type newTransaction struct {
	typ           models.LoyaltyTransactionType
	points        int // signed
	referenceType *string
	referenceID   *string
	description   *string
	metadata      map[string]any
	// lifetimeMonths > 0 makes it a lot: points_remaining = points, expiring then after
	// occurredAt, or after the time it is recorded when occurredAt is nil.
	lifetimeMonths int
	// occurredAt is when the movement counts from (§13: the purchase's time of a back-dated
	// earn); nil is when it is recorded.
	occurredAt *time.Time
	// vestsAt makes a lot pending until then (§13: not spendable, not in the balance); on
	// a refund's cancellation of pending points it is the cancelled lot's.
	vestsAt *time.Time
	// conflict is the ON CONFLICT target of an idempotency key; a conflict is errReplay.
	conflict string
}

// insertTransaction writes the movement with the account's balance after it. created_at is the
// write's next stamp (writeClock: its instant, read after the account lock was taken), so the
// order of created_at is the order in which the balance changed (the transaction's now() is
// when it began, which concurrent transactions would interleave).
func insertTransaction(ctx context.Context, tx bun.Tx, acc *models.LoyaltyAccount, balanceAfter int, n newTransaction) (*models.LoyaltyTransaction, error) {
	t := &models.LoyaltyTransaction{
		ID:               uuid.New(),
		OrganizationID:   acc.OrganizationID,
		LoyaltyAccountID: acc.ID,
		Type:             n.typ,
		Points:           n.points,
		BalanceAfter:     balanceAfter,
		ReferenceType:    n.referenceType,
		ReferenceID:      n.referenceID,
		Description:      n.description,
		Metadata:         n.metadata,
		ActorID:          auth.Actor(ctx),
		OccurredAt:       n.occurredAt,
		VestsAt:          n.vestsAt,
		Pending:          n.vestsAt != nil && n.lifetimeMonths > 0,
	}
	if t.Metadata == nil {
		t.Metadata = map[string]any{}
	}
	at, err := stamp(ctx)
	if err != nil {
		return nil, err
	}
	q := tx.NewInsert().Model(t).Value("created_at", "?::timestamptz", at)
	if n.lifetimeMonths > 0 {
		t.PointsRemaining = &t.Points
		q = q.Value("expires_at", "COALESCE(?::timestamptz, ?::timestamptz) + make_interval(months => ?)", n.occurredAt, at, n.lifetimeMonths)
	}
	if n.conflict != "" {
		q = q.On("CONFLICT " + n.conflict + " DO NOTHING")
	}
	res, err := q.Returning("*").Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("insert %s transaction: %w", n.typ, err)
	}
	if rows, _ := res.RowsAffected(); rows == 0 {
		return nil, errReplay
	}
	timeline.Publish(ctx, timeline.PointsPrefix, t.ID)
	return t, nil
}

// consumeLots takes points from the account's lots, oldest expiry first (FIFO, §4), in one
// statement: each lot gives what is still needed after the lots before it. It reads at most
// `points` open lots (each holds at least one point), in the order of the open-lots index, so
// a redemption's cost does not grow with the account's other lots (issue 17).
func consumeLots(ctx context.Context, tx bun.Tx, accountID uuid.UUID, points int) error {
	if points <= 0 {
		return nil
	}
	var took int
	org := db.Org(ctx)
	// Not kept prepared: planned without its LIMIT, a generic plan sorts every open lot of the
	// account instead of reading the oldest few (TestLoyaltyWrites_ReadNoHistory: 2,004 rows).
	err := tx.NewRaw(`WITH lots AS (
			SELECT transaction_id, points_remaining,
				sum(points_remaining) OVER (ORDER BY expires_at, created_at, transaction_id) - points_remaining AS before
			FROM (SELECT transaction_id, points_remaining, expires_at, created_at FROM loyalty_transactions
				WHERE organization_id = ? AND loyalty_account_id = ? AND points_remaining > 0 AND NOT pending
				ORDER BY expires_at, created_at, transaction_id LIMIT ?) oldest
		), taken AS (
			UPDATE loyalty_transactions t
			SET points_remaining = t.points_remaining - LEAST(l.points_remaining, ? - l.before)
			FROM lots l
			WHERE t.organization_id = ? AND t.transaction_id = l.transaction_id AND l.before < ?
			RETURNING LEAST(l.points_remaining, ? - l.before) AS took
		)
		SELECT COALESCE(sum(took), 0)::int FROM taken`, org, accountID, points, points, org, points, points).Scan(ctx, &took)
	if err != nil {
		return fmt.Errorf("consume lots: %w", err)
	}
	if took != points {
		// The balance is the sum of the lots; anything else is a bug, never a partial spend.
		return fmt.Errorf("consume lots: account %s: lots hold %d of the %d points its balance promised", accountID, took, points)
	}
	return nil
}

// expireDue zeroes the lots of the (locked) accounts whose expires_at <= at, writes one
// `expire` transaction per account for the total and lowers the balance, in one statement
// (§4), with its audit row `loyalty.expire` by SYSTEM (§12: the rule did it, not the caller).
// The transaction's metadata lists what each lot held when it expired, with its
// expires_at and the instant it lost them (`at`: its expires_at, or when it was recorded if
// later — a back-dated lot) (`expired`): nothing touches an account's lots between a lot's date and this
// statement (every change expires first), so that is what the lot lost at its date — which
// is how a balance as of an instant counts expiry at its instant (§13). It returns how many accounts and points expired. Safe to repeat: a second call finds
// no lot with points left. at is the job's time, or the write's instant (dueAt) for a mutation, which expires its
// account's due lots before it reads the balance, so no one spends points past their date
// even before the job has run.
func expireDue(ctx context.Context, tx bun.Tx, accountIDs []uuid.UUID, at time.Time) (accounts, points int, err error) {
	stamped, err := stamp(ctx)
	if err != nil {
		return 0, 0, err
	}
	var rows []struct {
		AccountID     uuid.UUID `bun:"loyalty_account_id"`
		TransactionID uuid.UUID `bun:"transaction_id"`
		Points        int       `bun:"points"`
		BalanceAfter  int       `bun:"balance_after"`
	}
	org := db.Org(ctx)
	err = tx.NewRaw(`WITH due AS (
			UPDATE loyalty_transactions t SET points_remaining = 0
			FROM (SELECT transaction_id, points_remaining, expires_at, GREATEST(expires_at, created_at) AS lost_at FROM loyalty_transactions
				WHERE organization_id = ? AND loyalty_account_id = ANY(?) AND points_remaining > 0 AND NOT pending
					AND expires_at <= ?::timestamptz) d
			WHERE t.organization_id = ? AND t.transaction_id = d.transaction_id
			RETURNING t.loyalty_account_id, d.points_remaining AS expired, d.expires_at, d.lost_at
		), per_account AS (
			SELECT loyalty_account_id, sum(expired)::int AS expired, count(*)::int AS lots,
				jsonb_agg(jsonb_build_object('expires_at', expires_at, 'at', lost_at, 'points', expired) ORDER BY expires_at) AS detail
			FROM due GROUP BY loyalty_account_id
		), accounts AS (
			UPDATE loyalty_accounts a SET points_balance = a.points_balance - p.expired
			FROM per_account p WHERE a.organization_id = ? AND a.loyalty_account_id = p.loyalty_account_id
			RETURNING a.organization_id, a.loyalty_account_id, a.points_balance, p.expired, p.lots, p.detail
		), written AS (
			INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type,
				points, balance_after, description, metadata, created_at, actor_id)
			SELECT organization_id, loyalty_account_id, 'expire', -expired, points_balance,
				'Points expired', jsonb_build_object('lots', lots, 'expired', detail), ?::timestamptz, ?::uuid
			FROM accounts
			RETURNING loyalty_account_id, transaction_id, points, balance_after
		)
		SELECT * FROM written`,
		org, pgdialect.Array(accountIDs), at, org, org, stamped, auth.System).Scan(ctx, &rows)
	if err != nil {
		return 0, 0, fmt.Errorf("expire lots: %w", err)
	}
	entries := make([]audit.Entry, len(rows))
	for i, r := range rows {
		timeline.Publish(ctx, timeline.PointsPrefix, r.TransactionID)
		points -= r.Points
		entries[i] = audit.Entry{Action: "loyalty.expire", EntityType: "loyalty_account", EntityID: r.AccountID,
			ChangedFields: []string{"points_balance"},
			Details:       map[string]any{"transaction_id": r.TransactionID, "points": r.Points, "balance_after": r.BalanceAfter}}
	}
	if err := audit.RecordAll(ctx, tx, auth.Principal{UserID: auth.System, OrganizationID: org}, entries); err != nil {
		return 0, 0, err
	}
	return len(rows), points, nil
}

// vestDue vests the pending lots of the (locked) accounts whose vests_at <= at (§13): each
// lot stops being pending, and each account gets its vested points in its balance and its
// lifetime points with one `vest` transaction for the total, in one statement; a second
// statement then raises the tier of the accounts whose qualifying points now reach a
// higher one (vested points count toward tiers from vests_at). It returns how many accounts
// and points vested. Safe to repeat. at is the job's time, or the write's instant (dueAt) for a mutation, which
// vests its account's due lots before it reads the balance, so vesting is never late for a
// change.
func vestDue(ctx context.Context, tx bun.Tx, prog *models.LoyaltyProgram, accountIDs []uuid.UUID, at time.Time) (accounts, points int, err error) {
	stamped, err := stamp(ctx)
	if err != nil {
		return 0, 0, err
	}
	var vested []struct {
		ID            uuid.UUID `bun:"loyalty_account_id"`
		TransactionID uuid.UUID `bun:"transaction_id"`
		Points        int       `bun:"points"`
		BalanceAfter  int       `bun:"balance_after"`
	}
	org := db.Org(ctx)
	// What each lot brings to its account's qualifying points, on the day it vests: its points
	// net of the refunds that cancelled part of them (what it still holds).
	var days []struct {
		Account uuid.UUID `bun:"loyalty_account_id"`
		At      time.Time `bun:"vests_at"`
		Points  int       `bun:"points_remaining"`
	}
	if err := tx.NewRaw(`SELECT loyalty_account_id, vests_at, points_remaining FROM loyalty_transactions
		WHERE organization_id = ? AND loyalty_account_id = ANY(?) AND pending AND vests_at <= ?::timestamptz`,
		org, pgdialect.Array(accountIDs), at).Scan(ctx, &days); err != nil {
		return 0, 0, fmt.Errorf("read vesting lots: %w", err)
	}
	err = tx.NewRaw(`WITH due AS (
			UPDATE loyalty_transactions t SET pending = false
			FROM (SELECT transaction_id, points_remaining FROM loyalty_transactions
				WHERE organization_id = ? AND loyalty_account_id = ANY(?) AND pending AND vests_at <= ?::timestamptz) d
			WHERE t.organization_id = ? AND t.transaction_id = d.transaction_id
			RETURNING t.loyalty_account_id, d.points_remaining AS vested
		), per_account AS (
			SELECT loyalty_account_id, sum(vested)::int AS vested, count(*)::int AS lots
			FROM due GROUP BY loyalty_account_id HAVING sum(vested) > 0
		), accounts AS (
			UPDATE loyalty_accounts a SET points_balance = a.points_balance + p.vested,
				lifetime_points = a.lifetime_points + p.vested
			FROM per_account p WHERE a.organization_id = ? AND a.loyalty_account_id = p.loyalty_account_id
			RETURNING a.organization_id, a.loyalty_account_id, a.points_balance, p.vested, p.lots
		)
		INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type,
			points, balance_after, description, metadata, created_at, actor_id)
		SELECT organization_id, loyalty_account_id, 'vest', vested, points_balance,
			'Pending points vested', jsonb_build_object('lots', lots), ?::timestamptz, ?::uuid
		FROM accounts
		RETURNING loyalty_account_id, transaction_id, points, balance_after`,
		org, pgdialect.Array(accountIDs), at, org, org, stamped, auth.System).Scan(ctx, &vested)
	if err != nil {
		return 0, 0, fmt.Errorf("vest pending points: %w", err)
	}
	q := make([]qualifyingDay, len(days))
	for i, d := range days {
		q[i] = qualifyingDay{d.Account, d.At, d.Points}
	}
	if err := addQualifying(ctx, tx, q...); err != nil {
		return 0, 0, err
	}
	if len(vested) == 0 {
		return 0, 0, nil
	}
	ids := make([]uuid.UUID, len(vested))
	entries := make([]audit.Entry, len(vested))
	for i, v := range vested {
		timeline.Publish(ctx, timeline.PointsPrefix, v.TransactionID)
		ids[i] = v.ID
		points += v.Points
		entries[i] = audit.Entry{Action: "loyalty.vest", EntityType: "loyalty_account", EntityID: v.ID,
			ChangedFields: []string{"points_balance", "lifetime_points"},
			Details:       map[string]any{"transaction_id": v.TransactionID, "points": v.Points, "balance_after": v.BalanceAfter}}
	}
	if err := audit.RecordAll(ctx, tx, auth.Principal{UserID: auth.System, OrganizationID: org}, entries); err != nil {
		return 0, 0, err
	}
	if err := raiseTiers(ctx, tx, prog, ids, at); err != nil {
		return 0, 0, err
	}
	return len(vested), points, nil
}

// dbNow is the database's time of the transaction: what decides outside a write's clock (a
// purchase of a customer without an account).
var dbNow = bun.Safe("now()")

// writeClock is the one instant of a loyalty write (§13, asOf): the database's clock read in
// the statement that locks the account, after the lock (lockAccount, enroll creating it, or a
// merge's Combine once all its accounts are locked). What is due — lots to vest, lots to
// expire, a tier's term and the day a new one starts, pending dates, the time of a purchase
// given none — is decided at that instant, and the write's rows are stamped with it: the
// first at the instant, each next one a microsecond later (ledger rows and tier changes
// alike), so the rows of one write keep the order in which they changed the balance and the
// tier (the ledger is ordered by created_at; balance_after chains), and qualifying points are
// kept on the day of the rows' instants. A later write of the
// account takes its instant after this one committed, so after all of its rows (each row is a
// statement, which takes longer than the microsecond it adds). Taking the due checks at the
// transaction's start (now()) and the rows at the clock left a window in which a write spent
// from a lot already expired at its row's instant.
type writeClock struct {
	at   time.Time // zero until the account is locked
	rows int       // stamps taken so far (a statement may take one and write no row)
}

type clockKey struct{}

// clockOf is the write's clock; nil outside a write (the jobs, which decide at their given
// time and stamp their rows with the clock) and before the write has locked its account.
func clockOf(ctx context.Context) *writeClock {
	c, _ := ctx.Value(clockKey{}).(*writeClock)
	if c == nil || c.at.IsZero() {
		return nil
	}
	return c
}

// startClock sets the write's instant (the first lock's: a write locks one account, or a
// merge all of its accounts in one statement).
func startClock(ctx context.Context, at time.Time) {
	if c, _ := ctx.Value(clockKey{}).(*writeClock); c != nil && c.at.IsZero() {
		c.at = at
	}
}

// errNoClock is a write that decides what is due or stamps a row before it has locked its
// account: a bug, refused rather than decided at another instant.
var errNoClock = errors.New("loyalty: the write's instant is read before its account is locked")

// dueAt is the instant at which the write decides what is due: its clock.
func dueAt(ctx context.Context) (time.Time, error) {
	if c := clockOf(ctx); c != nil {
		return c.at, nil
	}
	return time.Time{}, errNoClock
}

// stamp is the created_at of the write's next row (one microsecond after the last). Outside
// a write (the jobs, which decide at their given time) it is the clock at the statement,
// clock_timestamp().
func stamp(ctx context.Context) (any, error) {
	c, inWrite := ctx.Value(clockKey{}).(*writeClock)
	switch {
	case !inWrite:
		return bun.Safe("clock_timestamp()"), nil
	case c.at.IsZero():
		return nil, errNoClock
	}
	t := c.at.Add(time.Duration(c.rows) * time.Microsecond)
	c.rows++
	return t, nil
}

// lastStamp is the created_at of the write's latest row (its instant before any).
func lastStamp(ctx context.Context) (time.Time, error) {
	c := clockOf(ctx)
	if c == nil {
		return time.Time{}, errNoClock
	}
	return c.at.Add(time.Duration(max(c.rows-1, 0)) * time.Microsecond), nil
}

// accountChange is what one movement does to the account's counters; the caller computed
// them from the locked row.
type accountChange struct {
	balance    int // new balance
	lifetime   int // delta of lifetime_points
	redeemed   int // delta of points_redeemed
	purchases  int // delta of total_purchases
	spent      decimal.Decimal
	tier       models.Tier // "" keeps the tier; else an upgrade
	tierMonths int
}

// tierChangeAction is the audit row of a changed tier (§12): an upgrade by the caller whose
// movement earned it, or a re-evaluation by SYSTEM (reevaluateTiers); the timeline's
// TIER_CHANGED.
const tierChangeAction = "loyalty.tier_change"

// recordTier appends a change of the account's tier to its history (§13: the tier as of an
// instant), at this instant.
func recordTier(ctx context.Context, tx bun.Tx, acc *models.LoyaltyAccount, tier models.Tier) error {
	return recordTiers(ctx, tx, []newTier{{Account: acc.ID, Tier: tier}})
}

// saveAccount writes the change and reads the row back; an upgrade is recorded in the tier
// history and audited as a tier change by the caller.
func saveAccount(ctx context.Context, tx bun.Tx, acc *models.LoyaltyAccount, ch accountChange) error {
	from := acc.Tier
	// One fixed text per shape (with a new tier or without), its values bind parameters, kept
	// prepared (db.ScanPrepared): every write of points sends it.
	q := tx.NewUpdate().Model(acc).
		Where("la.organization_id = $1::uuid AND la.loyalty_account_id = $2::uuid").
		Set("points_balance = $3::int").
		Set("lifetime_points = lifetime_points + $4::int").
		Set("points_redeemed = points_redeemed + $5::int").
		Set("total_purchases = total_purchases + $6::int").
		Set("total_spent = total_spent + $7::numeric")
	args := []any{acc.OrganizationID, acc.ID, ch.balance, ch.lifetime, ch.redeemed, ch.purchases, ch.spent}
	if ch.tier != "" {
		at, err := dueAt(ctx)
		if err != nil {
			return err
		}
		if err := recordTier(ctx, tx, acc, ch.tier); err != nil {
			return err
		}
		q = q.Set("tier = $8::text").
			Set("tier_since = (($9::timestamptz) AT TIME ZONE 'UTC')::date").
			Set("tier_expires_at = ((($9::timestamptz) AT TIME ZONE 'UTC')::date + make_interval(months => $10::int))::date")
		args = append(args, string(ch.tier), at, ch.tierMonths)
	}
	if err := db.ScanPrepared(ctx, tx, acc, q.Returning("*").String(), args...); err != nil {
		return fmt.Errorf("update loyalty account: %w", err)
	}
	if ch.tier == "" || ch.tier == from {
		return nil
	}
	p, _ := auth.FromContext(ctx)
	return audit.Record(ctx, tx, p, audit.Entry{
		Action: tierChangeAction, EntityType: "loyalty_account", EntityID: acc.ID,
		ChangedFields: []string{"tier", "tier_since", "tier_expires_at"},
		Details:       map[string]any{"from": from, "to": ch.tier},
	})
}
