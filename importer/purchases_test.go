package importer

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The sample purchases file, after the sample customers: rejected rows by line with the
// API's codes (an unknown customer, amounts recordPurchase refuses, the same orderId for
// another purchase), the repeated order not recorded twice; a re-run records nothing.
func TestImportPurchases_SampleFileByLineAndReRun(t *testing.T) {
	e := newEnv(t)
	org := uuid.New()
	if r := e.importCustomers(org, e.file("../docs/import/customers.csv"), 0); r.err != nil {
		t.Fatal(r.err)
	}
	want := []string{
		"line 4: customerExternalId: NOT_FOUND: no customer with this externalId",
		"line 5: amount: INVALID: amount must be greater than zero",
		"line 6: amount: INVALID: amount has at most two decimals",
		"line 8: orderId: IDEMPOTENCY_CONFLICT: this orderId was recorded for another purchase",
		"line 10: customerId: INVALID: customerId must be a customer's id (a UUID)",
		"line 11: occurredAt: INVALID: occurredAt must be a date-time (2026-03-01T15:04:05Z) or a date (2026-03-01, midnight UTC)",
	}
	for i, wantSum := range []Summary{{Rows: 10, Created: 3, Existing: 1, Rejected: 6}, {Rows: 10, Existing: 4, Rejected: 6}} {
		r := e.importPurchases(org, e.file("../docs/import/purchases.csv"), 0)
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.sum != wantSum || !slices.Equal(r.rejected, want) {
			t.Errorf("run %d: %+v\n%s", i+1, r.sum, strings.Join(r.rejected, "\n"))
		}
		var orders []string
		e.scan(&orders, `SELECT order_id || ' ' || amount || ' ' || to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' ' || channel
			FROM purchases WHERE organization_id = ? ORDER BY order_id`, org)
		wantOrders := []string{"A-5001 125.50 2026-11-02 15:04:05 pos", "A-5002 89.99 2026-11-20 00:00:00 web", "A-5006 2500.00 2025-01-15 00:00:00 erp"}
		if !slices.Equal(orders, wantOrders) {
			t.Errorf("run %d: purchases %q; want %q", i+1, orders, wantOrders)
		}
	}
}

// Purchases go through recordPurchase: the customer is auto-enrolled and earns
// floor(amount) points at the bronze rate, last_purchase_at is the latest occurredAt, a
// blocked customer's purchase is CUSTOMER_BLOCKED and stores nothing; a re-run changes no
// balance and writes no ledger row.
func TestImportPurchases_FollowTheLoyaltyRulesAndReRunChangesNothing(t *testing.T) {
	e := newEnv(t)
	org := uuid.New()
	customers := header + "c-1,Ana,Uno,,\nc-2,Ana,Dos,,\nc-3,Ana,Tres,,\n"
	if r := e.importCustomers(org, strings.NewReader(customers), 0); r.err != nil || r.sum.Created != 3 {
		t.Fatalf("%+v %v", r.sum, r.err)
	}
	var c2 uuid.UUID
	e.scan(&c2, `SELECT customer_id FROM customers WHERE organization_id = ? AND external_id = 'c-2'`, org)
	if _, err := e.owner.NewRaw(`UPDATE customers SET status = 'blocked' WHERE organization_id = ? AND external_id = 'c-3'`, org).Exec(ctx()); err != nil {
		t.Fatal(err)
	}
	day := func(ago int) string { return time.Now().UTC().AddDate(0, 0, -ago).Format(time.DateOnly) }
	file := "orderId,customerExternalId,customerId,amount,occurredAt,channel\n" +
		fmt.Sprintf("o-1,c-1,,100.99,%s,pos\n", day(10)) +
		fmt.Sprintf("o-2,c-1,,50.00,%s,web\n", day(3)) +
		fmt.Sprintf("o-3,,%s,20.50,%s,\n", c2, day(5)) +
		fmt.Sprintf("o-4,c-3,,10.00,%s,pos\n", day(1)) +
		fmt.Sprintf("o-5,c-1,%s,10.00,,pos\n", c2)
	wantRejected := []string{
		"line 5: customerExternalId: CUSTOMER_BLOCKED: the customer is blocked",
		"line 6: customerId: INVALID: give customerExternalId or customerId, not both",
	}
	type account struct {
		ExternalID                        string
		Balance, Lifetime, Purchases, Txs int
		Spent, LastPurchase               string
	}
	accounts := func() []account {
		var out []account
		rows, err := e.owner.QueryContext(ctx(), `SELECT c.external_id, a.points_balance, a.lifetime_points, a.total_purchases, a.total_spent::text,
				to_char(c.last_purchase_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
				(SELECT count(*) FROM loyalty_transactions t WHERE t.organization_id = a.organization_id AND t.loyalty_account_id = a.loyalty_account_id)
			FROM customers c JOIN loyalty_accounts a ON a.organization_id = c.organization_id AND a.customer_id = c.customer_id
			WHERE c.organization_id = ? ORDER BY 1`, org)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var a account
			if err := rows.Scan(&a.ExternalID, &a.Balance, &a.Lifetime, &a.Purchases, &a.Spent, &a.LastPurchase, &a.Txs); err != nil {
				t.Fatal(err)
			}
			out = append(out, a)
		}
		return out
	}
	wantAccounts := []account{
		{ExternalID: "c-1", Balance: 150, Lifetime: 150, Purchases: 2, Txs: 2, Spent: "150.99", LastPurchase: day(3)},
		{ExternalID: "c-2", Balance: 20, Lifetime: 20, Purchases: 1, Txs: 1, Spent: "20.50", LastPurchase: day(5)},
	}
	for i, wantSum := range []Summary{{Rows: 5, Created: 3, Rejected: 2}, {Rows: 5, Existing: 3, Rejected: 2}} {
		r := e.importPurchases(org, strings.NewReader(file), 2)
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.sum != wantSum || !slices.Equal(r.rejected, wantRejected) {
			t.Errorf("run %d: %+v\n%s", i+1, r.sum, strings.Join(r.rejected, "\n"))
		}
		if got := accounts(); !slices.Equal(got, wantAccounts) {
			t.Errorf("run %d: accounts %+v; want %+v", i+1, got, wantAccounts)
		}
		if n := e.count(`SELECT count(*) FROM audit_log WHERE organization_id = ? AND action = 'loyalty.purchase' AND actor_id = ?`, org, e.actor); n != 3 {
			t.Errorf("run %d: %d loyalty.purchase audit rows of the actor; want 3", i+1, n)
		}
	}
}

// An import reads and writes only its organization: another organization holding the
// same externalIds, emails, documents and orderIds neither makes rows "already imported"
// nor TAKEN, and its rows are left exactly as they were (every statement also names its
// organization: the Tenancy tracer of newEnv).
func TestImport_AnotherOrganizationUntouched(t *testing.T) {
	e := newEnv(t)
	other, org := uuid.New(), uuid.New()
	for _, o := range []uuid.UUID{other} {
		if r := e.importCustomers(o, e.file("../docs/import/customers.csv"), 0); r.err != nil || r.sum.Created != 5 {
			t.Fatalf("%+v %v", r.sum, r.err)
		}
		if r := e.importPurchases(o, e.file("../docs/import/purchases.csv"), 0); r.err != nil || r.sum.Created != 3 {
			t.Fatalf("%+v %v", r.sum, r.err)
		}
	}
	snapshot := func() string {
		var rows []string
		e.scan(&rows, `SELECT to_jsonb(c)::text FROM customers c WHERE organization_id = ?
			UNION ALL SELECT to_jsonb(p)::text FROM purchases p WHERE organization_id = ?
			UNION ALL SELECT to_jsonb(a)::text FROM loyalty_accounts a WHERE organization_id = ?
			UNION ALL SELECT to_jsonb(l)::text FROM audit_log l WHERE organization_id = ? ORDER BY 1`, other, other, other, other)
		return strings.Join(rows, "\n")
	}
	before := snapshot()
	if r := e.importCustomers(org, e.file("../docs/import/customers.csv"), 0); r.err != nil || r.sum != (Summary{Rows: 14, Created: 5, Existing: 1, Rejected: 8}) {
		t.Errorf("customers: %+v %v", r.sum, r.err)
	}
	if r := e.importPurchases(org, e.file("../docs/import/purchases.csv"), 0); r.err != nil || r.sum != (Summary{Rows: 10, Created: 3, Existing: 1, Rejected: 6}) {
		t.Errorf("purchases: %+v %v", r.sum, r.err)
	}
	if after := snapshot(); after != before {
		t.Errorf("the other organization's rows changed")
	}
	// A purchase naming another organization's customer by id: that customer does not exist here.
	var theirs uuid.UUID
	e.scan(&theirs, `SELECT customer_id FROM customers WHERE organization_id = ? AND external_id = 'shop-1001'`, other)
	r := e.importPurchases(org, strings.NewReader("orderId,customerId,amount\nx-1,"+theirs.String()+",10.00\n"), 0)
	if want := []string{"line 2: customerId: NOT_FOUND: no customer with this id"}; r.err != nil || !slices.Equal(r.rejected, want) {
		t.Errorf("%v %q; want %q", r.err, r.rejected, want)
	}
	if after := snapshot(); after != before {
		t.Errorf("the other organization's rows changed")
	}
}

// Two imports of one file at the same time create each customer once: the one that loses
// the race on a row reports it (TAKEN) or finds it imported, never a duplicate.
func TestImportCustomers_ConcurrentRunsCreateEachCustomerOnce(t *testing.T) {
	e := newEnv(t)
	org := uuid.New()
	var b strings.Builder
	b.WriteString(header)
	for i := range 60 {
		email := ""
		if i%2 == 0 {
			email = fmt.Sprintf("p%d@example.com", i)
		}
		fmt.Fprintf(&b, "p-%d,Ana,P%d,%s,\n", i, i, email)
	}
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r result
			r.sum, r.err = Customers(ctx(), e.h, org, strings.NewReader(b.String()), Options{Actor: e.actor, BatchSize: 7,
				Rejected: func(rej Rejection) { r.rejected = append(r.rejected, rej.String()) }})
			results[i] = r
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r.err != nil {
			t.Fatal(r.err)
		}
		for _, rej := range r.rejected {
			if !strings.Contains(rej, ": TAKEN: ") {
				t.Errorf("rejected: %s", rej)
			}
		}
	}
	if n := results[0].sum.Created + results[1].sum.Created; n != 60 {
		t.Errorf("created %d in all; want 60 (%+v, %+v)", n, results[0].sum, results[1].sum)
	}
	if n := e.count(`SELECT count(DISTINCT external_id) FROM customers WHERE organization_id = ? AND external_id IS NOT NULL`, org); n != 60 {
		t.Errorf("%d customers with an externalId; want 60", n)
	}
	if n := e.count(`SELECT count(*) FROM customers WHERE organization_id = ?`, org); n != 60 {
		t.Errorf("%d customers; want 60", n)
	}
}

// §13 through the import: two years of history never inflates a balance or a tier. A
// purchase 14 months old earns points that expire at once (an earn and an expire in the
// ledger), one 11 months old earns a lot expiring 12 months after the purchase and counts
// toward the tier; a re-run changes nothing.
func TestImportPurchases_BackDatedHistoryObeysTheLoyaltyRules(t *testing.T) {
	e := newEnv(t)
	org := uuid.New()
	if r := e.importCustomers(org, strings.NewReader(header+"b-1,Ana,Uno,,\n"), 0); r.err != nil || r.sum.Created != 1 {
		t.Fatalf("%+v %v", r.sum, r.err)
	}
	now := time.Now().UTC()
	old, recent := now.AddDate(0, -14, 0).Truncate(time.Second), now.AddDate(0, -11, 0).Truncate(time.Second)
	file := "orderId,customerExternalId,amount,occurredAt\n" +
		"H-1,b-1,6000.00," + old.Format(time.RFC3339) + "\n" +
		"H-2,b-1,1000.00," + recent.Format(time.RFC3339) + "\n"
	type ledgerRow struct {
		Type      string     `bun:"transaction_type"`
		Points    int        `bun:"points"`
		Balance   int        `bun:"balance_after"`
		ExpiresAt *time.Time `bun:"expires_at"`
	}
	for run := 1; run <= 2; run++ {
		r := e.importPurchases(org, strings.NewReader(file), 0)
		if want := []Summary{{Rows: 2, Created: 2}, {Rows: 2, Existing: 2}}[run-1]; r.err != nil || r.sum != want {
			t.Fatalf("run %d: %+v %v %v", run, r.sum, r.err, r.rejected)
		}
		var balance, lifetime int
		var tier string
		if err := e.owner.NewRaw(`SELECT points_balance, lifetime_points, tier FROM loyalty_accounts WHERE organization_id = ?`, org).
			Scan(ctx(), &balance, &lifetime, &tier); err != nil {
			t.Fatal(err)
		}
		if balance != 1000 || lifetime != 7000 || tier != "silver" {
			t.Errorf("run %d: balance %d, lifetime %d, tier %s; want 1000, 7000, silver", run, balance, lifetime, tier)
		}
		var ledger []ledgerRow
		if err := e.owner.NewRaw(`SELECT transaction_type, points, balance_after, expires_at FROM loyalty_transactions
			WHERE organization_id = ? ORDER BY created_at, transaction_type`, org).Scan(ctx(), &ledger); err != nil {
			t.Fatal(err)
		}
		if len(ledger) != 3 || ledger[0].Type != "earn" || ledger[0].Points != 6000 || !ledger[0].ExpiresAt.Equal(old.AddDate(0, 12, 0)) ||
			ledger[1].Type != "expire" || ledger[1].Points != -6000 || ledger[1].Balance != 0 ||
			ledger[2].Type != "earn" || ledger[2].Points != 1000 || ledger[2].Balance != 1000 || !ledger[2].ExpiresAt.Equal(recent.AddDate(0, 12, 0)) {
			t.Errorf("run %d: ledger %+v", run, ledger)
		}
	}
}
