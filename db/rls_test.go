package db_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/db"
	"customerservice/internal/testkit/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// §7: the policies, not WHERE clauses, keep organizations apart for the server's role.
func TestRLS_ServerRoleSeesOnlyItsOrganization(t *testing.T) {
	tdb := testdb.Get(t)
	owner, app := testdb.Open(t, tdb.OwnerURL), testdb.Open(t, tdb.AppURL)
	ctx := context.Background()
	orgA, orgB, id := uuid.New(), uuid.New(), uuid.New()
	if _, err := owner.ExecContext(ctx, `INSERT INTO customers (customer_id, organization_id, first_name, last_name) VALUES (?, ?, 'A', 'A')`, id, orgA); err != nil {
		t.Fatal(err)
	}
	count := func(org uuid.UUID) (n int) {
		err := db.InOrg(ctx, app, org, true, func(ctx context.Context, tx bun.Tx) error {
			return tx.QueryRowContext(ctx, "SELECT count(*) FROM customers").Scan(&n)
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if a, b := count(orgA), count(orgB); a != 1 || b != 0 {
		t.Fatalf("org A sees %d, org B sees %d; want 1 and 0", a, b)
	}

	// Without the setting (a pooled connection where it was set before reads '') nothing is visible.
	var n int
	if err := app.QueryRowContext(ctx, "SELECT count(*) FROM customers").Scan(&n); err != nil || n != 0 {
		t.Fatalf("no organization set: count=%d err=%v", n, err)
	}

	// WITH CHECK: a row of another organization cannot be written, nor moved there.
	err := db.InOrg(ctx, app, orgB, false, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO customers (organization_id, first_name, last_name) VALUES (?, 'X', 'X')`, orgA)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "row-level security") {
		t.Fatalf("insert into another organization: %v", err)
	}
	err = db.InOrg(ctx, app, orgA, false, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE customers SET organization_id = ? WHERE customer_id = ?`, orgB, id)
		return err
	})
	// On Citus organization_id is the distribution column, whose change Citus refuses
	// before the policy is consulted: refused all the same.
	refusal := "row-level security"
	if testdb.OnCitus() {
		refusal = "modifying the partition value of rows is not allowed"
	}
	if err == nil || !strings.Contains(err.Error(), refusal) {
		t.Fatalf("move to another organization: %v", err)
	}
}

// §7: the setting is transaction-local: it does not survive on the pooled connection.
func TestRLS_OrganizationSettingDoesNotLeakThroughThePool(t *testing.T) {
	tdb := testdb.Get(t)
	app := testdb.Open(t, tdb.AppURL)
	app.SetMaxOpenConns(1)
	ctx := context.Background()
	if err := db.InOrg(ctx, app, uuid.New(), true, func(context.Context, bun.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	var setting string
	if err := app.QueryRowContext(ctx, "SELECT coalesce(current_setting('app.current_organization_id', true), '')").Scan(&setting); err != nil {
		t.Fatal(err)
	}
	if setting != "" {
		t.Fatalf("setting leaked to the next use of the connection: %q", setting)
	}
}

// §7: serve refuses a role that would bypass row-level security.
func TestCheckRole_RefusesSuperuserAndAcceptsAppRole(t *testing.T) {
	tdb := testdb.Get(t)
	ctx := context.Background()
	if err := db.CheckRole(ctx, testdb.Open(t, tdb.OwnerURL)); err == nil || !strings.Contains(err.Error(), "superuser") {
		t.Fatalf("superuser accepted: %v", err)
	}
	if err := db.CheckRole(ctx, testdb.Open(t, tdb.AppURL)); err != nil {
		t.Fatalf("app role refused: %v", err)
	}
	owner := testdb.Open(t, tdb.OwnerURL)
	if _, err := owner.ExecContext(ctx, "DROP ROLE IF EXISTS bypasser; CREATE ROLE bypasser LOGIN BYPASSRLS PASSWORD 'x'"); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("postgres://bypasser:x@127.0.0.1:%d/%s?sslmode=disable", tdb.Cluster.Port, tdb.Name)
	if err := db.CheckRole(ctx, testdb.Open(t, url)); err == nil || !strings.Contains(err.Error(), "BYPASSRLS") {
		t.Fatalf("BYPASSRLS accepted: %v", err)
	}
}

// §7: serve refuses the tables' owner (it could switch row-level security off), also when
// it is neither a superuser nor BYPASSRLS, and a role that is a member of the owner; a role
// of the same kind that owns nothing passes. The owner here owns a table of a scratch
// schema, which is the connection's current schema (search_path), as public is the server's.
func TestCheckRole_RefusesTheTablesOwnerAndItsMembers(t *testing.T) {
	tdb := testdb.Get(t)
	ctx := context.Background()
	super := testdb.Open(t, tdb.OwnerURL)
	for _, stmt := range []string{
		"CREATE ROLE probe_owner LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD 'x'",
		"CREATE ROLE probe_owner_member LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD 'x' IN ROLE probe_owner",
		"CREATE ROLE probe_bystander LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD 'x'",
		"CREATE SCHEMA probe_owned AUTHORIZATION probe_owner",
		"GRANT USAGE ON SCHEMA probe_owned TO probe_bystander",
		"CREATE TABLE probe_owned.accounts (id int)",
		"ALTER TABLE probe_owned.accounts OWNER TO probe_owner",
	} {
		if _, err := super.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	as := func(role string) *db.Pool {
		return testdb.Open(t, fmt.Sprintf("postgres://%s:x@127.0.0.1:%d/%s?sslmode=disable&search_path=probe_owned", role, tdb.Cluster.Port, tdb.Name))
	}
	err := db.CheckRole(ctx, as("probe_owner"))
	want := `database role "probe_owner" owns the tables (table accounts is owned by "probe_owner")`
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "MIGRATE_DATABASE_URL") ||
		!strings.Contains(err.Error(), "member of customer_service_app") {
		t.Errorf("the owner: got %v, want an error starting %s that says what to do", err, want)
	}
	err = db.CheckRole(ctx, as("probe_owner_member"))
	want = `database role "probe_owner_member" is a member of "probe_owner", which owns the tables (table accounts): `
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "member of customer_service_app") {
		t.Errorf("a member of the owner: got %v, want an error starting %s that says what to do", err, want)
	}
	if err := db.CheckRole(ctx, as("probe_bystander")); err != nil {
		t.Errorf("a role that owns nothing is refused: %v", err)
	}
}
