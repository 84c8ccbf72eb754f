package migrations_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"customerservice/db"
	"customerservice/internal/testkit/testdb"
)

const registryMigration = "20261212000001_organizations_registry"

// The registry migration registers every organization that has customers (with its first
// customer's date), drops tenant_organization_ids(), and its down brings the function back
// (still returning those organizations) and drops the registry.
func TestMigrations_OrganizationsRegistryBackfillsAndDownRestoresTheFunction(t *testing.T) {
	admin := openOwner(t, "postgres")
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE migrations_registry"); err != nil {
		t.Fatal(err)
	}
	conn := openOwner(t, "migrations_registry")
	upTo(t, conn, registryMigration)
	orgA, orgB, orgC := uuid.New(), uuid.New(), uuid.New()
	for _, c := range []struct {
		org uuid.UUID
		at  string
	}{{orgA, "2026-03-01"}, {orgA, "2026-01-15"}, {orgB, "2026-02-01"}} {
		if _, err := conn.ExecContext(ctx, `INSERT INTO customers (organization_id, first_name, last_name, created_at)
			VALUES (?, 'A', 'B', ?)`, c.org, c.at); err != nil {
			t.Fatal(err)
		}
	}
	// An organization with only a loyalty program (no customer) is not one the jobs visited.
	if _, err := conn.ExecContext(ctx, "INSERT INTO loyalty_programs (organization_id) VALUES (?)", orgC); err != nil {
		t.Fatal(err)
	}
	execFile(t, conn, registryMigration+".tx.up.sql")
	type row struct {
		ID        uuid.UUID `bun:"id"`
		CreatedAt string    `bun:"created_at"`
	}
	var rows []row
	if err := conn.NewRaw("SELECT id, created_at::date::text AS created_at FROM organizations ORDER BY created_at").Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	if want := []row{{orgA, "2026-01-15"}, {orgB, "2026-02-01"}}; !slices.Equal(rows, want) {
		t.Fatalf("registry after up: %v, want %v", rows, want)
	}
	if n := functionCount(t, conn, "tenant_organization_ids"); n != 0 {
		t.Fatalf("tenant_organization_ids() still exists after up")
	}
	var forced bool
	if err := conn.NewRaw("SELECT relforcerowsecurity FROM pg_class WHERE oid = 'customers'::regclass").Scan(ctx, &forced); err != nil || !forced {
		t.Fatalf("customers: FORCE row level security %v after the backfill (%v)", forced, err)
	}

	execFile(t, conn, registryMigration+".tx.down.sql")
	if n := functionCount(t, conn, "tenant_organization_ids"); n != 1 {
		t.Fatalf("tenant_organization_ids() after down: %d functions", n)
	}
	var ids []uuid.UUID
	if err := conn.NewRaw("SELECT id FROM tenant_organization_ids() AS id").Scan(ctx, &ids); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	want := []uuid.UUID{orgA, orgB}
	slices.SortFunc(want, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	if !slices.Equal(ids, want) {
		t.Fatalf("tenant_organization_ids() after down: %v, want %v", ids, want)
	}
	var definer bool
	var owner string
	if err := conn.NewRaw(`SELECT p.prosecdef, pg_get_userbyid(p.proowner) FROM pg_proc p
		WHERE p.oid = 'public.tenant_organization_ids()'::regprocedure`).Scan(ctx, &definer, &owner); err != nil {
		t.Fatal(err)
	}
	if !definer || owner != "customer_service_definer" {
		t.Fatalf("tenant_organization_ids() after down: definer %v, owner %s", definer, owner)
	}
	if err := conn.NewRaw("SELECT to_regclass('organizations') IS NULL").Scan(ctx, &definer); err != nil || !definer {
		t.Fatalf("organizations still exists after down (%v)", err)
	}
}

func functionCount(t *testing.T, conn bun.IDB, name string) int {
	t.Helper()
	var n int
	if err := conn.NewRaw("SELECT count(*) FROM pg_proc WHERE proname = ?", name).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The registry lists every organization to the server's role (the jobs' list), lets a
// transaction register its own organization only, and may not update it.
func TestMigrations_OrganizationsRegistryRegistersOnlyTheTransactionsOrganization(t *testing.T) {
	ctx := context.Background()
	app, err := db.Open(ctx, testdb.Get(t).AppURL, db.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	own, other := uuid.New(), uuid.New()
	err = db.InOrg(ctx, app, own, false, func(ctx context.Context, tx bun.Tx) error {
		return db.RegisterOrganization(ctx, tx, own)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Again: nothing, no error.
	err = db.InOrg(ctx, app, own, false, func(ctx context.Context, tx bun.Tx) error {
		return db.RegisterOrganization(ctx, tx, own)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.InOrg(ctx, app, own, false, func(ctx context.Context, tx bun.Tx) error {
		return db.RegisterOrganization(ctx, tx, other)
	})
	if !isRLSViolation(err) {
		t.Fatalf("registering another organization: %v, want a row-level security violation", err)
	}
	// Without an organization set, none.
	if err := db.RegisterOrganization(ctx, app, other); !isRLSViolation(err) {
		t.Fatalf("registering without an organization: %v", err)
	}
	// No UPDATE on plain PostgreSQL (only Citus's lock of the registry's shard needs it:
	// `citus distribute` grants it, migration 20261220000001 revoked it).
	err = db.InOrg(ctx, app, own, false, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE organizations SET created_at = now() WHERE id = ?", own)
		return err
	})
	if !isRLSViolation(err) {
		t.Fatalf("an UPDATE of the registry: %v, want permission denied", err)
	}
	ids, err := db.Organizations(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ids, own.String()) || slices.Contains(ids, other.String()) {
		t.Fatalf("registry as the server's role: %v; want %s in and %s out", ids, own, other)
	}
}

// isRLSViolation: new row violates row-level security policy (insufficient_privilege).
func isRLSViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42501"
}
