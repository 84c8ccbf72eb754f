package db_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"customerservice/db"
	"customerservice/internal/testkit/testdb"
)

// §7 for the pipelined read: the policies see the organization set in the same pipeline, the
// read cannot write, the setting is gone once the pipeline ends, and an error rolls it back.
func TestReadInOrg_IsolatesAndLeavesNothingOnTheConnection(t *testing.T) {
	tdb := testdb.Get(t)
	owner, app := testdb.Open(t, tdb.OwnerURL), testdb.Open(t, tdb.AppURL)
	app.SetMaxOpenConns(1) // every call below reuses the one connection
	h := db.NewHandle(app, nil)
	ctx := context.Background()
	orgA, orgB := uuid.New(), uuid.New()
	for _, org := range []uuid.UUID{orgA, orgA, orgB} {
		if _, err := owner.ExecContext(ctx, `INSERT INTO customers (organization_id, first_name, last_name) VALUES (?, 'A', 'A')`, org); err != nil {
			t.Fatal(err)
		}
	}
	count := func(org uuid.UUID, prepare bool) (n string) {
		t.Helper()
		err := db.ReadInOrg(ctx, h, org, db.Stmt{SQL: "SELECT count(*)::text FROM customers", Prepare: prepare,
			Row: func(v [][]byte) error { n = string(v[0]); return nil }})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, prepare := range []bool{false, true, true} {
		if a, b := count(orgA, prepare), count(orgB, prepare); a != "2" || b != "1" {
			t.Fatalf("prepare %v: org A sees %s, org B sees %s; want 2 and 1", prepare, a, b)
		}
	}

	var setting string
	if err := app.QueryRowContext(ctx, "SELECT coalesce(current_setting('app.current_organization_id', true), '')").Scan(&setting); err != nil {
		t.Fatal(err)
	}
	if setting != "" {
		t.Fatalf("setting leaked to the next use of the connection: %q", setting)
	}

	err := db.ReadInOrg(ctx, h, orgA, db.Stmt{SQL: "INSERT INTO customers (organization_id, first_name, last_name) VALUES ($1, 'X', 'X')",
		Args: []any{orgA.String()}, Row: func([][]byte) error { return nil }})
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("a write through the read path: %v", err)
	}
	if n := count(orgA, false); n != "2" {
		t.Fatalf("after the refused write org A has %s customers", n)
	}
	if err := db.ReadInOrg(ctx, h, uuid.Nil); err == nil {
		t.Fatal("a read without an organization ran")
	}
}

// The tracers given to Open see what bun sends and what a pipeline sends (the test kit's
// statement counts rely on it).
func TestOpen_TracersSeePipelinedStatements(t *testing.T) {
	app, sent := testdb.OpenCounting(t, testdb.Get(t).AppURL)
	before := sent.Count()
	err := db.ReadInOrg(context.Background(), db.NewHandle(app, nil), uuid.New(),
		db.Stmt{SQL: "SELECT 1", Row: func([][]byte) error { return nil }},
		db.Stmt{SQL: "SELECT 2", Row: func([][]byte) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	// On Citus the organization is set in an explicit transaction (BEGIN READ ONLY, two SET
	// LOCALs, JIT off, …, COMMIT: citusOrgSettings), still one round trip.
	want := int64(3)
	if testdb.OnCitus() {
		want = 7
	}
	if n := sent.Count() - before; n != want {
		t.Fatalf("%d statements counted for the settings and two reads, want %d", n, want)
	}
}

// The statements of a pipelined read run with their generic plan and without JIT (see
// pipelineSettings), and the settings end with the pipeline.
func TestReadInOrg_PlansOnceAndWithoutJIT(t *testing.T) {
	tdb := testdb.Get(t)
	app := testdb.Open(t, tdb.AppURL)
	app.SetMaxOpenConns(1)
	h := db.NewHandle(app, nil)
	ctx := context.Background()
	var got string
	err := db.ReadInOrg(ctx, h, uuid.New(), db.Stmt{SQL: "SELECT current_setting('plan_cache_mode') || ' ' || current_setting('jit')",
		Row: func(v [][]byte) error { got = string(v[0]); return nil }})
	// Citus refuses generic plans of parameterized statements on distributed tables
	// (citusPipelineSettings): there only JIT is turned off.
	want := "force_generic_plan off"
	if testdb.OnCitus() {
		want = "auto off"
	}
	if err != nil || got != want {
		t.Fatalf("in the pipeline: %q, %v", got, err)
	}
	if err := app.QueryRowContext(ctx, "SELECT current_setting('plan_cache_mode')").Scan(&got); err != nil || got != "auto" {
		t.Fatalf("after it: %q, %v", got, err)
	}
}

// The settings statement is the same text on every read: it is kept prepared on the
// connection like the statements (parsing and planning it each time cost PostgreSQL a quarter
// of a one-customer read, BENCHMARKS.md), except where prepared statements are off (PgBouncer
// in transaction mode) and on Citus (its settings are SET LOCAL with the organization written
// in: citusOrgSettings).
func TestReadInOrg_KeepsTheSettingsPrepared(t *testing.T) {
	tdb := testdb.Get(t)
	ctx := context.Background()
	for _, noPrepare := range []bool{false, true} {
		app, err := db.Open(ctx, tdb.AppURL, db.Options{MaxConns: 1, NoPreparedStatements: noPrepare})
		if err != nil {
			t.Fatal(err)
		}
		defer app.Close()
		h := db.NewHandle(app, nil)
		for range 2 {
			if err := db.ReadInOrg(ctx, h, uuid.New(), db.Stmt{SQL: "SELECT 1", Row: func([][]byte) error { return nil }}); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := app.QueryRowContext(ctx, "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'SELECT set_config(''app.current_organization_id'', $1, true)%'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		want := 1
		if noPrepare || testdb.OnCitus() {
			want = 0
		}
		if n != want {
			t.Fatalf("without prepared statements %v: the settings prepared %d times on the connection, want %d", noPrepare, n, want)
		}
	}
}
