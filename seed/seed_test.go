package seed

import (
	"context"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/db"
	"customerservice/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// pools are the server's role (what the seeder uses) and the owner (to inspect everything).
func pools(t *testing.T) (app, owner *bun.DB) {
	t.Helper()
	ctx := context.Background()
	d := testdb.Get(t)
	app, err := db.Open(ctx, d.AppURL, db.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	owner, err = db.Open(ctx, d.OwnerURL, db.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close(); owner.Close() })
	return app, owner
}

// tables are every table the seeder writes, with how to reach a row's customer.
var tables = map[string]string{
	"customers":            "SELECT organization_id, customer_id FROM customers",
	"addresses":            "SELECT organization_id, customer_id FROM addresses",
	"loyalty_accounts":     "SELECT organization_id, customer_id FROM loyalty_accounts",
	"loyalty_transactions": "SELECT t.organization_id, a.customer_id FROM loyalty_transactions t JOIN loyalty_accounts a USING (loyalty_account_id)",
	"credit_accounts":      "SELECT organization_id, customer_id FROM credit_accounts",
	"credit_usage":         "SELECT u.organization_id, a.customer_id FROM credit_usage u JOIN credit_accounts a USING (credit_account_id)",
	"customer_segments":    "SELECT organization_id, customer_id FROM customer_segments",
}

// countRows counts each table's rows of the customers of org, failing on any row whose
// organization differs from its customer's.
func countRows(t *testing.T, owner *bun.DB, org uuid.UUID) map[string]int {
	t.Helper()
	got := map[string]int{}
	for table, rowsOf := range tables {
		var n, misplaced int
		err := owner.QueryRowContext(context.Background(), `
			SELECT count(*) FILTER (WHERE r.organization_id = c.organization_id),
			       count(*) FILTER (WHERE r.organization_id <> c.organization_id)
			FROM (`+rowsOf+`) r JOIN customers c USING (customer_id)
			WHERE c.organization_id = ?`, org).Scan(&n, &misplaced)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if misplaced > 0 {
			t.Errorf("%s: %d rows in another organization than their customer's", table, misplaced)
		}
		got[table] = n
	}
	return got
}

// expected counts what the generator makes for customers 0..n-1.
func expected(org uuid.UUID, seed uint64, now time.Time, n int) map[string]int {
	g := newGenerator(org, seed, now, DemoUser)
	want := map[string]int{"customers": n}
	for i := range n {
		r := g.customer(i)
		want["addresses"] += len(r.addresses)
		want["loyalty_transactions"] += len(r.transactions)
		for table, has := range map[string]bool{
			"loyalty_accounts": r.loyalty != nil, "credit_accounts": r.credit != nil,
			"credit_usage": r.usage != nil, "customer_segments": r.segment != nil,
		} {
			if has {
				want[table]++
			}
		}
	}
	return want
}

func TestCustomers_LoadsEveryTableInTheOrganization(t *testing.T) {
	app, owner := pools(t)
	org, now := uuid.New(), time.Now()
	var progress int
	added, err := Customers(context.Background(), app, Options{
		Org: org, Customers: 2500, Seed: 7, BatchSize: 1000, Now: now,
		Progress: func(n int) { progress += n },
	})
	if err != nil {
		t.Fatal(err)
	}
	if added != 2500 || progress != 2500 {
		t.Fatalf("added %d, progress %d; want 2500", added, progress)
	}
	got, want := countRows(t, owner, org), expected(org, 7, now, 2500)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows per table:\n got %v\nwant %v", got, want)
	}
	for table, n := range got {
		if n == 0 {
			t.Errorf("%s: no rows; the sample should cover every table", table)
		}
	}
}

func TestCustomers_SecondRunAddsAfterTheExistingOnes(t *testing.T) {
	app, owner := pools(t)
	org := uuid.New()
	for range 2 {
		if _, err := Customers(context.Background(), app, Options{Org: org, Customers: 150, Seed: 1, BatchSize: 100}); err != nil {
			t.Fatal(err)
		}
	}
	if got := countRows(t, owner, org)["customers"]; got != 300 {
		t.Fatalf("customers = %d, want 300", got)
	}
}

func TestCustomers_SameSeedSameCustomersOtherOrgOtherIDs(t *testing.T) {
	now := time.Now()
	a := newGenerator(DemoOrg, 3, now, DemoUser).customer(42)
	b := newGenerator(DemoOrg, 3, now, DemoUser).customer(42)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same organization, seed and number must give the same customer")
	}
	c := newGenerator(uuid.New(), 3, now, DemoUser).customer(42)
	if c.customer.ID == a.customer.ID {
		t.Fatal("two organizations must not share customer ids")
	}
}

func TestDemo_LoadsOnceThenIsANoOp(t *testing.T) {
	app, owner := pools(t)
	ctx := context.Background()
	loaded, err := Demo(ctx, app)
	if err != nil || !loaded {
		t.Fatalf("first Demo: loaded=%v err=%v", loaded, err)
	}
	first := countRows(t, owner, DemoOrg)
	if first["customers"] != DemoCustomers || first["credit_accounts"] == 0 || first["loyalty_accounts"] == 0 || first["customer_segments"] == 0 {
		t.Fatalf("demo organization: %v", first)
	}
	loaded, err = Demo(ctx, app)
	if err != nil || loaded {
		t.Fatalf("second Demo: loaded=%v err=%v; want a no-op", loaded, err)
	}
	if again := countRows(t, owner, DemoOrg); !reflect.DeepEqual(again, first) {
		t.Fatalf("second Demo changed the data: %v, then %v", first, again)
	}
}
