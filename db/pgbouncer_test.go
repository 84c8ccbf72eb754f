package db_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/db"
	"customerservice/internal/testkit/pgbouncer"
	"customerservice/internal/testkit/testdb"
)

// §7 behind PgBouncer in transaction mode, on ONE server connection shared by eight client
// connections: the pipelined read (set_config, statements, one Sync, no BEGIN) and the
// transaction of InOrg each run whole on the server connection they started on, their
// organization setting stays theirs, and nothing is left on the connection afterwards.
func TestPgBouncer_ReadsOfInterleavedOrganizationsStayApart(t *testing.T) {
	const role = "customer_service_bouncer_db"
	bounced := pgbouncer.Start(t, testdb.LoginRole(t, role), 1)
	pool, err := db.Open(context.Background(), bounced, db.Options{MaxConns: 8, NoPreparedStatements: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	h := db.NewHandle(pool, nil)
	owner := testdb.Open(t, testdb.Get(t).OwnerURL)
	ctx := context.Background()
	orgs := map[uuid.UUID]string{uuid.New(): "3", uuid.New(): "1"} // organization → its customers
	for org, n := range orgs {
		if _, err := owner.ExecContext(ctx, `INSERT INTO customers (organization_id, first_name, last_name)
			SELECT ?, 'A', 'A' FROM generate_series(1, ?)`, org, n); err != nil {
			t.Fatal(err)
		}
	}

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			i := 0
			for org, want := range orgs {
				for range 25 {
					i++
					// The pipeline, with the statement marked for preparation: sent unnamed.
					var setting, count string
					err := db.ReadInOrg(ctx, h, org, db.Stmt{Prepare: true,
						SQL: "SELECT current_setting('app.current_organization_id'), count(*)::text FROM customers",
						Row: func(v [][]byte) error { setting, count = string(v[0]), string(v[1]); return nil }})
					if err != nil || setting != org.String() || count != want {
						t.Errorf("goroutine %d, pipeline %d: org %s read setting %s and %s customers (want %s), err %v", g, i, org, setting, count, want, err)
						return
					}
					// The transaction.
					err = db.InOrg(ctx, pool, org, true, func(ctx context.Context, tx bun.Tx) error {
						return tx.QueryRowContext(ctx, "SELECT count(*)::text FROM customers").Scan(&count)
					})
					if err != nil || count != want {
						t.Errorf("goroutine %d, transaction %d: org %s saw %s customers (want %s), err %v", g, i, org, count, want, err)
						return
					}
					// Outside both, on whatever server connection: no organization, no rows.
					if err := pool.QueryRowContext(ctx, "SELECT coalesce(current_setting('app.current_organization_id', true), '') || ':' || count(*) FROM customers").
						Scan(&setting); err != nil || setting != ":0" {
						t.Errorf("goroutine %d after %d: a statement outside a read sees setting:rows %q, err %v", g, i, setting, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()

	// Really shared: eight client connections, one server connection.
	var servers int
	if err := owner.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE usename = ?", role).Scan(&servers); err != nil {
		t.Fatal(err)
	}
	clients := pool.Stats().OpenConnections
	if clients < 2 || servers != 1 {
		t.Fatalf("%d client connections over %d server connections: want several over 1", clients, servers)
	}
	t.Logf("%d client connections over %d server connection", clients, servers)
}

// Why DB_PREPARED_STATEMENTS=false exists: a statement prepared through PgBouncer in
// transaction mode lives on one server connection, which other client connections share
// and where it is unknown or clashes. With preparation off the same reads work.
func TestPgBouncer_PreparedStatementsNeedToBeOff(t *testing.T) {
	bounced := pgbouncer.Start(t, testdb.LoginRole(t, "customer_service_bouncer_prepared"), 1)
	read := func(h *db.Handle) error {
		return db.ReadInOrg(context.Background(), h, uuid.New(), db.Stmt{Prepare: true,
			SQL: "SELECT count(*)::text FROM customers", Row: func([][]byte) error { return nil }})
	}
	// Two client connections in turn on the one server connection: the second prepares the
	// statement the first left there.
	twoClients := func(opts db.Options) error {
		opts.MaxConns = 2
		pool, err := db.Open(context.Background(), bounced, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		h := db.NewHandle(pool, nil)
		if err := read(h); err != nil {
			return fmt.Errorf("first client: %w", err)
		}
		first, err := pool.Conn(context.Background()) // the first client's connection, held
		if err != nil {
			t.Fatal(err)
		}
		defer first.Close()
		if err := read(h); err != nil {
			return fmt.Errorf("second client: %w", err)
		}
		return nil
	}
	err := twoClients(db.Options{})
	if err == nil || !strings.Contains(err.Error(), "second client") || !strings.Contains(err.Error(), "prepared statement") {
		t.Fatalf("prepared statements through PgBouncer in transaction mode: %v; want the second client to fail on the prepared statement", err)
	}
	t.Logf("prepared statements on: %v", err)
	if err := twoClients(db.Options{NoPreparedStatements: true}); err != nil {
		t.Fatalf("with prepared statements off: %v", err)
	}
}
