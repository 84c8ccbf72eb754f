package jobs_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/internal/testkit/testdb"
	"customerservice/jobs"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// One run of the daily jobs expires due points (§4), marks past-due charges overdue (§5)
// and recalculates segments (§6) — in the organization asked for, and a second run changes
// nothing.
func TestRun_DoesEveryDailyJobOnceForTheOrganization(t *testing.T) {
	tdb := testdb.Get(t)
	owner, app := testdb.Open(t, tdb.OwnerURL), testdb.Open(t, tdb.AppURL)
	ctx := context.Background()
	org, other := uuid.New(), uuid.New()
	now := time.Now()
	for _, o := range []uuid.UUID{org, other} {
		customer, account, credit := uuid.New(), uuid.New(), uuid.New()
		for _, stmt := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO organizations (id) VALUES (?) ON CONFLICT DO NOTHING`, []any{o}},
			{`INSERT INTO customers (customer_id, organization_id, customer_type, first_name, last_name) VALUES (?, ?, 'b2b', 'Acme', 'SA')`, []any{customer, o}},
			{`INSERT INTO loyalty_accounts (loyalty_account_id, organization_id, customer_id, points_balance, lifetime_points) VALUES (?, ?, ?, 100, 100)`, []any{account, o, customer}},
			{`INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after, points_remaining, expires_at, created_at)
				VALUES (?, ?, 'bonus', 100, 100, 100, ?, ?)`, []any{o, account, now.Add(-time.Hour), now.AddDate(-1, 0, 0)}},
			{`INSERT INTO credit_accounts (credit_account_id, organization_id, customer_id, credit_limit, credit_used, status) VALUES (?, ?, ?, 500, 50, 'approved')`, []any{credit, o, customer}},
			{`INSERT INTO credit_usage (organization_id, credit_account_id, order_id, amount, due_date) VALUES (?, ?, 'o-1', 50, current_date - 1)`, []any{o, credit}},
			{`INSERT INTO purchases (organization_id, customer_id, order_id, amount, occurred_at) VALUES (?, ?, 'p-1', 80, ?)`, []any{o, customer, now.AddDate(0, 0, -3)}},
		} {
			if _, err := owner.ExecContext(ctx, stmt.sql, stmt.args...); err != nil {
				t.Fatal(err)
			}
		}
	}

	var reported []jobs.OrgResult
	run := func() {
		reported = nil
		err := jobs.Run(ctx, app, now, []uuid.UUID{org}, func(done, total int, r jobs.OrgResult) {
			if done != len(reported)+1 || total != 1 {
				t.Errorf("progress %d/%d", done, total)
			}
			reported = append(reported, r)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	run()
	if len(reported) != 1 {
		t.Fatalf("reported %d organizations", len(reported))
	}
	r := reported[0]
	if r.Organization != org || r.Loyalty.ExpiredPoints != 100 || r.Loyalty.ExpiredAccounts != 1 || r.OverdueMarked != 1 || r.CustomersScored != 1 {
		t.Fatalf("first run: %+v", r)
	}
	state := func(o uuid.UUID) (balance int, expires int, status string, segments int) {
		err := owner.QueryRowContext(ctx, `SELECT
				(SELECT points_balance FROM loyalty_accounts WHERE organization_id = ?),
				(SELECT count(*) FROM loyalty_transactions WHERE organization_id = ? AND transaction_type = 'expire'),
				(SELECT status FROM credit_usage WHERE organization_id = ?),
				(SELECT count(*) FROM customer_segments WHERE organization_id = ?)`, o, o, o, o).
			Scan(&balance, &expires, &status, &segments)
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	if b, e, s, n := state(org); b != 0 || e != 1 || s != "overdue" || n != 1 {
		t.Fatalf("after the run: balance=%d expire txs=%d usage=%s segments=%d", b, e, s, n)
	}
	if b, e, s, n := state(other); b != 100 || e != 0 || s != "pending" || n != 0 {
		t.Fatalf("another organization was touched: balance=%d expire txs=%d usage=%s segments=%d", b, e, s, n)
	}

	run()
	if r := reported[0]; r.Loyalty.ExpiredPoints != 0 || r.OverdueMarked != 0 || r.CustomersScored != 1 {
		t.Fatalf("second run changed something: %+v", r)
	}
	if b, e, s, n := state(org); b != 0 || e != 1 || s != "overdue" || n != 1 {
		t.Fatalf("after the second run: balance=%d expire txs=%d usage=%s segments=%d", b, e, s, n)
	}
}
