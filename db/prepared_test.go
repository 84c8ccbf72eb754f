package db_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/db"
	"customerservice/internal/testkit/testdb"
)

// ScanPrepared keeps its statement prepared on the connection (planned once per connection),
// except where the pool keeps nothing prepared (PgBouncer in transaction mode); it reads the
// row into a bun model, and no row is sql.ErrNoRows.
func TestScanPrepared_KeepsTheStatementPrepared(t *testing.T) {
	tdb := testdb.Get(t)
	ctx := context.Background()
	org := uuid.New()
	owner := testdb.Open(t, tdb.OwnerURL)
	var id uuid.UUID
	if err := owner.NewRaw("INSERT INTO customers (organization_id, first_name, last_name) VALUES (?, 'Ana', 'Díaz') RETURNING customer_id", org).Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	const stmt = "SELECT c.first_name, c.last_name FROM customers AS c WHERE c.organization_id = $1::uuid AND c.customer_id = $2::uuid"
	type name struct {
		FirstName string `bun:"first_name"`
		LastName  string `bun:"last_name"`
	}
	for _, noPrepare := range []bool{false, true} {
		app, err := db.Open(ctx, tdb.AppURL, db.Options{MaxConns: 1, NoPreparedStatements: noPrepare})
		if err != nil {
			t.Fatal(err)
		}
		defer app.Close()
		for _, who := range []uuid.UUID{id, id, uuid.New()} {
			err := db.InOrg(ctx, app, org, false, func(ctx context.Context, tx bun.Tx) error {
				var got name
				err := db.ScanPrepared(ctx, tx, &got, stmt, org, who)
				if who == id && (err != nil || got != name{"Ana", "Díaz"}) {
					t.Fatalf("read %+v, %v", got, err)
				}
				if who != id && !errors.Is(err, sql.ErrNoRows) {
					t.Fatalf("no row: %v", err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := app.QueryRowContext(ctx, "SELECT count(*) FROM pg_prepared_statements WHERE statement = ?", stmt).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{false: 1, true: 0}[noPrepare]; n != want {
			t.Fatalf("without prepared statements %v: prepared %d times on the connection, want %d", noPrepare, n, want)
		}
	}
}
