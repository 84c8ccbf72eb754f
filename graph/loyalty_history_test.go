package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"customerservice/db"
	"customerservice/internal/testkit/apitest"
)

// Issue 17, flat in history: a purchase checks the tier (the qualifying points: a year of kept
// day totals, the ledger rows of the window's first day and after its end, each earn's refund
// reversals, the pending lots), expires and vests what is due; a refund finds its earn; a
// redemption spends the oldest lots. None of it may read the account's history, nor the
// organization's refunds. Every statement recordPurchase, recordRefund and redeemPoints send,
// exactly as sent, is run again under EXPLAIN ANALYZE as the server's role in the
// organization's transaction (rolled back; sequential scans discouraged) on an account with
// 4,000 ledger rows over two years and 10 refunds (statistics analyzed): no scan of the ledger,
// the purchases or the refunds may read more than a day's rows (at most 20 here), and the day
// totals no more than a year of days. The cause it guards against: under row-level security a
// condition PostgreSQL cannot prove leak-proof (a range on COALESCE) is a filter after the
// index, not an index condition — the tier check read every earn of the account — and an
// earn's refund reversals looked up by their order alone read the organization's (100 others
// here). The Customer 360's pointsToNextTier is read the same way.
func TestLoyaltyWrites_ReadNoHistory(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	srv := apitest.NewWith(t, apitest.Options{DB: db.Options{Tracers: []pgx.QueryTracer{rec}, NoPreparedStatements: true}})
	team := newLoyTeam(t, srv)
	loyOK(t, team.Admin, "updateLoyaltyProgram", map[string]any{
		"thresholdSilver": 900_000_000, "thresholdGold": 950_000_000, "thresholdPlatinum": 1_000_000_000})
	customer := loyCustomer(t, srv, team.Org)
	loyEnroll(t, team.Agent, customer)
	const prior = 4000 // orders H-0-<k>, k odd; the last year's (k > 2,000) open lots
	loyBenchHistory(t, srv, team.Org, customer, 0, prior)
	loyExec(t, srv, `INSERT INTO loyalty_qualifying_days (organization_id, loyalty_account_id, day, points)
		SELECT ?0, loyalty_account_id, day::date, points FROM (`+loyLedgerDaysSQL+`) d`, team.Org)
	for k := prior - 21; k < prior-1; k += 2 { // 10 refunds of recent orders
		loyOK(t, team.Agent, "recordRefund", map[string]any{"orderId": fmt.Sprint("H-0-", k), "refundId": fmt.Sprint("old-", k), "amount": "1.00"})
	}
	loyExec(t, srv, "ANALYZE loyalty_transactions, loyalty_qualifying_days, purchases, purchase_refunds")

	// The writes with the payload the benchmark asks for (BenchmarkLoyaltyWritesHistory): what is
	// tested is what a write does, not a read of the account's tier progress.
	write := func(mutation, input string, vars map[string]any) ([]recorded, loyPayload) {
		t.Helper()
		var out struct{ R loyPayload }
		rec.start()
		team.Agent.Must(t, `mutation($input: `+input+`!) { r: `+mutation+`(input: $input) {
			loyaltyAccount { pointsBalance } transaction { points } userErrors { field message code } } }`, map[string]any{"input": vars}, &out)
		stmts := rec.stop()
		if len(out.R.UserErrors) > 0 || out.R.Transaction == nil {
			t.Fatalf("%s: %+v", mutation, out.R)
		}
		return stmts, out.R
	}
	purchase, buy := write("recordPurchase", "RecordPurchaseInput", map[string]any{"customerId": customer, "orderId": "flat-1", "amount": "10.00"})
	refund, _ := write("recordRefund", "RecordRefundInput", map[string]any{"orderId": "H-0-3999", "refundId": "flat-r", "amount": "1.00"})
	redemption, redeem := write("redeemPoints", "RedeemPointsInput", map[string]any{"customerId": customer, "points": 5,
		"referenceType": "flat", "referenceId": "flat-1"})
	if buy.Transaction.Points != 10 || redeem.LoyaltyAccount.PointsBalance != buy.LoyaltyAccount.PointsBalance-1-5 {
		t.Fatalf("purchase %+v, redemption %+v", buy.Transaction, redeem.LoyaltyAccount)
	}
	loyCheckBooks(t, srv, team.Org)
	// The organization's other refund reversals (of another account, inserted as they would be
	// written): an earn's reversals are looked up on its own account (the refund-order index
	// leads with the account), so none of these is read.
	other := loyCustomer(t, srv, team.Org)
	loyEnroll(t, team.Agent, other)
	loyExec(t, srv, `INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after,
			reference_type, reference_id, metadata)
		SELECT ?0, loyalty_account_id, 'adjust', -1, 0, 'refund', 'noise-' || k, jsonb_build_object('order_id', 'N-' || k)
		FROM loyalty_accounts, generate_series(1, 100) k WHERE organization_id = ?0 AND customer_id = ?1`, team.Org, other)
	// And earns whose reversals the tier check looks up: one a second inside the window's first
	// day (read from the ledger, not the day totals) and one after its end (clock skew).
	loyExec(t, srv, `INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after,
			reference_type, reference_id, points_remaining, expires_at, created_at)
		SELECT ?0, loyalty_account_id, 'earn', 10, 10, 'order', 'F-' || k, 10, now() + interval '1 year', at
		FROM loyalty_accounts, (VALUES (1, now() - interval '12 months' + interval '1 second'), (2, now() + interval '1 day')) AS e(k, at)
		WHERE organization_id = ?0 AND customer_id = ?1`, team.Org, customer)
	loyExec(t, srv, "ANALYZE loyalty_transactions")

	const maxRows, maxDays = 20, 367 // a day of rows; a year of days and the day's row written
	for what, stmts := range map[string][]recorded{"recordPurchase": purchase, "recordRefund": refund, "redeemPoints": redemption} {
		n := 0
		for _, s := range stmts {
			if !tenantStatement.MatchString(s.sql) || plainInsert.MatchString(s.sql) {
				continue
			}
			for _, scan := range historyScans(t, team.Org, s, "loyalty_transactions", "loyalty_qualifying_days", "purchases", "purchase_refunds") {
				n++
				limit := maxRows
				if scan.table == "loyalty_qualifying_days" {
					limit = maxDays
				}
				if scan.rows > limit {
					t.Errorf("%s: %s read %d rows of %s (at most %d):\n%s", what, scan.node, scan.rows, scan.table, limit, s.sql)
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no scan of the loyalty tables found", what)
		}
	}

	// The Customer 360's tier progress (pointsToNextTier) sums the same window on a read: no
	// history there either.
	var read struct {
		Customer struct {
			LoyaltyAccount struct{ PointsToNextTier *int }
		}
	}
	rec.start()
	team.Agent.Must(t, `query($id: UUID!) { customer(id: $id) { loyaltyAccount { pointsToNextTier } } }`, map[string]any{"id": customer}, &read)
	stmts := rec.stop()
	if p := read.Customer.LoyaltyAccount.PointsToNextTier; p == nil || *p <= 0 || *p >= 900_000_000 {
		t.Fatalf("pointsToNextTier %v", p)
	}
	n := 0
	for _, s := range stmts {
		if !strings.Contains(s.sql, "json_build_object") {
			continue
		}
		for _, scan := range historyScans(t, team.Org, s, "loyalty_transactions", "loyalty_qualifying_days") {
			n++
			limit := maxRows
			if scan.table == "loyalty_qualifying_days" {
				limit = maxDays
			}
			if scan.rows > limit {
				t.Errorf("pointsToNextTier: %s read %d rows of %s (at most %d):\n%s", scan.node, scan.rows, scan.table, limit, s.sql)
			}
		}
	}
	if n == 0 {
		t.Error("pointsToNextTier: no scan of the loyalty tables found")
	}
}
