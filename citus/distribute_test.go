package citus_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/citus"
	"customerservice/db"
	"customerservice/internal/testkit/citusdb"
)

func TestMain(m *testing.M) { os.Exit(citusdb.Main(m)) }

func ownerConn(t *testing.T) bun.Conn {
	t.Helper()
	c := citusdb.Get(t)
	owner := citusdb.Open(t, c.OwnerURL)
	conn, err := owner.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// A schema whose keys do not all include organization_id is refused, with every key at
// fault named, and nothing is distributed.
func TestDistributeRefusesKeysWithoutOrganization(t *testing.T) {
	conn := ownerConn(t)
	ctx := context.Background()
	if _, err := conn.ExecContext(ctx, `CREATE SCHEMA legacy;
		CREATE TABLE legacy.customers (customer_id uuid PRIMARY KEY, organization_id uuid NOT NULL, email text UNIQUE);
		CREATE TABLE legacy.addresses (address_id uuid PRIMARY KEY, organization_id uuid NOT NULL,
		  customer_id uuid NOT NULL REFERENCES legacy.customers)`); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	err := citus.Distribute(ctx, conn, "legacy", &out)
	var keys *citus.KeyError
	if !errors.As(err, &keys) {
		t.Fatalf("Distribute(legacy) = %v, want a KeyError", err)
	}
	msg := err.Error()
	for _, want := range []string{"customers: unique key customers_pkey", "addresses: foreign key addresses_customer_id_fkey to customers"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not name %q:\n%s", want, msg)
		}
	}
	var distributed int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text LIKE 'legacy.%'").Scan(&distributed); err != nil {
		t.Fatal(err)
	}
	if distributed != 0 {
		t.Errorf("%d tables distributed after a refusal", distributed)
	}
}

// trialSchema is the shape the keys take on branch citus-keys: organization_id leads every
// key, foreign keys pair it; a global table, the bookkeeping, a trigger, RLS as in §7.
const trialSchema = `
CREATE SCHEMA trial;
GRANT USAGE ON SCHEMA trial TO customer_service_app;
CREATE TABLE trial.bun_migrations (id bigint PRIMARY KEY, name text);
CREATE TABLE trial.job_runs (job text, slot text, PRIMARY KEY (job, slot));
CREATE TABLE trial.customers (
  organization_id uuid NOT NULL, customer_id uuid NOT NULL DEFAULT gen_random_uuid(),
  email text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, customer_id),
  CONSTRAINT customers_email_key UNIQUE (organization_id, email));
CREATE TRIGGER customers_updated_at BEFORE UPDATE ON trial.customers
  FOR EACH ROW EXECUTE FUNCTION public.app_set_updated_at();
CREATE TABLE trial.addresses (
  organization_id uuid NOT NULL, address_id uuid NOT NULL DEFAULT gen_random_uuid(),
  customer_id uuid NOT NULL, line text NOT NULL,
  PRIMARY KEY (organization_id, address_id),
  FOREIGN KEY (organization_id, customer_id) REFERENCES trial.customers ON DELETE CASCADE);
CREATE TABLE trial.job_run_results (
  organization_id uuid NOT NULL, job text NOT NULL, slot text NOT NULL,
  PRIMARY KEY (organization_id, job), FOREIGN KEY (job, slot) REFERENCES trial.job_runs);
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['customers', 'addresses', 'job_run_results'] LOOP
    EXECUTE format('ALTER TABLE trial.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE trial.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON trial.%I
      USING (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid)
      WITH CHECK (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid)$p$, t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON trial.%I TO customer_service_app', t);
  END LOOP;
END $$;
`

var (
	trialOnce sync.Once
	trialOut  string
	trialErr  error
)

// trial creates and distributes the trial schema once per test binary.
func trial(t *testing.T) string {
	t.Helper()
	conn := ownerConn(t)
	trialOnce.Do(func() {
		ctx := context.Background()
		if _, trialErr = conn.ExecContext(ctx, trialSchema); trialErr != nil {
			return
		}
		var out strings.Builder
		trialErr = citus.Distribute(ctx, conn, "trial", &out)
		trialOut = out.String()
	})
	if trialErr != nil {
		t.Fatalf("distribute trial: %v\n%s", trialErr, trialOut)
	}
	return trialOut
}

func TestDistributeOrganizationLeadingKeys(t *testing.T) {
	out := trial(t)
	t.Logf("first run:\n%s", out)
	conn := ownerConn(t)
	ctx := context.Background()
	got := map[string]string{}
	rows, err := conn.QueryContext(ctx, `
SELECT logicalrelid::regclass::text, partmethod::text || coalesce('/' || a.attname, '') || '/' ||
       (colocationid = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'trial.customers'::regclass))::text
FROM pg_dist_partition p LEFT JOIN pg_attribute a ON a.attrelid = p.logicalrelid
  AND a.attnum = (SELECT attnum FROM pg_attribute WHERE attrelid = p.logicalrelid AND attname = 'organization_id' AND p.partmethod = 'h')
WHERE logicalrelid::regclass::text LIKE 'trial.%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var tbl, how string
		if err := rows.Scan(&tbl, &how); err != nil {
			t.Fatal(err)
		}
		got[tbl] = how
	}
	rows.Close()
	want := map[string]string{
		"trial.customers":       "h/organization_id/true",
		"trial.addresses":       "h/organization_id/true",
		"trial.job_run_results": "h/organization_id/true",
		"trial.job_runs":        "n/false",
	}
	for tbl, w := range want {
		if got[tbl] != w {
			t.Errorf("%s: %q, want %q", tbl, got[tbl], w)
		}
	}
	if _, ok := got["trial.bun_migrations"]; ok {
		t.Error("bun_migrations was distributed; it stays on the coordinator")
	}
	// Idempotent: a second run changes nothing and says so.
	var again strings.Builder
	if err := citus.Distribute(ctx, conn, "trial", &again); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if strings.Count(again.String(), "already") != 4 {
		t.Errorf("second run:\n%s", again.String())
	}
}

// D: the organization set by db.InOrg and db.ReadInOrg reaches the shards' policies on the
// workers, for writes and reads; each organization sees only its rows; a unique violation
// from a shard maps to the declared constraint.
func TestTenantSettingReachesWorkers(t *testing.T) {
	trial(t)
	c := citusdb.Get(t)
	app := citusdb.Open(t, citusdb.LoginRole(t, "citus_tenant_test"))
	if !app.OnCitus() {
		t.Fatal("the pool does not see Citus")
	}
	h := db.NewHandle(app, nil)
	ctx := context.Background()
	orgA, orgB := uuid.New(), uuid.New()
	insert := func(org uuid.UUID, rowOrg uuid.UUID, email string) error {
		return db.InOrg(ctx, h.DB, org, false, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO trial.customers (organization_id, email) VALUES (?, ?)", rowOrg, email)
			return err
		})
	}
	if err := insert(orgA, orgA, "a@example.com"); err != nil {
		t.Fatalf("insert in own organization: %v", err)
	}
	if err := insert(orgB, orgB, "b@example.com"); err != nil {
		t.Fatalf("insert in own organization: %v", err)
	}
	if err := insert(orgA, orgB, "x@example.com"); err == nil || !strings.Contains(err.Error(), "row-level security") {
		t.Errorf("insert of another organization's row: %v, want a row-level security refusal", err)
	}
	err := insert(orgA, orgA, "a@example.com")
	if name, ok := db.IsUniqueViolation(err); !ok || name != "customers_email_key" {
		t.Errorf("duplicate email: IsUniqueViolation(%v) = %q, %v", err, name, ok)
	}
	// The rows live on the workers only: the coordinator holds no shard.
	owner := citusdb.Open(t, c.OwnerURL)
	var onCoordinator int
	if err := owner.QueryRowContext(ctx, `SELECT count(*) FROM pg_dist_shard_placement p JOIN pg_dist_shard s USING (shardid)
		WHERE s.logicalrelid = 'trial.customers'::regclass AND p.nodeport = ?`, c.Cluster.Port).Scan(&onCoordinator); err != nil {
		t.Fatal(err)
	}
	if onCoordinator != 0 {
		t.Fatalf("%d shards of customers on the coordinator", onCoordinator)
	}
	read := func(org uuid.UUID) (emails []string) {
		err := db.ReadInOrg(ctx, h, org, db.Stmt{
			SQL: "SELECT email FROM trial.customers WHERE organization_id = $1 OR true ORDER BY email", Args: []any{org}, Prepare: true,
			Row: func(v [][]byte) error { emails = append(emails, string(v[0])); return nil },
		})
		if err != nil {
			t.Fatalf("ReadInOrg: %v", err)
		}
		return emails
	}
	for i := 0; i < 2; i++ { // twice: the prepared statement's second run too
		if got := strings.Join(read(orgA), ","); got != "a@example.com" {
			t.Errorf("ReadInOrg(A) = %q", got)
		}
		if got := strings.Join(read(orgB), ","); got != "b@example.com" {
			t.Errorf("ReadInOrg(B) = %q", got)
		}
	}
	var n int
	if err := db.InOrg(ctx, app, orgA, true, func(ctx context.Context, tx bun.Tx) error {
		return tx.QueryRowContext(ctx, "SELECT count(*) FROM trial.customers").Scan(&n)
	}); err != nil || n != 1 {
		t.Errorf("InOrg read (fanned out to every shard): %d rows, %v; want 1", n, err)
	}
	// A failed read leaves the connection usable (the explicit transaction is rolled back).
	if err := db.ReadInOrg(ctx, h, orgA, db.Stmt{SQL: "SELECT 1/0", Row: func([][]byte) error { return nil }}); err == nil {
		t.Error("SELECT 1/0 did not fail")
	}
	if got := strings.Join(read(orgA), ","); got != "a@example.com" {
		t.Errorf("ReadInOrg(A) after a failed read = %q", got)
	}
	// What the setting of plain PostgreSQL would do on Citus: the workers see no organization.
	var seen int
	if err := app.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT set_config('app.current_organization_id', ?, true)", orgA.String()); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "SELECT count(*) FROM trial.customers").Scan(&seen)
	}); err != nil {
		t.Fatal(err)
	}
	if seen != 0 {
		t.Errorf("with set_config(…, true) the shards saw %d rows; Citus did not carry it before (README)", seen)
	}
}

// The service's own schema (every key leads with organization_id, migration
// 20261210000001_tenant_keys) distributes: every tenant table by organization_id, colocated
// with customers; job_runs a reference table. Last in the file: it distributes public.
func TestDistributeTheServicesSchema(t *testing.T) {
	conn := ownerConn(t)
	ctx := context.Background()
	var out strings.Builder
	if err := citus.Distribute(ctx, conn, "public", &out); err != nil {
		t.Fatalf("Distribute(public): %v\n%s", err, out.String())
	}
	rows, err := conn.QueryContext(ctx, `SELECT logicalrelid::text, partmethod, colocationid = (SELECT colocationid FROM pg_dist_partition
		WHERE logicalrelid = 'customers'::regclass) FROM pg_dist_partition WHERE logicalrelid::text NOT LIKE '%.%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var table, method string
		var colocated bool
		if err := rows.Scan(&table, &method, &colocated); err != nil {
			t.Fatal(err)
		}
		got[table] = method
		if method == "h" && !colocated {
			t.Errorf("%s is not colocated with customers", table)
		}
	}
	for _, table := range []string{"customers", "addresses", "loyalty_programs", "loyalty_accounts", "loyalty_transactions",
		"loyalty_tier_changes", "loyalty_qualifying_days", "purchases", "purchase_refunds", "credit_accounts", "credit_usage", "credit_payments", "credit_policies", "credit_allocations", "credit_limit_changes", "customer_segments", "audit_log", "job_run_results",
		"saved_segments", "customer_consents", "customer_merges", "customer_counts", "privacy_requests", "privacy_settings"} {
		if got[table] != "h" {
			t.Errorf("%s: partition method %q, want hash by organization_id", table, got[table])
		}
	}
	for _, table := range []string{"job_runs", "organizations"} {
		if got[table] != "n" {
			t.Errorf("%s: partition method %q, want a reference table", table, got[table])
		}
	}
	t.Logf("%s", out.String())
	// The triggers that keep the customer counters are gone, and the counters with them:
	// customerStats counts on Citus.
	var counterTriggers, counters int
	if err := conn.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'customer\_counts\_%'),
		(SELECT count(*) FROM customer_counts)`).Scan(&counterTriggers, &counters); err != nil {
		t.Fatal(err)
	}
	if counterTriggers != 0 || counters != 0 || !strings.Contains(out.String(), "customer_counts: 9 triggers dropped") {
		t.Errorf("after distribute: %d counter triggers, %d counters, want none:\n%s", counterTriggers, counters, out.String())
	}
	// The server's role may UPDATE the registry on Citus (a registration locks it), which the
	// migrations no longer grant on plain PostgreSQL.
	var update bool
	if err := conn.QueryRowContext(ctx, "SELECT has_table_privilege('customer_service_app', 'organizations', 'UPDATE')").Scan(&update); err != nil || !update {
		t.Errorf("customer_service_app may UPDATE organizations after distribute: %v (%v)", update, err)
	}
	if !strings.Contains(out.String(), "organizations: UPDATE granted to customer_service_app") {
		t.Errorf("distribute does not say it granted UPDATE on organizations:\n%s", out.String())
	}

	// The search runs as its caller everywhere (its owner, a NOLOGIN role, never has to log
	// in to a worker), and no SECURITY DEFINER function is left to warn about.
	for _, node := range searchSecurity(t, conn) {
		if node != "f" {
			t.Errorf("customer_search_ids(text) on the nodes: %v, want SECURITY INVOKER (f) on each", searchSecurity(t, conn))
			break
		}
	}
	if strings.Contains(out.String(), "SECURITY DEFINER owned by") {
		t.Errorf("distribute warned about a SECURITY DEFINER function:\n%s", out.String())
	}

	// Idempotent: a second run changes nothing and says so.
	out.Reset()
	if err := citus.Distribute(ctx, conn, "public", &out); err != nil {
		t.Fatalf("second Distribute(public): %v\n%s", err, out.String())
	}
	for _, line := range []string{"customers: already distributed\n", "organizations: already a reference table\n",
		"organizations: customer_service_app may already update it\n",
		"customer_search_ids(text): already runs as its caller\n",
		"customer_tag_ids(character varying[], boolean): already runs as its caller\n"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("second run does not say %q:\n%s", line, out.String())
		}
	}

	// Column grants on shards that Citus creates later: isolating an organization to shards
	// of its own (as a rebalance that splits does) creates new shards of every colocated
	// table. Citus copies the table grants to them but not the column grants; distribute,
	// run again, re-asserts those on every shard.
	const columnGrant = "customer_service_definer:SELECT(search_text)"
	if got := placementsWithout(t, conn, "search_text"); len(got) != 0 {
		t.Fatalf("after distribute, shards of customers without %s: %v", columnGrant, got)
	}
	var newShard int64
	if err := conn.QueryRowContext(ctx, "SELECT isolate_tenant_to_new_shard('customers', ?::uuid, 'CASCADE', shard_transfer_mode => 'block_writes')",
		uuid.New().String()).Scan(&newShard); err != nil {
		t.Fatal(err)
	}
	missing := placementsWithout(t, conn, "search_text")
	if len(missing) == 0 {
		t.Fatalf("Citus kept %s on the shards it created (%d): the re-assertion would not be needed", columnGrant, newShard)
	}
	t.Logf("after isolate_tenant_to_new_shard: shards without %s: %v", columnGrant, missing)
	out.Reset()
	if err := citus.Distribute(ctx, conn, "public", &out); err != nil {
		t.Fatalf("Distribute after the split: %v\n%s", err, out.String())
	}
	if got := placementsWithout(t, conn, "search_text"); len(got) != 0 {
		t.Fatalf("after distribute again, shards without %s: %v", columnGrant, got)
	}
	if !strings.Contains(out.String(), "customers: SELECT (search_text) granted to customer_service_definer on the workers and the shards") {
		t.Errorf("distribute does not report the column grant:\n%s", out.String())
	}
}

// searchSecurity is customer_search_ids(text)'s prosecdef on the coordinator and each worker.
func searchSecurity(t *testing.T, conn bun.Conn) []string {
	t.Helper()
	ctx := context.Background()
	var coord bool
	if err := conn.QueryRowContext(ctx, "SELECT prosecdef FROM pg_proc WHERE oid = 'public.customer_search_ids(text)'::regprocedure").Scan(&coord); err != nil {
		t.Fatal(err)
	}
	nodes := []string{map[bool]string{true: "t", false: "f"}[coord]}
	rows, err := conn.QueryContext(ctx, `SELECT result FROM run_command_on_workers(
		$$SELECT prosecdef FROM pg_proc WHERE oid = 'public.customer_search_ids(text)'::regprocedure$$) ORDER BY nodeport`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, r)
	}
	return nodes
}

// placementsWithout lists the shard placements of customers on which the search function's
// owner lacks SELECT on column.
func placementsWithout(t *testing.T, conn bun.Conn, column string) []string {
	t.Helper()
	rows, err := conn.QueryContext(context.Background(), `SELECT shardid || '@' || nodeport || ': ' || result
		FROM run_command_on_placements('customers', $$SELECT has_column_privilege('customer_service_definer', '%s', '`+column+`', 'SELECT')$$)
		WHERE result <> 't' ORDER BY shardid, nodeport`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
