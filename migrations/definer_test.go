package migrations_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/uptrace/bun/dialect/pgdialect"

	"customerservice/internal/testkit/testdb"
)

// Every SECURITY DEFINER function names pg_temp last in its search path, so a table or view
// the caller created in its session never stands in for one the function reads.
func TestMigrations_DefinerFunctionsSearchTemporaryObjectsLast(t *testing.T) {
	owner := openOwner(t, "")
	rows, err := owner.QueryContext(context.Background(), `SELECT p.oid::regprocedure::text, coalesce(array_to_string(p.proconfig, ';'), '')
		FROM pg_proc AS p WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	checked := 0
	for rows.Next() {
		var fn, config string
		if err := rows.Scan(&fn, &config); err != nil {
			t.Fatal(err)
		}
		checked++
		if !strings.Contains(";"+config+";", ";search_path=pg_catalog, public, pg_temp;") {
			t.Errorf("%s: settings %q, want search_path=pg_catalog, public, pg_temp", fn, config)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no SECURITY DEFINER function checked")
	}
}

// The attack the rule above stops: the server's role creates a temporary view named like a
// catalog the search's statistic reader consults (pg_statistic_ext), calling a function of
// its own that fails naming the role it runs as. Before pg_temp was named last, the search
// ran it as the migrations' owner (a superuser): "ran as postgres".
func TestMigrations_ATemporaryViewDoesNotRunAsTheDefinersOwner(t *testing.T) {
	app := testdb.Open(t, testdb.Get(t).AppURL)
	ctx := context.Background()
	tx, err := app.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	for _, stmt := range []string{
		`SELECT set_config('app.current_organization_id', gen_random_uuid()::text, true)`,
		`CREATE FUNCTION pg_temp.intruder() RETURNS boolean LANGUAGE plpgsql AS
		  $$BEGIN RAISE EXCEPTION 'ran as %', current_user; END$$`,
		`CREATE TEMP VIEW pg_statistic_ext AS SELECT * FROM pg_catalog.pg_statistic_ext WHERE pg_temp.intruder()`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	var found int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM customer_search_ids('someone')`).Scan(&found); err != nil {
		t.Fatalf("search with the session's view in place: %v", err)
	}
	if found != 0 {
		t.Fatalf("found %d customers of an organization that has none", found)
	}
	// The view is the session's: an unqualified read of it as the caller does run the intruder.
	if _, err := tx.ExecContext(ctx, `SELECT count(*) FROM pg_statistic_ext`); err == nil ||
		!strings.Contains(err.Error(), "ran as") {
		t.Fatalf("reading the view as the caller: %v, want the intruder's error", err)
	}
}

// customer_tag_ids reads past row-level security (as the definer role), so it applies the
// organization itself: the caller's organization's customers with the tag, none of another's,
// and none when no organization is set.
func TestMigrations_TagIDsAreTheCallersOrganizationsOnly(t *testing.T) {
	owner := openOwner(t, "")
	app := testdb.Open(t, testdb.Get(t).AppURL)
	ctx := context.Background()
	tag := "isolation-" + uuid.NewString()
	orgA, orgB := uuid.New(), uuid.New()
	inA, inB := uuid.New(), uuid.New()
	for _, c := range []struct{ org, id uuid.UUID }{{orgA, inA}, {orgB, inB}} {
		if _, err := owner.ExecContext(ctx, `INSERT INTO customers (organization_id, customer_id, first_name, last_name, tags)
			VALUES (?, ?, 'A', 'B', ARRAY[?]::varchar[])`, c.org, c.id, tag); err != nil {
			t.Fatal(err)
		}
	}
	idsAs := func(org *uuid.UUID, all bool) []string {
		t.Helper()
		tx, err := app.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback() //nolint:errcheck
		if org != nil {
			if _, err := tx.ExecContext(ctx, `SELECT set_config('app.current_organization_id', ?, true)`, org.String()); err != nil {
				t.Fatal(err)
			}
		}
		var ids []string
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(array_agg(id::text ORDER BY id), '{}')
			FROM customer_tag_ids(ARRAY[?, 'another']::varchar[], ?) AS id`, tag, all).Scan(pgdialect.Array(&ids)); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if got := idsAs(&orgA, false); !slices.Equal(got, []string{inA.String()}) {
		t.Errorf("tagsAny as organization A: %v, want [%s]", got, inA)
	}
	if got := idsAs(&orgB, false); !slices.Equal(got, []string{inB.String()}) {
		t.Errorf("tagsAny as organization B: %v, want [%s]", got, inB)
	}
	if got := idsAs(&orgA, true); len(got) != 0 {
		t.Errorf("tagsAll with a tag nobody has, as organization A: %v, want none", got)
	}
	if got := idsAs(nil, false); len(got) != 0 {
		t.Errorf("no organization set: %v, want none", got)
	}
}
