package migrations_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"

	"customerservice/db"
	"customerservice/internal/embedded"
	"customerservice/internal/testkit/testdb"
	"customerservice/migrations"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// bunTables are bun's own bookkeeping: no tenant data, so no organization_id or RLS.
var bunTables = []string{"bun_migrations", "bun_migration_locks"}

// tenantlessTables are ours that hold no tenant's data, so no organization_id or RLS:
// job_runs has one row per scheduled job and slot, a run over every organization (job name,
// times, replica, totals). What a run did in an organization is in job_run_results, which is
// tenant-keyed and checked like any other table.
var tenantlessTables = []string{"job_runs", "organizations"}

// rollBackAfter runs the down of every migration after name, newest first: a migration's
// down undoes what its up did to the schema its up found, so the ones after it go first.
// rollForwardAfter runs their ups again, in order.
func rollBackAfter(t *testing.T, conn *db.Pool, name string) {
	t.Helper()
	after := migrationsAfter(t, name)
	for i := len(after) - 1; i >= 0; i-- {
		execFile(t, conn, after[i]+".tx.down.sql")
	}
}

func rollForwardAfter(t *testing.T, conn *db.Pool, name string) {
	t.Helper()
	for _, m := range migrationsAfter(t, name) {
		execFile(t, conn, m+".tx.up.sql")
	}
}

// migrationsAfter names the migrations after name, in order.
func migrationsAfter(t *testing.T, name string) []string {
	t.Helper()
	var out []string
	found := false
	for _, m := range migrations.Migrations.Sorted() {
		if found {
			out = append(out, m.Name+"_"+m.Comment)
		}
		found = found || m.Name+"_"+m.Comment == name
	}
	if !found {
		t.Fatalf("no migration %s", name)
	}
	return out
}

func execFile(t *testing.T, conn *db.Pool, file string) {
	t.Helper()
	sql, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), string(sql)); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

func openOwner(t *testing.T, dbname string) *db.Pool {
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

// wantAppPrivileges is everything the server's role may do in its database (§7): each
// table's privileges as the statements of the server, seed, jobs and segments need them
// (derived in 20261202000001_least_privilege), the search function of the init migration,
// the filter by tag's two (20261230000001) and the schema. Any privilege more, or less, fails
// TestMigrations_AppRoleIsLeastPrivileged.
var wantAppPrivileges = []string{
	"function:customer_search_ids:EXECUTE",
	"function:customer_tag_ids:EXECUTE",
	"function:customer_tags_indexed:EXECUTE",
	"schema:public:USAGE",
	"table:addresses:DELETE,INSERT,SELECT,UPDATE",
	"table:audit_log:INSERT,SELECT",
	"table:bun_migrations:SELECT",
	"table:credit_accounts:INSERT,SELECT,UPDATE",
	"table:credit_allocations:INSERT,SELECT",
	"table:credit_limit_changes:INSERT,SELECT",
	"table:credit_payments:INSERT,SELECT",
	"table:credit_policies:INSERT,SELECT,UPDATE",
	"table:credit_usage:INSERT,SELECT,UPDATE",
	"table:customer_consents:INSERT,SELECT,UPDATE", // UPDATE of evidence only (erasure)
	"table:customer_counts:INSERT,SELECT,UPDATE",   // written by the triggers that keep the counters, as the writer
	"table:customer_merges:INSERT,SELECT,UPDATE",   // UPDATE of result only (erasure)
	"table:customer_segments:DELETE,INSERT,SELECT,UPDATE",
	"table:customers:DELETE,INSERT,SELECT,UPDATE",
	"table:job_run_results:INSERT,SELECT,UPDATE",
	"table:job_runs:INSERT,SELECT,UPDATE",
	"table:loyalty_accounts:INSERT,SELECT,UPDATE",
	"table:loyalty_programs:INSERT,SELECT,UPDATE",
	"table:loyalty_qualifying_days:INSERT,SELECT,UPDATE",
	"table:loyalty_tier_changes:INSERT,SELECT",
	"table:loyalty_transactions:INSERT,SELECT,UPDATE",
	"table:organizations:INSERT,SELECT",           // UPDATE only on Citus: `citus distribute` grants it
	"table:privacy_requests:INSERT,SELECT,UPDATE", // UPDATE of the completion and the texts only
	"table:privacy_settings:INSERT,SELECT,UPDATE",
	"table:purchase_refunds:INSERT,SELECT",
	"table:purchases:INSERT,SELECT,UPDATE",
	"table:saved_segments:DELETE,INSERT,SELECT,UPDATE",
	"table:v_customer_360:SELECT",
}

// initAppPrivileges is what the role held before 20261202000001_least_privilege: DELETE on
// every ledger table, UPDATE on the append-only ones. That migration's down restores it.
var initAppPrivileges = []string{
	"function:customer_search_ids:EXECUTE",
	"function:tenant_organization_ids:EXECUTE",
	"schema:public:USAGE",
	"table:addresses:DELETE,INSERT,SELECT,UPDATE",
	"table:audit_log:INSERT,SELECT",
	"table:bun_migrations:SELECT",
	"table:credit_accounts:DELETE,INSERT,SELECT,UPDATE",
	"table:credit_payments:DELETE,INSERT,SELECT,UPDATE",
	"table:credit_usage:DELETE,INSERT,SELECT,UPDATE",
	"table:customer_segments:DELETE,INSERT,SELECT,UPDATE",
	"table:customers:DELETE,INSERT,SELECT,UPDATE",
	"table:job_run_results:INSERT,SELECT,UPDATE",
	"table:job_runs:INSERT,SELECT,UPDATE",
	"table:loyalty_accounts:DELETE,INSERT,SELECT,UPDATE",
	"table:loyalty_programs:INSERT,SELECT,UPDATE",
	"table:loyalty_transactions:DELETE,INSERT,SELECT,UPDATE",
	"table:purchase_refunds:DELETE,INSERT,SELECT,UPDATE",
	"table:purchases:DELETE,INSERT,SELECT,UPDATE",
	"table:v_customer_360:SELECT",
}

// privileges is everything role may do in conn's database, one "kind:object:PRIV,…" line
// per object: on each table, view and sequence of the public schema whatever it holds
// directly, through PUBLIC or through a role it belongs to, table-wide or on any column;
// on the public schema the same; on functions what was granted to it by name (PUBLIC may
// execute every extension function, which says nothing about this role).
func privileges(t *testing.T, conn bun.IDB, role string) []string {
	t.Helper()
	var lines []string
	err := conn.NewRaw(`
		WITH rel_priv AS (
		  SELECT CASE c.relkind WHEN 'S' THEN 'sequence' ELSE 'table' END AS kind, c.relname AS name, p.priv
		  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		  CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER', 'USAGE']) AS p(priv)
		  WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
		    AND CASE
		      WHEN c.relkind = 'S' THEN p.priv IN ('SELECT', 'UPDATE', 'USAGE') AND has_sequence_privilege(?0, c.oid, p.priv)
		      WHEN p.priv = 'USAGE' THEN false
		      WHEN p.priv IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES') THEN has_any_column_privilege(?0, c.oid, p.priv)
		      ELSE has_table_privilege(?0, c.oid, p.priv)
		    END
		), schema_priv AS (
		  SELECT 'schema', 'public', p.priv FROM unnest(ARRAY['USAGE', 'CREATE']) AS p(priv)
		  WHERE has_schema_privilege(?0, 'public', p.priv)
		), function_priv AS (
		  SELECT 'function', f.proname::text, a.privilege_type
		  FROM pg_proc f JOIN pg_namespace n ON n.oid = f.pronamespace, aclexplode(f.proacl) a
		  WHERE n.nspname = 'public' AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = ?0)
		)
		SELECT kind || ':' || name || ':' || string_agg(priv, ',' ORDER BY priv)
		FROM (SELECT * FROM rel_priv UNION ALL SELECT * FROM schema_priv UNION ALL SELECT * FROM function_priv) AS x(kind, name, priv)
		GROUP BY kind, name`, role).Scan(context.Background(), &lines)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(lines)
	return lines
}

// §7: the server's role neither owns the tables nor bypasses RLS, and holds exactly the
// privileges its statements need: wantAppPrivileges, no more (no DELETE of a ledger row,
// no UPDATE of an append-only table, no DDL), no less. The login role adds nothing to it.
func TestMigrations_AppRoleIsLeastPrivileged(t *testing.T) {
	owner := openOwner(t, "")
	ctx := context.Background()
	var super, bypass, login, createRole, createDB bool
	var memberOf int
	if err := owner.QueryRowContext(ctx, `SELECT rolsuper, rolbypassrls, rolcanlogin, rolcreaterole, rolcreatedb,
			(SELECT count(*) FROM pg_auth_members m WHERE m.member = r.oid)
		FROM pg_roles r WHERE rolname = ?`, db.AppRole).
		Scan(&super, &bypass, &login, &createRole, &createDB, &memberOf); err != nil {
		t.Fatal(err)
	}
	if super || bypass || login || createRole || createDB || memberOf != 0 {
		t.Fatalf("%s: super=%v bypassrls=%v login=%v createrole=%v createdb=%v member of %d roles",
			db.AppRole, super, bypass, login, createRole, createDB, memberOf)
	}
	var owned int
	if err := owner.QueryRowContext(ctx, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) IN (?, ?)`, db.AppRole, embedded.LoginRole).Scan(&owned); err != nil {
		t.Fatal(err)
	}
	if owned != 0 {
		t.Fatalf("the server's roles own %d relations", owned)
	}
	if got := privileges(t, owner, db.AppRole); !slices.Equal(got, wantAppPrivileges) {
		t.Errorf("%s holds:\n  %s\nwant:\n  %s\nmore: %v\nless: %v", db.AppRole, strings.Join(got, "\n  "),
			strings.Join(wantAppPrivileges, "\n  "), diff(got, wantAppPrivileges), diff(wantAppPrivileges, got))
	}
	// The login role's tables privileges are the app role's (functions are granted by name).
	loginTables := slices.DeleteFunc(privileges(t, owner, embedded.LoginRole), func(l string) bool { return strings.HasPrefix(l, "function:") })
	wantTables := slices.DeleteFunc(slices.Clone(wantAppPrivileges), func(l string) bool { return strings.HasPrefix(l, "function:") })
	if !slices.Equal(loginTables, wantTables) {
		t.Errorf("the login role %s holds more or less than %s: more %v, less %v", embedded.LoginRole, db.AppRole,
			diff(loginTables, wantTables), diff(wantTables, loginTables))
	}
}

// The least-privilege migration's down gives the role back exactly the init migration's
// grants, and its up takes them away again.
func TestMigrations_LeastPrivilegeDownRestoresTheInitGrants(t *testing.T) {
	admin := openOwner(t, "postgres")
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE migrations_least_privilege"); err != nil {
		t.Fatal(err)
	}
	conn := openOwner(t, "migrations_least_privilege")
	if err := migrations.Up(ctx, conn.DB); err != nil {
		t.Fatal(err)
	}
	rollBackAfter(t, conn, "20261202000001_least_privilege")
	execFile(t, conn, "20261202000001_least_privilege.tx.down.sql")
	if got := privileges(t, conn, db.AppRole); !slices.Equal(got, initAppPrivileges) {
		t.Errorf("after down: more %v, less %v", diff(got, initAppPrivileges), diff(initAppPrivileges, got))
	}
	execFile(t, conn, "20261202000001_least_privilege.tx.up.sql")
	rollForwardAfter(t, conn, "20261202000001_least_privilege")
	if got := privileges(t, conn, db.AppRole); !slices.Equal(got, wantAppPrivileges) {
		t.Errorf("after up again: more %v, less %v", diff(got, wantAppPrivileges), diff(wantAppPrivileges, got))
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
	if err := migrations.Up(ctx, conn.DB); err != nil {
		t.Fatal(err)
	}
	afterUp := schemaObjects(t, conn)
	if len(afterUp) <= len(empty)+20 {
		t.Fatalf("up created too little: %d objects", len(afterUp))
	}
	for range migrations.Migrations.Sorted() {
		if err := migrations.Down(ctx, conn.DB); err != nil {
			t.Fatal(err)
		}
	}
	if left := withoutBun(schemaObjects(t, conn)); !slices.Equal(left, withoutBun(empty)) {
		t.Fatalf("after down, objects remain: %v", diff(left, empty))
	}
	// The roles are the cluster's: the test database of this package still uses them, so
	// down keeps them (schemaObjects compared their existence above); but nothing in this
	// database may hold them any more, or no down could ever drop them.
	if held := roleDependencies(t, conn); len(held) > 0 {
		t.Fatalf("after down, this database still holds the service's roles: %v", held)
	}
	if err := migrations.Up(ctx, conn.DB); err != nil {
		t.Fatal(err)
	}
	if again := schemaObjects(t, conn); !slices.Equal(again, afterUp) {
		t.Fatalf("up after down differs: %v / %v", diff(again, afterUp), diff(afterUp, again))
	}
}

// serviceRoles are the cluster-wide roles the init migration creates.
var serviceRoles = []string{db.AppRole, "customer_service_definer"}

// schemaObjects lists the tables, views, indexes, functions, policies and extensions, the
// grants of the service's roles in this database (on relations, columns, functions and the
// schema), and which of those roles exist.
func schemaObjects(t *testing.T, conn *db.Pool) []string {
	t.Helper()
	var names []string
	err := conn.NewRaw(`
		WITH roles AS (SELECT oid, rolname FROM pg_roles WHERE rolname IN (?))
		SELECT 'rel:' || relname || ':' || relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		  WHERE nspname = 'public' AND relkind IN ('r', 'v', 'i', 'S', 'm')
		UNION ALL SELECT 'fn:' || proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE nspname = 'public'
		UNION ALL SELECT 'policy:' || tablename || ':' || policyname FROM pg_policies WHERE schemaname = 'public'
		UNION ALL SELECT 'ext:' || extname FROM pg_extension
		UNION ALL SELECT 'role:' || rolname FROM roles
		UNION ALL SELECT 'grant:' || r.rolname || ':' || c.relname || ':' || a.privilege_type
		  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a JOIN roles r ON r.oid = a.grantee
		  WHERE n.nspname = 'public'
		UNION ALL SELECT 'grant:' || r.rolname || ':' || c.relname || '.' || at.attname || ':' || a.privilege_type
		  FROM pg_attribute at JOIN pg_class c ON c.oid = at.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace,
		    aclexplode(at.attacl) a JOIN roles r ON r.oid = a.grantee
		  WHERE n.nspname = 'public'
		UNION ALL SELECT 'grant:' || r.rolname || ':' || f.proname || '():' || a.privilege_type
		  FROM pg_proc f JOIN pg_namespace n ON n.oid = f.pronamespace, aclexplode(f.proacl) a JOIN roles r ON r.oid = a.grantee
		  WHERE n.nspname = 'public'
		UNION ALL SELECT 'grant:' || r.rolname || ':schema ' || n.nspname || ':' || a.privilege_type
		  FROM pg_namespace n, aclexplode(n.nspacl) a JOIN roles r ON r.oid = a.grantee
		  WHERE n.nspname = 'public'
		ORDER BY 1`, bun.List(serviceRoles)).Scan(context.Background(), &names)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// roleDependencies lists what in conn's database refers to the service's roles (grants,
// ownership): what makes their DROP ROLE fail.
func roleDependencies(t *testing.T, conn *db.Pool) []string {
	t.Helper()
	var deps []string
	err := conn.NewRaw(`SELECT r.rolname || ': ' || d.classid::regclass::text || ' ' || d.objid || ' (' || d.deptype::text || ')'
		FROM pg_shdepend d JOIN pg_roles r ON r.oid = d.refobjid
		WHERE d.refclassid = 'pg_authid'::regclass AND r.rolname IN (?)
		  AND d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		ORDER BY 1`, bun.List(serviceRoles)).Scan(context.Background(), &deps)
	if err != nil {
		t.Fatal(err)
	}
	return deps
}

// withoutBun leaves out bun's own tables, which outlive every down (grants on them stay in).
func withoutBun(names []string) []string {
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return strings.HasPrefix(n, "rel:bun_migration") })
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

// tenantKeysMigration is the migration that put organization_id into every key.
const tenantKeysMigration = "20261210000001_tenant_keys"

// Every primary key, unique key and unique index of a table with organization_id includes
// it first, and every foreign key between such tables is on (organization_id, …) referencing
// the parent's organization_id (docs/decisions-tenancy-keys.md): what distributing the
// tables by organization needs. A foreign key to a tenantless table (job_run_results to
// job_runs, a reference table once distributed) is the one exception.
func TestMigrations_EveryKeyOfATenantTableLeadsWithOrganization(t *testing.T) {
	owner := openOwner(t, "")
	var bad []string
	err := owner.NewRaw(`
		WITH org AS (
		  SELECT a.attrelid AS rel, a.attnum FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
		  WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
		    AND a.attname = 'organization_id' AND NOT a.attisdropped
		)
		SELECT con.conrelid::regclass || ': ' || con.conname || ' ' || pg_get_constraintdef(con.oid)
		FROM pg_constraint con JOIN org ON org.rel = con.conrelid
		LEFT JOIN org parent ON parent.rel = con.confrelid
		WHERE con.contype IN ('p', 'u', 'f')
		  AND NOT (con.contype = 'f' AND parent.rel IS NULL)
		  AND NOT (con.conkey[1] = org.attnum AND (con.contype <> 'f' OR con.confkey[1] = parent.attnum))
		UNION ALL
		SELECT i.indrelid::regclass || ': ' || pg_get_indexdef(i.indexrelid)
		FROM pg_index i JOIN org ON org.rel = i.indrelid
		WHERE i.indisunique AND i.indkey[0] <> org.attnum
		ORDER BY 1`).Scan(context.Background(), &bad)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Errorf("a key of a tenant table without organization_id first: %s", b)
	}
	var keys int
	if err := owner.QueryRowContext(context.Background(), `SELECT count(*) FROM pg_constraint
		WHERE connamespace = 'public'::regnamespace AND contype IN ('p', 'u', 'f')`).Scan(&keys); err != nil {
		t.Fatal(err)
	}
	if keys < 25 {
		t.Fatalf("found only %d keys", keys)
	}
}

// The tenant keys' down restores exactly the keys, indexes and view before it, and its up
// after that gives exactly the keys of a fresh migration.
func TestMigrations_TenantKeysDownRestoresTheKeys(t *testing.T) {
	admin := openOwner(t, "postgres")
	ctx := context.Background()
	for _, name := range []string{"migrations_keys_before", "migrations_keys"} {
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			t.Fatal(err)
		}
	}
	// The schema just before: every migration's up but this one's, in order.
	before := openOwner(t, "migrations_keys_before")
	upTo(t, before, tenantKeysMigration)
	want := keyDefinitions(t, before)

	conn := openOwner(t, "migrations_keys")
	if err := migrations.Up(ctx, conn.DB); err != nil {
		t.Fatal(err)
	}
	afterUp := keyDefinitions(t, conn)
	if slices.Equal(afterUp, want) {
		t.Fatal("the tenant keys migration changed nothing")
	}
	rollBackAfter(t, conn, tenantKeysMigration)
	execFile(t, conn, tenantKeysMigration+".tx.down.sql")
	if got := keyDefinitions(t, conn); !slices.Equal(got, want) {
		t.Errorf("after down: more %v\nless %v", diff(got, want), diff(want, got))
	}
	execFile(t, conn, tenantKeysMigration+".tx.up.sql")
	rollForwardAfter(t, conn, tenantKeysMigration)
	if got := keyDefinitions(t, conn); !slices.Equal(got, afterUp) {
		t.Errorf("after up again: more %v\nless %v", diff(got, afterUp), diff(afterUp, got))
	}
}

// keyDefinitions lists every constraint and index of the public schema with its definition,
// and the views' definitions.
func keyDefinitions(t *testing.T, conn *db.Pool) []string {
	t.Helper()
	var defs []string
	err := conn.NewRaw(`
		SELECT 'constraint:' || conrelid::regclass || ':' || conname || ':' || pg_get_constraintdef(oid)
		FROM pg_constraint WHERE connamespace = 'public'::regnamespace
		UNION ALL SELECT 'index:' || pg_get_indexdef(indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE c.relnamespace = 'public'::regnamespace AND c.relname NOT LIKE 'bun_migration%'
		UNION ALL SELECT 'view:' || viewname || ':' || definition FROM pg_views WHERE schemaname = 'public'
		ORDER BY 1`).Scan(context.Background(), &defs)
	if err != nil {
		t.Fatal(err)
	}
	return defs
}

// upTo runs every migration's up before the one named (<timestamp>_<comment>), in order.
func upTo(t *testing.T, conn *db.Pool, migration string) {
	t.Helper()
	if err := migrate.NewMigrator(conn.DB, migrations.Migrations).Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations.Migrations.Sorted() {
		if m.Name+"_"+m.Comment == migration {
			return
		}
		execFile(t, conn, m.Name+"_"+m.Comment+".tx.up.sql")
	}
	t.Fatalf("no migration %s", migration)
}
