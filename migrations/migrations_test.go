package migrations_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"customerservice/db"
	"customerservice/internal/testdb"
	"customerservice/migrations"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// bunTables are bun's own bookkeeping: no tenant data, so no organization_id or RLS.
var bunTables = []string{"bun_migrations", "bun_migration_locks"}

// tenantlessTables are ours that hold no tenant's data, so no organization_id or RLS:
// job_runs has one row per scheduled job and slot, a run over every organization (job name,
// times, replica, totals). What a run did in an organization is in job_run_results, which is
// tenant-keyed and checked like any other table.
var tenantlessTables = []string{"job_runs"}

func openOwner(t *testing.T, dbname string) *bun.DB {
	t.Helper()
	tdb := testdb.Get(t)
	url := tdb.OwnerURL
	if dbname != "" {
		url = tdb.Cluster.SuperuserURL(dbname)
	}
	conn, err := db.Open(context.Background(), url, db.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// §7: every table carries organization_id, has RLS enabled and FORCEd, and a policy whose
// USING and WITH CHECK both compare organization_id with the transaction's setting.
func TestMigrations_EveryTableIsForcedRowLevelSecure(t *testing.T) {
	owner := openOwner(t, "")
	ctx := context.Background()
	type table struct {
		Name     string `bun:"relname"`
		Enabled  bool   `bun:"relrowsecurity"`
		Forced   bool   `bun:"relforcerowsecurity"`
		HasOrgID bool   `bun:"has_org"`
	}
	var tables []table
	err := owner.NewRaw(`SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
			EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'organization_id' AND NOT a.attisdropped) AS has_org
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1`).Scan(ctx, &tables)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range tenantlessTables {
		if !slices.ContainsFunc(tables, func(tb table) bool { return tb.Name == name && !tb.HasOrgID }) {
			t.Errorf("table %s is missing or has gained organization_id: take it out of tenantlessTables", name)
		}
	}
	if len(tables) < 12 {
		t.Fatalf("found only %d tables", len(tables))
	}
	for _, tb := range tables {
		if slices.Contains(bunTables, tb.Name) || slices.Contains(tenantlessTables, tb.Name) {
			continue
		}
		if !tb.Enabled || !tb.Forced || !tb.HasOrgID {
			t.Errorf("table %s: rls=%v force=%v organization_id=%v", tb.Name, tb.Enabled, tb.Forced, tb.HasOrgID)
		}
		var policies []struct {
			Using string `bun:"qual"`
			Check string `bun:"with_check"`
		}
		if err := owner.NewRaw(`SELECT coalesce(qual, '') AS qual, coalesce(with_check, '') AS with_check
			FROM pg_policies WHERE schemaname = 'public' AND tablename = ?`, tb.Name).Scan(ctx, &policies); err != nil {
			t.Fatal(err)
		}
		want := "(organization_id = (NULLIF(current_setting('app.current_organization_id'::text, true), ''::text))::uuid)"
		if len(policies) != 1 || policies[0].Using != want || policies[0].Check != want {
			t.Errorf("table %s: policies %+v, want one with USING and WITH CHECK %s", tb.Name, policies, want)
		}
	}
}

// §7: the server's role neither owns the tables nor bypasses RLS, and holds only the
// privileges it needs (no DELETE or UPDATE on the audit log, no DDL).
func TestMigrations_AppRoleIsLeastPrivileged(t *testing.T) {
	owner := openOwner(t, "")
	ctx := context.Background()
	var super, bypass, login bool
	if err := owner.QueryRowContext(ctx, "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = ?", db.AppRole).
		Scan(&super, &bypass, &login); err != nil {
		t.Fatal(err)
	}
	if super || bypass || login {
		t.Fatalf("%s: super=%v bypassrls=%v login=%v", db.AppRole, super, bypass, login)
	}
	var owned int
	if err := owner.QueryRowContext(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner IN (?, 'customer_service')`, db.AppRole).Scan(&owned); err != nil {
		t.Fatal(err)
	}
	if owned != 0 {
		t.Fatalf("the app role owns %d tables", owned)
	}
	var privs []string
	if err := owner.NewRaw(`SELECT table_name || ':' || string_agg(privilege_type, ',' ORDER BY privilege_type)
		FROM information_schema.role_table_grants WHERE grantee = ? GROUP BY table_name ORDER BY table_name`, db.AppRole).Scan(ctx, &privs); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(privs, " ")
	for _, want := range []string{"audit_log:INSERT,SELECT", "loyalty_programs:INSERT,SELECT,UPDATE", "customers:DELETE,INSERT,SELECT,UPDATE",
		"v_customer_360:SELECT", "bun_migrations:SELECT", "job_runs:INSERT,SELECT,UPDATE", "job_run_results:INSERT,SELECT,UPDATE"} {
		if !strings.Contains(got, want) {
			t.Errorf("grants %q lack %q", got, want)
		}
	}
	if strings.Contains(got, "TRUNCATE") || strings.Contains(got, "REFERENCES") || strings.Contains(got, "TRIGGER") {
		t.Errorf("grants include more than data access: %s", got)
	}
}

// down really reverses up: the schema after up, down, up is the schema after up, and after
// down nothing of ours is left.
func TestMigrations_DownReversesUp(t *testing.T) {
	admin := openOwner(t, "postgres")
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE migrations_roundtrip"); err != nil {
		t.Fatal(err)
	}
	conn := openOwner(t, "migrations_roundtrip")
	empty := schemaObjects(t, conn)
	if err := migrations.Up(ctx, conn); err != nil {
		t.Fatal(err)
	}
	afterUp := schemaObjects(t, conn)
	if len(afterUp) <= len(empty)+20 {
		t.Fatalf("up created too little: %d objects", len(afterUp))
	}
	for range migrations.Migrations.Sorted() {
		if err := migrations.Down(ctx, conn); err != nil {
			t.Fatal(err)
		}
	}
	if left := withoutBun(schemaObjects(t, conn)); !slices.Equal(left, withoutBun(empty)) {
		t.Fatalf("after down, objects remain: %v", diff(left, empty))
	}
	if err := migrations.Up(ctx, conn); err != nil {
		t.Fatal(err)
	}
	if again := schemaObjects(t, conn); !slices.Equal(again, afterUp) {
		t.Fatalf("up after down differs: %v / %v", diff(again, afterUp), diff(afterUp, again))
	}
}

// schemaObjects lists the tables, views, indexes, functions, policies and extensions.
func schemaObjects(t *testing.T, conn *bun.DB) []string {
	t.Helper()
	var names []string
	err := conn.NewRaw(`
		SELECT 'rel:' || relname || ':' || relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		  WHERE nspname = 'public' AND relkind IN ('r', 'v', 'i', 'S', 'm')
		UNION ALL SELECT 'fn:' || proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE nspname = 'public'
		UNION ALL SELECT 'policy:' || tablename || ':' || policyname FROM pg_policies WHERE schemaname = 'public'
		UNION ALL SELECT 'ext:' || extname FROM pg_extension
		ORDER BY 1`).Scan(context.Background(), &names)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func withoutBun(names []string) []string {
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return strings.Contains(n, "bun_migration") })
}

func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
