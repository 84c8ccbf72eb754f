package migrations_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"
)

const qualifyingDaysMigration = "20261224000001_qualifying_days"

// The qualifying-days migration backfills each account's day totals from the ledger as it
// stands (no ledger row changed): an earn on the day of its effective instant (vests_at, then
// occurred_at, then created_at), a bonus, a refund's reversal on its earn's day; a pending lot,
// a manual adjustment, a redemption and an expiry count nowhere. Its down drops the table.
func TestMigrations_QualifyingDaysBackfillsFromTheLedgerAndDownDropsThem(t *testing.T) {
	admin := openOwner(t, "postgres")
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE migrations_qualifying_days"); err != nil {
		t.Fatal(err)
	}
	conn := openOwner(t, "migrations_qualifying_days")
	upTo(t, conn, qualifyingDaysMigration)
	org, customer, account := uuid.New(), uuid.New(), uuid.New()
	for _, q := range []string{
		`INSERT INTO customers (organization_id, customer_id, first_name, last_name) VALUES (?0, ?1, 'A', 'B')`,
		`INSERT INTO loyalty_accounts (organization_id, customer_id, loyalty_account_id, points_balance) VALUES (?0, ?1, ?2, 0)`,
		// earn recorded on 06-02 for a purchase of 05-20 (back-dated): counts on 05-20
		`INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after, reference_type, reference_id,
			points_remaining, expires_at, occurred_at, created_at) VALUES (?0, ?2, 'earn', 100, 100, 'order', 'A', 100, '2027-05-20Z', '2026-05-20 10:00Z', '2026-06-02 10:00Z')`,
		// its refund's reversal on 06-10: counts on the earn's day
		`INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after, reference_type, reference_id,
			metadata, created_at) VALUES (?0, ?2, 'adjust', -30, 70, 'refund', 'RA', '{"order_id": "A"}', '2026-06-10 10:00Z')`,
		// a vested earn: counts on its vests_at day
		`INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after, reference_type, reference_id,
			points_remaining, expires_at, vests_at, pending, created_at) VALUES (?0, ?2, 'earn', 50, 70, 'order', 'B', 50, '2027-06-01Z', '2026-06-04 23:59:59Z', false, '2026-06-01 10:00Z')`,
		// a pending earn: nowhere yet
		`INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after, reference_type, reference_id,
			points_remaining, expires_at, vests_at, pending, created_at) VALUES (?0, ?2, 'earn', 40, 70, 'order', 'C', 40, '2027-06-01Z', '2099-01-01Z', true, '2026-06-01 11:00Z')`,
		// a bonus on 06-04 (the same day as the vested earn), a manual adjustment, a redemption
		`INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after, reference_type, reference_id,
			points_remaining, expires_at, created_at) VALUES (?0, ?2, 'bonus', 7, 77, 'bonus', 'X', 7, '2027-06-04Z', '2026-06-04 08:00Z')`,
		`INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after, reference_type, reference_id,
			points_remaining, expires_at, created_at) VALUES (?0, ?2, 'adjust', 9, 86, 'manual', 'K', 9, '2027-06-05Z', '2026-06-05 08:00Z')`,
		`INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after, reference_type, reference_id,
			created_at) VALUES (?0, ?2, 'redeem', -6, 80, 'reward', 'R', '2026-06-06 08:00Z')`,
	} {
		if _, err := conn.ExecContext(ctx, q, org, customer, account); err != nil {
			t.Fatal(err)
		}
	}
	execFile(t, conn, qualifyingDaysMigration+".tx.up.sql")
	type day struct {
		Day    string `bun:"day"`
		Points int    `bun:"points"`
	}
	var days []day
	if err := conn.NewRaw(`SELECT day::text AS day, points FROM loyalty_qualifying_days
		WHERE organization_id = ? AND loyalty_account_id = ? ORDER BY day`, org, account).Scan(ctx, &days); err != nil {
		t.Fatal(err)
	}
	if want := []day{{"2026-05-20", 70}, {"2026-06-04", 57}}; !slices.Equal(days, want) {
		t.Fatalf("days after up: %v, want %v", days, want)
	}
	var forced bool
	if err := conn.NewRaw("SELECT relforcerowsecurity FROM pg_class WHERE oid = 'loyalty_transactions'::regclass").Scan(ctx, &forced); err != nil || !forced {
		t.Fatalf("loyalty_transactions FORCE after up: %v, %v", forced, err)
	}
	execFile(t, conn, qualifyingDaysMigration+".tx.down.sql")
	var exists bool
	if err := conn.NewRaw("SELECT to_regclass('loyalty_qualifying_days') IS NOT NULL").Scan(ctx, &exists); err != nil || exists {
		t.Fatalf("table after down: %v, %v", exists, err)
	}
}
