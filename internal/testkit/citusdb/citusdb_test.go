package citusdb

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// The cluster has two active workers, the migrated schema on the coordinator and the login
// role on every node.
func TestCluster(t *testing.T) {
	c := Get(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var workers int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM citus_get_active_worker_nodes()").Scan(&workers); err != nil {
		t.Fatal(err)
	}
	if workers != 2 {
		t.Errorf("active workers = %d, want 2", workers)
	}
	var customers bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('public.customers') IS NOT NULL").Scan(&customers); err != nil || !customers {
		t.Errorf("customers on the coordinator: %v, %v", customers, err)
	}
	for i := range c.Workers {
		w, err := pgx.Connect(ctx, c.WorkerURL(i))
		if err != nil {
			t.Fatal(err)
		}
		var role bool
		err = w.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = 'customer_service')").Scan(&role)
		w.Close(ctx)
		if err != nil || !role {
			t.Errorf("worker %d: login role: %v, %v", i, role, err)
		}
	}
	app := Open(t, c.AppURL)
	if !app.OnCitus() {
		t.Error("a pool on the coordinator does not see Citus")
	}
}
